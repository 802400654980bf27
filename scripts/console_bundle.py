"""Copies what the console function serves from elsewhere in the repository into
functions/console/bundle/, so that `sam build` (which packages a function's own folder only)
ships it: openapi.json, and the web client's scripts from clients/web/ when that folder exists.

`python -m scripts.console_bundle --write` refreshes the copies (`make openapi` does too);
without `--write` it exits 1 when a copy differs from its source, is missing, or has no source
any more (tests/unit/test_console_bundle.py runs the same comparison).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "functions" / "console" / "bundle"
WEB_CLIENT = ROOT / "clients" / "web"


def sources() -> dict[str, Path]:
    """Each bundled file (relative to the bundle) and its source. clients/web/ may not exist
    yet: then the console serves no web client (404 at /console/lib/pushgate.js)."""
    files = {"openapi.json": ROOT / "openapi.json"}
    if WEB_CLIENT.is_dir():
        files.update({f"web/{path.name}": path for path in sorted(WEB_CLIENT.glob("*.js"))})
    return files


def drift() -> list[str]:
    """What differs between the bundle and its sources, one line each; empty when in sync."""
    expected = sources()
    present = {p.relative_to(BUNDLE).as_posix() for p in BUNDLE.rglob("*") if p.is_file()}
    problems = [f"{name}: no source any more" for name in sorted(present - set(expected))]
    for name, source in expected.items():
        copy = BUNDLE / name
        if not copy.is_file():
            problems.append(f"{name}: missing")
        elif copy.read_bytes() != source.read_bytes():
            problems.append(f"{name}: differs from {source.relative_to(ROOT)}")
    return problems


def write() -> None:
    expected = sources()
    for path in sorted(BUNDLE.rglob("*"), reverse=True):
        relative = path.relative_to(BUNDLE).as_posix()
        if path.is_file() and relative not in expected:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    for name, source in expected.items():
        copy = BUNDLE / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(source.read_bytes())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="refresh the copies")
    args = parser.parse_args()
    if args.write:
        write()
        print(f"wrote {BUNDLE.relative_to(ROOT)}/")
        return 0
    problems = drift()
    for problem in problems:
        print(
            f"functions/console/bundle/{problem}; run `python -m scripts.console_bundle --write`",
            file=sys.stderr,
        )
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
