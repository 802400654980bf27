"""Which URL each file of a console function folder gets, and the packaged copies: the web
client under /console/, the OpenAPI document at /openapi.json, and nothing else of the folder."""

from __future__ import annotations

from pathlib import Path

from pushgate.console.site import Site, site_files
from scripts import console_bundle

REPO = Path(__file__).resolve().parents[3]


def _folder(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_site_maps_pages_console_files_the_document_and_the_web_client(tmp_path):
    folder = _folder(
        tmp_path,
        {
            "app.py": "secret = 1",
            "static/index.html": "<p>app</p>",
            "static/home.html": "<p>home</p>",
            "static/docs.html": "<p>docs</p>",
            "static/js/main.js": "export {};",
            "static/.hidden.js": "no",
            "static/notes.md": "not a served type",
            "bundle/openapi.json": "{}",
            "bundle/web/pushgate.js": "export function subscribe() {}",
            "bundle/web/pushgate-sw.js": "self.addEventListener('push', () => {});",
        },
    )

    assert set(site_files(folder)) == {
        "/",
        "/docs",
        "/openapi.json",
        "/console/index.html",
        "/console/js/main.js",
        "/console/lib/pushgate.js",
        "/console/pushgate-sw.js",
    }


def test_site_serves_the_web_client_as_javascript(tmp_path):
    site = Site(site_files(_folder(tmp_path, {"bundle/web/pushgate-sw.js": "self;"})))

    worker = site.console_file("/console/pushgate-sw.js")

    assert (worker.body, worker.content_type) == (b"self;", "text/javascript; charset=utf-8")


def test_console_bundle_is_in_step_with_its_sources():
    """functions/console/bundle/ holds copies (sam build packages a function's folder only):
    openapi.json, and clients/web/*.js once that folder exists."""
    assert console_bundle.drift() == []
    assert (REPO / "functions/console/bundle/openapi.json").read_bytes() == (
        REPO / "openapi.json"
    ).read_bytes()
