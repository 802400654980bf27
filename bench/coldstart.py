"""Cold start: a fresh interpreter importing each function module, beside `import boto3`.

Each import runs in its own `python -I -S` process whose path is what Lambda gives the
function: its code folder, the layer (the `pushgate` package), and a site folder holding only
the distributions the layer installs (`layers/pushgate/requirements.txt` and their
dependencies) plus the runtime's boto3 - linked from .venv, so the dev tools installed there
(rich, awscrt, moto...) cannot be imported by accident and counted. The environment is a
deployed function's: template variables, Lambda's own, and tracing enabled (the template's
`Tracing: Active`). Bytecode is cached under a scratch `pycache_prefix` warmed by one
discarded round, so no candidate pays for compiling (Lambda layers ship sources only, so a
real first cold start may also compile; that is beside this comparison).

`libraries` imports what an HTTP function needs before pushgate's own code runs (boto3,
pydantic's BaseModel and types, PynamoDB, httpx, cryptography's AEAD, PyJWT, Powertools'
logger, metrics and tracer (the X-Ray SDK), its HTTP resolver and the request validation it
builds with `enable_validation=True`); `worker_libraries` what an SQS worker needs (the same
without the resolver and PyJWT, with Powertools' batch processor, imported first as
pushgate.worker does).
Each is the floor its functions stand on; a function is measured over the floor of its kind.

Times are the child's CPU time (user + system: other work on the machine barely moves it,
unlike wall-clock time; imports here wait on no I/O but the page cache) from just before the
first import to just after the last statement (`import app` runs the module: pushgate's own
import and init), so the interpreter's own start-up is excluded; `interpreter_start_ms` (a
child that runs `pass`, wall clock seen from the parent) is printed beside it for scale.
Median of ROUNDS rounds that run every candidate once, in rotating order; ratios are taken
per round against that round's `import boto3`. `<name>_import_ms` is the function alone,
its whole cold import. `<name>_own_over_boto3`, the target, is pushgate's own cost in units of
`import boto3`: a second child imports the function's floor, then `import app`, timing the
two apart, so the figure is what `import app` costs once its libraries are loaded (measured
in one process, not the difference of two processes' medians, which moved by +-0.3x boto3
from run to run on a loaded machine). Peak memory is the process's peak RSS (VmHWM) after
the import of the function alone.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from packaging.requirements import Requirement

from scripts import layer_lock

REPO = Path(__file__).resolve().parent.parent
LAYER = REPO / "layers" / "pushgate"
# Every function of template.yaml (tests/unit/test_bench_coldstart.py keeps the list whole).
FUNCTIONS = (
    "approval_timeouts",
    "approvals",
    "broadcast_fanout",
    "config",
    "console",
    "decisions",
    "deliver",
    "interactions",
    "ntfy",
    "ntfy_cleanup",
    "receipts",
    "register",
    "send",
    "unregister",
)
WORKERS = frozenset(
    {"approval_timeouts", "broadcast_fanout", "deliver", "ntfy_cleanup", "receipts"}
)
# The python3.13 Lambda runtime's own SDK (it also ships s3transfer, jmespath, dateutil...).
RUNTIME_PACKAGES = ("boto3",)
ROUNDS = 7
_COMMON = (
    "import boto3",
    # BaseModel and the constrained types every model module uses (StrictStr, HttpUrl...:
    # pydantic.types, which loads annotated_types).
    "from pydantic import BaseModel, StrictStr",
    "import pynamodb.models",
    "import httpx",
    "import cryptography.hazmat.primitives.ciphers.aead",
    "import aws_lambda_powertools.logging",
    "import aws_lambda_powertools.metrics",
    "import aws_lambda_powertools.tracing",
    "import aws_xray_sdk.core",
)
# What an HTTP function imports before any pushgate code runs: the floor of this stack.
LIBRARIES = (
    *_COMMON,
    "import jwt",
    "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver",
    "import aws_lambda_powertools.event_handler.middlewares.openapi_validation",
)
# An SQS worker's floor: the batch processor first (see pushgate.worker), no HTTP router.
WORKER_LIBRARIES = ("import aws_lambda_powertools.utilities.batch", *_COMMON)
MAX_OWN_OVER_BOTO3 = 0.25
_PROBE = """
import sys, time
sys.path[:0] = {paths!r}
{floor}
started = time.process_time()
{statements}
elapsed = time.process_time() - started
import json
# VmHWM, not ru_maxrss: a child that subprocess started with vfork keeps the parent's
# high-water mark in ru_maxrss across exec.
with open("/proc/self/status") as status:
    rss_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({{"s": elapsed, "rss_kb": rss_kb}}))
