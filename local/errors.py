"""The local stack's exceptions, in one place."""

from __future__ import annotations

from local.cfn import TemplateError

__all__ = [
    "FunctionError",
    "FunctionTimeoutError",
    "InvocationError",
    "LocalStackError",
    "PortInUseError",
    "TemplateError",
    "WorkerCrashedError",
]


class LocalStackError(Exception):
    """Base of every error the local stack raises on purpose."""


class PortInUseError(LocalStackError):
    """A port the stack must listen on is taken by another program."""

    def __init__(self, port: int, setting: str) -> None:
        super().__init__(f"port {port} is already in use; set {setting}=... to use another")
        self.port = port
        self.setting = setting


class InvocationError(LocalStackError):
    """A function invocation failed the way a Lambda invocation fails."""

    def __init__(self, function_id: str, error_type: str, message: str) -> None:
        super().__init__(f"{function_id}: {error_type}: {message}")
        self.function_id = function_id
        self.error_type = error_type
        self.message = message


class FunctionError(InvocationError):
    """The handler raised, or its module could not be initialised; the worker lives on."""

    def __init__(self, function_id: str, payload: dict[str, object]) -> None:
        super().__init__(
            function_id,
            str(payload.get("errorType", "Error")),
            str(payload.get("errorMessage", "")),
        )
        self.payload = payload


class FunctionTimeoutError(InvocationError):
    """The handler ran past the function's Timeout; its worker was killed."""


class WorkerCrashedError(InvocationError):
    """The worker process died mid-invocation; it is replaced on the next call."""
