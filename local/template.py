"""What the local stack runs, read from the template: functions, HTTP routes, SQS sources."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.cfn import Resolver, TemplateError

__all__ = [
    "DEFAULT_ROUTE",
    "FunctionSpec",
    "HttpRoute",
    "SqsEventSource",
    "active_resources",
    "parameters_from_environment",
    "read_environment",
    "read_functions",
    "read_http_routes",
    "read_sqs_sources",
]

logger = logging.getLogger(__name__)

FUNCTION_TYPES = ("AWS::Serverless::Function",)
DEFAULT_ROUTE = "$default"


@dataclass(frozen=True)
class FunctionSpec:
    """One function as Lambda would run it locally."""

    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    layer_dirs: tuple[Path, ...]
    timeout: float
    memory_size: int
    runtime: str
    variables: Mapping[str, str]


@dataclass(frozen=True)
class HttpRoute:
    """An `HttpApi` event: `method` is upper-case or `ANY`; `path` may be `$default`."""

    method: str
    path: str
    function_id: str

    @property
    def route_key(self) -> str:
        return DEFAULT_ROUTE if self.path == DEFAULT_ROUTE else f"{self.method} {self.path}"


@dataclass(frozen=True)
class SqsEventSource:
    """An `SQS` event: the queue ARN and the batch settings Lambda's poller would use."""

    function_id: str
    queue_arn: str
    batch_size: int = 10
    batching_window: float = 0.0
    report_batch_item_failures: bool = False
    maximum_concurrency: int | None = None


def active_resources(template: Mapping[str, Any], resolver: Resolver) -> dict[str, dict[str, Any]]:
    """The template's resources whose `Condition` (if any) holds."""
    active = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if not isinstance(resource, dict):
            raise TemplateError(f"resource {logical_id} is not a mapping")
        condition = resource.get("Condition")
        if condition is None or resolver.condition(condition):
            active[logical_id] = resource
    return active


def _functions(resources: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in resources.items()
        if resource.get("Type") in FUNCTION_TYPES
    }


def read_functions(
    resources: Mapping[str, Any],
    resolver: Resolver,
    *,
    base_dir: Path,
) -> dict[str, FunctionSpec]:
    """Every Python zip function, with Globals already merged by `load_template`."""
    specs = {}
    for logical_id, resource in _functions(resources).items():
        props = resource.get("Properties") or {}
        runtime = str(props.get("Runtime", ""))
        code_uri = props.get("CodeUri")
        if props.get("PackageType") == "Image" or not runtime.startswith("python"):
            logger.warning("%s: only Python zip functions run locally; skipped", logical_id)
            continue
        if not isinstance(code_uri, str):
            logger.warning("%s: CodeUri must be a local folder to run locally; skipped", logical_id)
            continue
        handler = props.get("Handler")
        if not isinstance(handler, str) or "." not in handler:
            raise TemplateError(f"{logical_id}: Handler must look like module.function")
        specs[logical_id] = FunctionSpec(
            logical_id=logical_id,
            name=str(resolver.ref(logical_id)),
            arn=str(resolver.get_att(logical_id, "Arn")),
            code_dir=(base_dir / code_uri).resolve(),
            handler=handler,
            layer_dirs=_layer_dirs(logical_id, props.get("Layers") or [], resources, base_dir),
            timeout=float(resolver.resolve(props.get("Timeout", 3))),
            memory_size=int(resolver.resolve(props.get("MemorySize", 128))),
            runtime=runtime,
            variables=read_environment(props, resolver),
        )
    return specs


