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

`libraries` imports what every function needs before pushgate's own code runs (boto3,
pydantic, PynamoDB, httpx, cryptography, Powertools' logger and metrics, the X-Ray SDK): the
floor this stack sets. The time is the `import` statement itself (interpreter start-up
excluded), median of ROUNDS rounds that run every candidate once, in rotating order; the
ratio is taken per round. Peak memory is the process's peak RSS (VmHWM) after the import.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parent.parent
LAYER = REPO / "layers" / "pushgate"
FUNCTIONS = ("config", "deliver", "receipts", "register", "send", "unregister")
# The python3.13 Lambda runtime's own SDK (it also ships s3transfer, jmespath, dateutil...).
RUNTIME_PACKAGES = ("boto3",)
ROUNDS = 7
# What every function imports before any pushgate code runs: the floor of this stack.
LIBRARIES = (
    "boto3, pydantic, pynamodb.models, httpx, cryptography.hazmat.primitives.ciphers.aead, "
    "aws_lambda_powertools.logging, aws_lambda_powertools.metrics, aws_xray_sdk.core"
)
MAX_RATIO = 1.25
_PROBE = """
import sys, time
sys.path[:0] = {paths!r}
started = time.perf_counter()
import {module}
elapsed = time.perf_counter() - started
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
        candidates = {
            "boto3": ([str(site)], "boto3"),
            "libraries": ([str(site)], LIBRARIES),
        } | {
            name: ([str(REPO / "functions" / name), str(LAYER), str(site)], "app")
            for name in FUNCTIONS
        }
        env = _lambda_env()
        samples: dict[str, list[tuple[float, int]]] = {name: [] for name in candidates}
        names = list(candidates)
        for round_number in range(ROUNDS + 1):
            shift = round_number % len(names)
            for name in names[shift:] + names[:shift]:
                paths, module = candidates[name]
                sample = _probe(paths, module, env, pycache)
                if round_number:  # round 0 only fills the bytecode cache
                    samples[name].append(sample)

    figures: dict[str, float | str] = {}
    boto3_s = [s for s, _ in samples["boto3"]]
    figures["boto3_import_ms"] = round(statistics.median(boto3_s) * 1000, 1)
    figures["boto3_max_rss_mb"] = round(statistics.median(r for _, r in samples["boto3"]) / 1024, 1)
    libraries_s = [s for s, _ in samples["libraries"]]
    figures["libraries_import_ms"] = round(statistics.median(libraries_s) * 1000, 1)
    figures["libraries_over_boto3"] = round(
        statistics.median(s / b for s, b in zip(libraries_s, boto3_s, strict=True)), 2
    )
    worst = 0.0
    for name in FUNCTIONS:
        seconds = [s for s, _ in samples[name]]
        ratio = statistics.median(s / b for s, b in zip(seconds, boto3_s, strict=True))
        worst = max(worst, ratio)
        figures[f"{name}_import_ms"] = round(statistics.median(seconds) * 1000, 1)
        figures[f"{name}_over_boto3"] = round(ratio, 2)
        figures[f"{name}_max_rss_mb"] = round(
            statistics.median(r for _, r in samples[name]) / 1024, 1
        )
    figures["target:import<=1.25x_boto3"] = "met" if worst <= MAX_RATIO else "MISSED"
    return figures


def _probe(paths: list[str], module: str, env: dict[str, str], pycache: Path) -> tuple[float, int]:
    completed = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-X",
            f"pycache_prefix={pycache}",
            "-c",
            _PROBE.format(paths=paths, module=module),
        ],
        env=env,
        cwd=paths[0],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"importing {module} from {paths[0]} failed:\n{completed.stderr}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    return float(result["s"]), int(result["rss_kb"])


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
    """`name==version` of every distribution the layer ships, from its lock: a pin starts its
    line; the `--hash` continuation lines and `# via` comments below it are indented."""
    lines = (LAYER / "requirements.txt").read_text().splitlines()
    return [line.split(";")[0].split()[0] for line in lines if line[:1].isalnum()]


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
