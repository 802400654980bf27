"""The Docker-free local stack (`make run`): template.yaml's tables, queues and keys in an
in-process AWS emulator (moto), every function in Lambda-like worker processes behind an
API Gateway HTTP API (payload v2.0) look-alike, SQS pollers, and a development JWT issuer.

A development tool only: nothing here is deployed.
"""

from local.errors import (
    FunctionError,
    FunctionTimeoutError,
    InvocationError,
    LocalStackError,
    PortInUseError,
    TemplateError,
    WorkerCrashedError,
)

__all__ = [
    "FunctionError",
    "FunctionTimeoutError",
    "InvocationError",
    "LocalStack",
    "LocalStackError",
    "PortInUseError",
    "TemplateError",
    "WorkerCrashedError",
]


def __getattr__(name: str) -> object:
    # LocalStack pulls in boto3 and moto; import it on first use so `local.cfn` & co. stay cheap.
    if name == "LocalStack":
        from local.stack import LocalStack

        return LocalStack
    raise AttributeError(f"module 'local' has no attribute {name!r}")