def _layer_dirs(
    function_id: str, layers: list[Any], resources: Mapping[str, Any], base_dir: Path
) -> tuple[Path, ...]:
    """Local folders of the layers the template declares (`!Ref SomeLayer`); layers given as
    ARNs have no local content and are skipped."""
    dirs = []
    for layer in layers:
        layer_id = layer.get("Ref") if isinstance(layer, dict) else None
        resource = resources.get(layer_id) if isinstance(layer_id, str) else None
        content = (resource or {}).get("Properties", {}).get("ContentUri")
        if not isinstance(content, str):
            logger.debug("%s: layer %r has no local content; skipped", function_id, layer)
            continue
        layer_dir = (base_dir / content).resolve()
        # A built layer keeps Python packages under python/; the source layout has them at the
        # top (SAM's BuildMethod creates python/ at build time).
        dirs.append(layer_dir / "python" if (layer_dir / "python").is_dir() else layer_dir)
    return tuple(dirs)


def parameters_from_environment(
    template: Mapping[str, Any], environ: Mapping[str, str], *, excluded: Collection[str] = ()
) -> dict[str, str]:
    """Template parameters given through the variables they feed: for every function variable
    set to a bare parameter (`VAR: !Ref Param`, Globals merged), `environ[VAR]` becomes the
    parameter's value. Variables in `excluded` are skipped; the first variable found wins
    when two feed one parameter."""
    declared = template.get("Parameters") or {}
    values: dict[str, str] = {}
    for resource in _functions(template.get("Resources") or {}).values():
        props = resource.get("Properties") or {}
        variables = (props.get("Environment") or {}).get("Variables") or {}
        for name, value in variables.items():
            parameter = value.get("Ref") if isinstance(value, dict) and len(value) == 1 else None
            if parameter in declared and name in environ and name not in excluded:
                values.setdefault(parameter, environ[name])
    return values


def read_environment(props: Mapping[str, Any], resolver: Resolver) -> dict[str, str]:
    """`Environment.Variables` of function properties (or of Globals.Function), resolved."""
    variables = resolver.resolve((props.get("Environment") or {}).get("Variables") or {})
    return {key: _env_text(value) for key, value in variables.items()}


def _env_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        raise TemplateError(f"environment values must be scalars, got {value!r}")
    return str(value)


def read_http_routes(resources: Mapping[str, Any]) -> list[HttpRoute]:
    """Every `HttpApi` event of every function (all APIs share the local server)."""
    routes: dict[str, HttpRoute] = {}
    for logical_id, resource in _functions(resources).items():
        for name, event in ((resource.get("Properties") or {}).get("Events") or {}).items():
            if not isinstance(event, dict) or event.get("Type") != "HttpApi":
                continue
            props = event.get("Properties") or {}
            path = props.get("Path", DEFAULT_ROUTE)
            method = str(props.get("Method", "ANY")).upper()
            if not isinstance(path, str) or not (path == DEFAULT_ROUTE or path.startswith("/")):
                raise TemplateError(f"{logical_id}.{name}: Path must start with /")
            route = HttpRoute(method=method, path=path, function_id=logical_id)
            if route.route_key in routes:
                logger.warning("%s: route %s already served; ignored", logical_id, route.route_key)
                continue
            routes[route.route_key] = route
    return list(routes.values())


def read_sqs_sources(resources: Mapping[str, Any], resolver: Resolver) -> list[SqsEventSource]:
    """Every enabled `SQS` event of every function."""
    sources = []
    for logical_id, resource in _functions(resources).items():
        for event in ((resource.get("Properties") or {}).get("Events") or {}).values():
            if not isinstance(event, dict) or event.get("Type") != "SQS":
                continue
            props = resolver.resolve(event.get("Properties") or {})
            if str(props.get("Enabled", True)).lower() == "false":
                continue
            scaling = props.get("ScalingConfig") or {}
            sources.append(
                SqsEventSource(
                    function_id=logical_id,
                    queue_arn=str(props["Queue"]),
                    batch_size=int(props.get("BatchSize", 10)),
                    batching_window=float(props.get("MaximumBatchingWindowInSeconds", 0)),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in (props.get("FunctionResponseTypes") or []),
                    maximum_concurrency=(
                        int(scaling["MaximumConcurrency"])
                        if "MaximumConcurrency" in scaling
                        else None
                    ),
                )
            )
    return sources