"""


def run() -> dict[str, float | str]:
    with tempfile.TemporaryDirectory() as scratch:
        site = Path(scratch, "site")
        _link_site(site, _closure(_layer_requirements() + list(RUNTIME_PACKAGES)))
        pycache = Path(scratch, "pycache")
        none: tuple[str, ...] = ()
        candidates: dict[str, tuple[list[str], tuple[str, ...], tuple[str, ...]]] = {
            "interpreter": ([str(site)], none, ("pass",)),
            "boto3": ([str(site)], none, ("import boto3",)),
            "libraries": ([str(site)], none, LIBRARIES),
            "worker_libraries": ([str(site)], none, WORKER_LIBRARIES),
        }
        for name in FUNCTIONS:
            paths = [str(REPO / "functions" / name), str(LAYER), str(site)]
            floor = WORKER_LIBRARIES if name in WORKERS else LIBRARIES
            candidates[name] = (paths, none, ("import app",))
            candidates[f"{name}:own"] = (paths, floor, ("import app",))
        env = _lambda_env()
        samples: dict[str, list[tuple[float, int, float]]] = {name: [] for name in candidates}
        names = list(candidates)
        for round_number in range(ROUNDS + 1):
            shift = round_number % len(names)
            for name in names[shift:] + names[:shift]:
                paths, floor, statements = candidates[name]
                sample = _probe(paths, floor, statements, env, pycache)
                if round_number:  # round 0 only fills the bytecode cache
                    samples[name].append(sample)

    def ms(name: str) -> float:
        return round(statistics.median(s for s, _, _ in samples[name]) * 1000, 1)

    def rss_mb(name: str) -> float:
        return round(statistics.median(r for _, r, _ in samples[name]) / 1024, 1)

    boto3_s = [s for s, _, _ in samples["boto3"]]
    figures: dict[str, float | str] = {
        "interpreter_start_ms": round(
            statistics.median(w for _, _, w in samples["interpreter"]) * 1000, 1
        ),
        "boto3_import_ms": ms("boto3"),
        "boto3_max_rss_mb": rss_mb("boto3"),
    }
    for floor in ("libraries", "worker_libraries"):
        seconds = [s for s, _, _ in samples[floor]]
        figures[f"{floor}_import_ms"] = ms(floor)
        figures[f"{floor}_over_boto3"] = round(
            statistics.median(s / b for s, b in zip(seconds, boto3_s, strict=True)), 2
        )
        figures[f"{floor}_max_rss_mb"] = rss_mb(floor)
    worst = 0.0
    for name in FUNCTIONS:
        own_s = [s for s, _, _ in samples[f"{name}:own"]]
        own = statistics.median(s / b for s, b in zip(own_s, boto3_s, strict=True))
        worst = max(worst, own)
        figures[f"{name}_import_ms"] = ms(name)
        figures[f"{name}_own_ms"] = ms(f"{name}:own")
        figures[f"{name}_own_over_boto3"] = round(own, 2)
        figures[f"{name}_max_rss_mb"] = rss_mb(name)
    figures["worst_own_over_boto3"] = round(worst, 2)
    figures["target:own_import<=0.25x_boto3"] = "met" if worst <= MAX_OWN_OVER_BOTO3 else "MISSED"
    return figures


def _probe(
    paths: list[str],
    floor: tuple[str, ...],
    statements: tuple[str, ...],
    env: dict[str, str],
    pycache: Path,
) -> tuple[float, int, float]:
    """(CPU seconds `statements` took inside the child, after `floor` ran untimed; its peak
    RSS in kB; the child's whole wall-clock life seen from here in seconds)."""
    started = time.perf_counter()
    completed = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-X",
            f"pycache_prefix={pycache}",
            "-c",
            _PROBE.format(
                paths=paths, floor="\n".join(floor) or "pass", statements="\n".join(statements)
            ),
        ],
        env=env,
        cwd=paths[0],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"running {statements} from {paths[0]} failed:\n{completed.stderr}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    return float(result["s"]), int(result["rss_kb"]), wall


def _lambda_env() -> dict[str, str]:
    """A deployed function's environment, as far as importing can tell (names are fake)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": "/var/task",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_NAME": "pushgate-bench",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "_X_AMZN_TRACE_ID": "Root=1-00000000-000000000000000000000000;Sampled=1",
        "POWERTOOLS_SERVICE_NAME": "pushgate",
        "POWERTOOLS_METRICS_NAMESPACE": "Pushgate",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "APPS_TABLE_NAME": "Apps",
        "DEVICES_TABLE_NAME": "Devices",
        "NOTIFICATIONS_TABLE_NAME": "Notifications",
        "DELIVERY_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/Delivery",
        "RECEIPT_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/Receipts",
    }


def _layer_requirements() -> list[str]:
    """`name==version` of every distribution the layer ships, from its lock."""
    return [f"{name}=={version}" for name, version in layer_lock.read_pins(layer_lock.LOCK).items()]


def _closure(requirements: list[str]) -> set[str]:
    """Distribution names needed by `requirements` (with their extras), recursively."""
    seen: set[str] = set()
    pending = [Requirement(text) for text in requirements]
    while pending:
        requirement = pending.pop()
        name = requirement.name.lower().replace("_", "-")
        key = f"{name}[{','.join(sorted(requirement.extras))}]"
        if key in seen:
            continue
        seen.add(key)
        distribution = importlib.metadata.distribution(name)
        for text in distribution.requires or []:
            dependency = Requirement(text)
            if dependency.marker is None or any(
                dependency.marker.evaluate({"extra": extra}) for extra in requirement.extras or {""}
            ):
                pending.append(dependency)
    return {key.split("[")[0] for key in seen}


def _link_site(site: Path, distributions: set[str]) -> None:
    site.mkdir()
    for name in distributions:
        distribution = importlib.metadata.distribution(name)
        root = Path(str(distribution.locate_file("")))
        for top in {file.parts[0] for file in distribution.files or [] if file.parts}:
            if top in ("..", "__pycache__") or top.endswith(".pth"):
                continue
            target = site / top
            if not target.exists():
                target.symlink_to(root / top)
