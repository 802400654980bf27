"""What every table model shares: its name comes from settings when first used, not at import."""

from __future__ import annotations

import os
from typing import ClassVar

from pushgate.settings import Settings, get_settings


class LazyTableMeta(type):
    """PynamoDB reads `Meta.table_name` on each connection; this reads it from settings then.

    The endpoint is botocore's own `AWS_ENDPOINT_URL` handling, as for every boto3 client."""

    settings_field: ClassVar[str]

    @property
    def table_name(cls) -> str:
        return getattr(get_settings(), cls.settings_field)

    @property
    def region(cls) -> str | None:
        return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


def table_meta(settings_field: str) -> type:
    """A PynamoDB `Meta` class whose table name is `Settings.<settings_field>`."""
    if settings_field not in Settings.model_fields:
        raise ValueError(f"unknown settings field {settings_field}")
    return LazyTableMeta("Meta", (), {"settings_field": settings_field})
