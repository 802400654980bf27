"""The import contract of the layer and the functions: no import cycle between modules, and no
import that runs back up the layers (entry points -> domain services -> infrastructure ->
foundation). Every import counts, those inside functions too: an import inside a function is
for cold start only, never to hide a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "layers" / "pushgate" / "pushgate"

# Lowest first. A module may import from its own layer and the ones below it.
LAYERS: tuple[tuple[str, ...], ...] = (
    # foundation: settings, the one clock, ids and errors, logging/metrics, AWS clients, pure
    # crypto and URL rules
    (
        "pushgate.settings",
        "pushgate.clock",
        "pushgate.ids",
        "pushgate.errors",
        "pushgate.observability",
        "pushgate.aws",
        "pushgate.crypto",
        "pushgate.urls",
        "pushgate.vapid_subject",
        "pushgate.retry_policy",
    ),
    # infrastructure: field sealing, the tables, queues, outbound HTTP, the providers, tokens
    (
        "pushgate.sealing",
        "pushgate.storage",
        "pushgate.queues",
        "pushgate.outbound",
        "pushgate.providers",
        "pushgate.auth",
    ),
    # domain services and their models
    (
        "pushgate.policy",
        "pushgate.audit",
        "pushgate.apps",
        "pushgate.devices",
        "pushgate.notifications",
        "pushgate.delivery",
        "pushgate.receipts",
        "pushgate.takos",
        "pushgate.managed_ntfy",
        "pushgate.rate_limits",
        "pushgate.capabilities",
        "pushgate.approvals",
        "pushgate.interactions",
        "pushgate.broadcasts",
    ),
    # entry points: the HTTP resolver and its parameters, the SQS worker
    # (and the SnapStart hooks they install)
    (
        "pushgate.api",
        "pushgate.params",
        "pushgate.worker",
        "pushgate.console",
        "pushgate.snapstart",
    ),
    # the Lambda functions
    ("functions",),
)


def _module_name(path: Path) -> str:
    if path.is_relative_to(PACKAGE):
        parts = ("pushgate", *path.relative_to(PACKAGE).with_suffix("").parts)
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    return f"functions.{path.parent.name}"


def _modules() -> dict[str, Path]:
    found = {_module_name(p): p for p in PACKAGE.rglob("*.py") if p != PACKAGE / "__init__.py"}
    found |= {_module_name(p): p for p in (REPO / "functions").glob("*/app.py")}
    return found


def _imports(path: Path, known: set[str]) -> set[str]:
    """The pushgate modules `path` imports (a `from package import name` counts the submodule
    when `name` is one)."""
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module)
            imported |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in imported if name in known}


def _layer(module: str) -> int:
    for index, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(path, known) - {name} for name, path in modules.items()}


def test_layers_every_module_has_a_layer():
    assert all(_layer(module) >= 0 for module in _modules())


def test_layers_no_import_runs_back_up_the_layers():
    upward = sorted(
        f"{importer} (layer {_layer(importer)}) imports {imported} (layer {_layer(imported)})"
        for importer, imports in _graph().items()
        for imported in imports
        if _layer(imported) > _layer(importer)
    )
    assert upward == []


def test_layers_no_module_import_cycle():
    graph = _graph()
    # A package's __init__ re-exporting its own modules is not a cycle of the code's making.
    edges = {
        module: {i for i in imports if not module.startswith(i + ".")}
        for module, imports in graph.items()
    }
    assert _cycles(edges) == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_layers_the_checker_finds_a_cycle_and_an_upward_import():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _layer("pushgate.storage.apps") < _layer("pushgate.apps.service")


# What only the repositories may know of the database: the client libraries, the PynamoDB
# models (`*Record`), their helpers, and the exceptions and error codes they raise.
_DATABASE_MODULES = ("pynamodb", "botocore")
_STORAGE_INTERNALS = frozenset({"transaction", "is_condition_failure", "table_meta"})
_DATABASE_NAMES = frozenset({"DoesNotExist", "PynamoDBException", "ClientError"})
_DATABASE_CODES = ("ConditionalCheckFailed", "TransactionCanceled")


def _database_names(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith(_DATABASE_MODULES)]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith(_DATABASE_MODULES):
                found.append(node.module)
            elif node.module.startswith("pushgate.storage"):
                found += [
                    f"{node.module}.{a.name}"
                    for a in node.names
                    if a.name.endswith("Record") or a.name in _STORAGE_INTERNALS
                ]
        elif isinstance(node, ast.Attribute) and (
            node.attr in _DATABASE_NAMES or node.attr.endswith("Record")
        ):
            found.append(node.attr)
        elif isinstance(node, ast.Name) and node.id in _DATABASE_NAMES:
            found.append(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found += [code for code in _DATABASE_CODES if code in node.value]
    return found


def test_layers_only_the_repositories_know_the_database():
    outside = {
        name: found
        for name, path in _modules().items()
        if not (name.startswith("pushgate.storage") or name == "pushgate.aws")
        and (found := _database_names(path))
    }
    assert outside == {}


def test_layers_the_database_check_sees_a_model_an_exception_and_a_code(tmp_path):
    leaky = tmp_path / "leaky.py"
    leaky.write_text(
        "from pushgate.storage.apps import AppRecord\n"
        "from pynamodb.exceptions import UpdateError\n"
        "try:\n    AppRecord.get('x')\nexcept AppRecord.DoesNotExist:\n    pass\n"
        "code = 'ConditionalCheckFailedException'\n"
    )
    assert sorted(_database_names(leaky)) == sorted(
        [
            "pushgate.storage.apps.AppRecord",
            "pynamodb.exceptions",
            "DoesNotExist",
            "ConditionalCheckFailed",
        ]
    )


def test_layers_handlers_leave_authorisation_to_the_services():
    """One policy, called the same way from every route: the service a handler calls
    authorises its caller, so no handler calls the policy itself (and none can forget)."""
    handlers = {n: p for n, p in _modules().items() if n.startswith("functions.")}
    calling_policy = sorted(
        name
        for name, path in handlers.items()
        if "pushgate.policy" in _imports(path, {"pushgate.policy"})
    )
    assert calling_policy == []
