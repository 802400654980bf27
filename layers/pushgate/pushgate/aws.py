"""AWS clients, built on first use (never at import, so cold starts and tests stay cheap)."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def client(service_name: str) -> Any:
    """A boto3 client shared by the container. Endpoint and region come from the
    environment (`AWS_ENDPOINT_URL` points it at the local emulator). Its connection pool
    holds as many calls as the deliver function has threads (`pushgate.delivery.threads`;
    botocore's default is 10)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        service_name,
        config=Config(
            retries={"mode": "standard", "max_attempts": 4},
            connect_timeout=3,
            max_pool_connections=32,
        ),
    )
