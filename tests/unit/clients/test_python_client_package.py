"""clients/python builds as an installable wheel holding the typed package and nothing else."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_client_builds_as_a_typed_wheel(tmp_path: Path) -> None:
    source = tmp_path / "source"  # setuptools writes build/ and *.egg-info beside the code
    shutil.copytree(ROOT / "clients/python", source, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("pushgate_client-0.1.0-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {n for n in names if not n.startswith("pushgate_client-0.1.0.dist-info/")}

    assert modules == {
        f"pushgate_client/{name}"
        for name in (
            "__init__.py", "_core.py", "_flow.py", "auth.py", "client.py", "errors.py",
            "receipts.py", "py.typed",
        )
    }  # fmt: skip
    metadata = zipfile.ZipFile(wheel).read("pushgate_client-0.1.0.dist-info/METADATA").decode()
    assert "Requires-Dist: httpx>=0.27" in metadata
