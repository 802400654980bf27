"""The layer's size: its lock installed for Lambda's target (python3.13 on arm64, hash-checked,
wheels only, no bytecode) plus the pushgate package: what `sam build` puts in
PushgateLayer/python (its copy measured 50.83 MiB against this bench's 50.80, the difference
being the requirements files and a wheel's .data folder it keeps).

Reports the unpacked size, botocore's share, the five largest distributions (by their RECORD:
code, data and dist-info) and the zipped size (deflate, as `sam deploy` uploads it). Lambda caps
a function's code plus its layers at 262,144,000 bytes unpacked (250 MiB); the target adds the
largest function folder to the layer. MB here are MiB. pip caches the wheels, so only the first
run downloads them.
"""

from __future__ import annotations

import csv
import heapq
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LAYER = REPO / "layers" / "pushgate"
LOCK = LAYER / "requirements.txt"
FUNCTIONS = REPO / "functions"
LAMBDA_UNPACKED_LIMIT = 262_144_000  # bytes: function code and all its layers, unzipped
MB = 1 << 20
LARGEST = 5


def run() -> dict[str, float | str]:
    with tempfile.TemporaryDirectory() as scratch:
        site = Path(scratch, "python")
        _install(site)
        package = _files_size(LAYER / "pushgate")
        distributions = _distribution_sizes(site)
        unpacked = _files_size(site) + package
        zipped = _zipped_size(site, LAYER / "pushgate", Path(scratch, "layer.zip"))
    function = max(_files_size(folder) for folder in FUNCTIONS.iterdir() if folder.is_dir())
    figures: dict[str, float | str] = {
        "distributions": len(distributions),
        "unpacked_mb": round(unpacked / MB, 1),
        "botocore_mb": round(distributions["botocore"] / MB, 1),
        "pushgate_package_mb": round(package / MB, 2),
    }
    for name, size in heapq.nlargest(LARGEST, distributions.items(), key=lambda item: item[1]):
        figures[f"largest: {name}_mb"] = round(size / MB, 1)
    figures["zipped_mb"] = round(zipped / MB, 1)
    figures["largest_function_mb"] = round(function / MB, 2)
    total = unpacked + function
    figures["share_of_lambda_unpacked_limit"] = round(total / LAMBDA_UNPACKED_LIMIT, 2)
    figures["target: function + layer <= 250 MiB unpacked"] = (
        "met" if total <= LAMBDA_UNPACKED_LIMIT else "MISSED"
    )
    return figures


def _install(site: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",  # a layer ships sources; Lambda compiles at first import
            "--require-hashes",
            "--only-binary=:all:",
            "--platform",
            "manylinux2014_aarch64",
            "--python-version",
            "3.13",
            "--implementation",
            "cp",
            "--target",
            str(site),
            "-r",
            str(LOCK),
        ],
        check=True,
    )


def _files_size(root: Path) -> int:
    return sum(
        path.stat().st_size
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )


def _distribution_sizes(site: Path) -> dict[str, int]:
    """Bytes of each installed distribution: the files its RECORD lists, as they lie on disk."""
    sizes: dict[str, int] = {}
    for record in site.glob("*.dist-info/RECORD"):
        name = record.parent.name.split("-")[0].lower().replace("_", "-")
        with record.open(newline="") as rows:
            files = [site / row[0] for row in csv.reader(rows) if row]
        sizes[name] = sum(path.stat().st_size for path in files if path.is_file())
    return sizes


def _zipped_size(site: Path, package: Path, archive: Path) -> int:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as layer_zip:
        for path in sorted(site.rglob("*")):
            if path.is_file():
                layer_zip.write(path, Path("python") / path.relative_to(site))
        for path in sorted(package.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                layer_zip.write(path, Path("python") / path.relative_to(package.parent))
    return archive.stat().st_size
