"""The layer's lock against what a built layer holds: read both, and say how they differ.

`python -m scripts.layer_lock SITE_DIR` (scripts/check-build runs it on the `sam build` output)
prints one line per difference and exits 1 if there is any.
"""

from __future__ import annotations

import re
import sys
from email.parser import HeaderParser
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "layers" / "pushgate" / "requirements.txt"
DEV_REQUIREMENTS = REPO / "requirements-dev.txt"


def normalise(name: str) -> str:
    """The distribution name as PyPI compares it (PEP 503): `PyJWT`, `typing_extensions`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path) -> dict[str, str]:
    """`name -> version` of every `name==version` line of a requirements file: the lock (its
    `--hash` continuation lines and `# via` comments skipped) or the flat dev list."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        requirement = line.split("#", 1)[0].split(";", 1)[0].rstrip(" \\")
        if not requirement or requirement[0].isspace() or requirement.startswith("-"):
            continue
        name, separator, version = requirement.partition("==")
        if not separator:
            raise ValueError(f"{path.name}: not pinned with ==: {line!r}")
        pins[normalise(name.split("[", 1)[0].strip())] = version.strip()
    return pins


def installed(site: Path) -> dict[str, list[str]]:
    """`name -> versions` of the distributions installed in `site` (a list: two installs of one
    name are a difference of their own), from each `*.dist-info/METADATA`."""
    found: dict[str, list[str]] = {}
    for metadata in sorted(site.glob("*.dist-info/METADATA")):
        headers = HeaderParser().parse(metadata.open(encoding="utf-8"))
        found.setdefault(normalise(headers["Name"]), []).append(headers["Version"])
    return found


def differences(lock: dict[str, str], site: dict[str, list[str]]) -> list[str]:
    """What keeps `site` from being exactly the locked set, one sentence each, sorted by name."""
    found = []
    for name in sorted(lock.keys() | site.keys()):
        versions = site.get(name, [])
        if name not in lock:
            found.append(f"{name} {', '.join(versions)} is installed but not in the lock")
        elif not versions:
            found.append(f"{name} {lock[name]} is locked but not installed")
        elif len(versions) > 1:
            found.append(f"{name} is installed {len(versions)} times: {', '.join(versions)}")
        elif versions[0] != lock[name]:
            found.append(f"{name} {versions[0]} is installed but the lock pins {lock[name]}")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m scripts.layer_lock SITE_DIR", file=sys.stderr)
        return 2
    site = Path(argv[0])
    found = differences(read_pins(LOCK), installed(site))
    for line in found:
        print(f"layer differs from {LOCK.relative_to(REPO)}: {line}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
