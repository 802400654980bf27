"""Audit trail: one JSON log line per change, naming who, what and which app, never values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pushgate.auth import Principal
from pushgate.observability import logger


def record_change(
    action: str,
    *,
    principal: Principal | None,
    app_id: str,
    fields: Iterable[str] = (),
    ids: Mapping[str, str] | None = None,
) -> None:
    """Log an audit line. `fields` are attribute names only: values may be secrets; `ids`
    name what changed (an approval, a device), never a token."""
    logger.info(
        "audit",
        extra={
            "audit": True,
            "action": action,
            "app_id": app_id,
            "actor_type": principal.kind if principal else "system",
            "actor": principal.subject if principal else "pushgate",
            "fields": sorted(fields),
            **(ids or {}),
        },
    )
