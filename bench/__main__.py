"""`make bench`: run each bench module, print one table, write bench/results.json.

A bench module exposes `run() -> dict[str, float | str]`. Keys starting with `target:` carry
"met" or "MISSED"; any MISSED makes the run exit 1. `python -m bench crypto` runs only the
named benches.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

BENCHES: tuple[str, ...] = (
    "crypto",
    "fanout",
    "httpclients",
    "coldstart",
    "cost",
    "layer",
    "stack",
)
RESULTS_PATH = Path(__file__).with_name("results.json")
TARGET_PREFIX = "target:"
MISSED = "MISSED"


def main(argv: list[str]) -> int:
    unknown = [name for name in argv if name not in BENCHES]
    if unknown:
        print(f"unknown bench {', '.join(unknown)}; known: {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    machine = _machine()
    print("# " + ", ".join(f"{key} {value}" for key, value in machine.items()))
    results: dict[str, dict[str, float | str]] = {}
    load: dict[str, str] = {}
    for name in argv or BENCHES:
        started, load_before = time.perf_counter(), _load_average()
        results[name] = importlib.import_module(f"bench.{name}").run()
        # Other work on the machine slows every candidate; the load says how much there was.
        load[name] = f"{load_before} -> {_load_average()}"
        print(f"# {name} ({time.perf_counter() - started:.1f} s, load average {load[name]})")
        _print_table(results[name])
    RESULTS_PATH.write_text(
        json.dumps(
            {
                **machine,
                "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "load_average_1m": load,
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS_PATH}")
    missed = [
        f"{bench}: {key.removeprefix(TARGET_PREFIX)}"
        for bench, figures in results.items()
        for key, value in figures.items()
        if key.startswith(TARGET_PREFIX) and value == MISSED
    ]
    for line in missed:
        print(f"target missed - {line}", file=sys.stderr)
    return 1 if missed else 0


def _machine() -> dict[str, str]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu": model,
        "nproc": str(len(os.sched_getaffinity(0))),
    }


def _load_average() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def _print_table(figures: dict[str, float | str]) -> None:
    width = max(len(key) for key in figures)
    for key, value in figures.items():
        shown = f"{value:,.2f}" if isinstance(value, float) else str(value)
        print(f"  {key:<{width}}  {shown:>12}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
