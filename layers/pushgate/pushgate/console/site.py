"""Which file answers which URL. The files are read once into a table keyed by URL path; a
request's path is only ever looked up in that table, never on disk, so no path reaches a file
outside it.

    /                         static/home.html
    /docs                     static/docs.html
    /openapi.json             bundle/openapi.json (the repository's, copied by
                              scripts/console_bundle.py)
    /console/<file>           static/<file>
    /console/pushgate-sw.js   bundle/web/pushgate-sw.js  } clients/web/, when it is
    /console/lib/<name>.js    bundle/web/<name>.js       } packaged
    /console/<anything else>  static/index.html: the single-page app routes in the browser
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from urllib.parse import unquote

from pushgate.console.assets import CONTENT_TYPES, Asset, read_tree
from pushgate.errors import NotFoundError

CONSOLE = "/console/"
INDEX = "index.html"
WORKER = "pushgate-sw.js"
PAGES = {"/": "home.html", "/docs": "docs.html"}
OPENAPI = "/openapi.json"
# Paths in these folders, or ending like a file type the console serves, name files: with no
# such file the answer is a 404, not the app (a module script answered with HTML fails
# obscurely, and a typo'd asset would look like it loaded).
FILE_FOLDERS = frozenset({"css", "img", "js", "lib"})
_FORBIDDEN_SEGMENTS = frozenset({".", ".."})


def _no_such_file() -> NotFoundError:
    return NotFoundError("no such file")


class Site:
    """The console's files by URL path."""

    def __init__(self, files: Mapping[str, Asset]) -> None:
        self._files = dict(files)

    @property
    def paths(self) -> frozenset[str]:
        return frozenset(self._files)

    def page(self, path: str) -> Asset:
        """The file at exactly `path` (/, /docs, /openapi.json); 404 when not packaged."""
        asset = self._files.get(path)
        if asset is None:
            raise _no_such_file()
        return asset

    def console_file(self, raw_path: str) -> Asset:
        """What answers `raw_path` (as requested, percent-encoded) under /console/: the file
        it names, else the app's index.html, except for paths that name a file (404) or try
        to leave the folder (`.`, `..`, `\\`, NUL or an empty segment: 404)."""
        path = unquote(raw_path)
        if not path.startswith(CONSOLE) or "\\" in path or "\x00" in path:
            raise _no_such_file()
        segments = path.removeprefix(CONSOLE).split("/")
        if any(s in _FORBIDDEN_SEGMENTS for s in segments) or "" in segments[:-1]:
            raise _no_such_file()
        asset = self._files.get(path)
        if asset is not None:
            return asset
        if _names_a_file(segments):
            raise _no_such_file()
        return self.page(CONSOLE + INDEX)


def _names_a_file(segments: list[str]) -> bool:
    if len(segments) > 1 and segments[0] in FILE_FOLDERS:
        return True
    last = segments[-1]
    return len(segments) == 1 and "." in last and "." + last.rsplit(".", 1)[1] in CONTENT_TYPES


def site_files(function_dir: Path) -> dict[str, Asset]:
    """The URL table of a console function folder (see the module docstring)."""
    files: dict[str, Asset] = {}
    pages = {name: path for path, name in PAGES.items()}
    for name, asset in read_tree(function_dir / "static"):
        files[pages.get(name, CONSOLE + name)] = asset
    bundle = function_dir / "bundle"
    for name, asset in read_tree(bundle):
        if name == OPENAPI.lstrip("/"):
            files[OPENAPI] = asset
        elif name == f"web/{WORKER}":
            # Served from /console/ so that its scope may be the whole console.
            files[CONSOLE + WORKER] = asset
        elif name.startswith("web/") and "/" not in name.removeprefix("web/"):
            files[f"{CONSOLE}lib/{name.removeprefix('web/')}"] = asset
    return files


@cache
def load_site(function_dir: Path) -> Site:
    """The site of a console function folder, read on first use and kept for the process."""
    return Site(site_files(function_dir))
