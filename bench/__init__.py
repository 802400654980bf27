"""Benchmarks behind `make bench` (`python -m bench`); see bench/__main__.py."""

import sys
from pathlib import Path

# `python -m bench` runs from the repository root, where the layer is not on the path.
_LAYER = str(Path(__file__).resolve().parents[1] / "layers" / "pushgate")
if _LAYER not in sys.path:
    sys.path.insert(0, _LAYER)
