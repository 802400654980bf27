"""One file as the console function serves it: its bytes, media type, cache policy and ETag."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Only files of these types are served; anything else in a folder is left out.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
    ".woff2": "font/woff2",
}
TEXT_SUFFIXES = frozenset({".html", ".js", ".mjs", ".css", ".json", ".webmanifest", ".svg", ".txt"})
# Pages, code and documents: there is no build step to fingerprint their names, so a browser
# revalidates every use (a 304 by ETag) and never mixes two releases' modules.
REVALIDATE = "no-cache"
IMAGES = "public, max-age=86400"
_IMAGE_SUFFIXES = frozenset({".png", ".ico", ".woff2"})


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    content_type: str
    cache_control: str
    etag: str
    is_text: bool


def make_asset(body: bytes, suffix: str) -> Asset:
    """`body` served as a file ending in `suffix` (which must be in CONTENT_TYPES)."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(body).digest()[:18]).decode()
    return Asset(
        body=body,
        content_type=CONTENT_TYPES[suffix],
        cache_control=IMAGES if suffix in _IMAGE_SUFFIXES else REVALIDATE,
        etag=f'"{digest}"',
        is_text=suffix in TEXT_SUFFIXES,
    )


def read_tree(root: Path) -> Iterator[tuple[str, Asset]]:
    """Every servable file under `root` as (path relative to root with `/`, asset); none when
    `root` does not exist. Hidden files and folders are skipped."""
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        suffix = path.suffix.lower()
        if suffix in CONTENT_TYPES:
            yield relative.as_posix(), make_asset(path.read_bytes(), suffix)
