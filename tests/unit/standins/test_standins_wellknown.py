"""The well-known stand-in: serves what it was told, over http or https, and counts fetches."""

from __future__ import annotations

import httpx
import pytest

from tests.standins.wellknown import WELL_KNOWN_PATH, WellKnownServer


@pytest.fixture
def server():
    with WellKnownServer() as running:
        yield running
    assert running.errors() == ()


def test_wellknown_standin_answers_404_until_something_is_published(server):
    assert httpx.get(server.url + WELL_KNOWN_PATH).status_code == 404


def test_wellknown_standin_serves_the_published_document_and_counts_fetches(server):
    server.publish({"instance": "a.example"})
    assert httpx.get(server.url + WELL_KNOWN_PATH).json() == {"instance": "a.example"}
    assert httpx.get(server.url + "/other").status_code == 404
    assert server.fetches() == 1


def test_wellknown_standin_redirects_without_a_body(server):
    server.redirect("https://elsewhere.example/doc.json", status=301)
    response = httpx.get(server.url + WELL_KNOWN_PATH)
    assert (response.status_code, response.headers["location"]) == (
        301,
        "https://elsewhere.example/doc.json",
    )


def test_wellknown_standin_pads_oversized_documents(server):
    server.oversized({"instance": "a.example"}, 100_000)
    response = httpx.get(server.url + WELL_KNOWN_PATH)
    assert len(response.content) == 100_000
    assert response.json() == {"instance": "a.example"}


def test_wellknown_standin_serves_malformed_json(server):
    server.malformed()
    with pytest.raises(ValueError):  # noqa: PT011 - json's error for a truncated document
        httpx.get(server.url + WELL_KNOWN_PATH).json()


def test_wellknown_standin_speaks_http11_over_tls():
    with WellKnownServer(tls=True) as server:
        server.publish({"instance": "a.example"})
        with httpx.Client(verify=server.client_ssl_context()) as client:
            response = client.get(server.url + WELL_KNOWN_PATH)
            again = client.get(server.url + WELL_KNOWN_PATH)  # the same connection
    assert response.http_version == "HTTP/1.1"
    assert (response.json(), again.status_code) == ({"instance": "a.example"}, 200)
    assert server.connections == {"http/1.1": 1}
