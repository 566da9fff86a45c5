"""What a hostile store or a stranger on the network cannot do: run script, read pages, write.

The browser half (nothing executes in Chromium) is in test_browser.py; here the HTML the
server sends is checked directly: every payload arrives escaped, never as markup.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from markupsafe import escape
from starlette.testclient import TestClient

from routelens.config import RoutelensConfig
from routelens.store import Store
from routelens.web.app import create_app
from routelens.web.security import (
    CONTENT_SECURITY_POLICY,
    TOKEN_COOKIE,
    TokenGate,
    is_loopback,
)
from tests.web.history import API_KEY, IMAGE, SCRIPT, TEMPLATE, FilledStore
from tests.web.test_app import page_urls

PAYLOADS = (SCRIPT, IMAGE, TEMPLATE)


def test_every_payload_arrives_as_text_never_as_markup(
    client: TestClient, filled: FilledStore
) -> None:
    seen: dict[str, set[str]] = {payload: set() for payload in PAYLOADS}
    for url in page_urls(filled):
        body = client.get(url).text
        assert "<script>alert" not in body, url
        assert "<img src=x" not in body, url
        for payload in PAYLOADS:
            if str(escape(payload)) in body:
                seen[payload].add(url)
    # each kind of payload shows, as text, on the pages that carry what users wrote
    assert f"/runs/{filled.local_runs[0]}" in seen[SCRIPT]  # the case id, the run label
    assert "/skills/deploy-app" in seen[SCRIPT]  # the SKILL.md body in the diff
    assert any(url.startswith("/cases/") for url in seen[IMAGE])  # the input
    assert "/skills/deploy-app" in seen[TEMPLATE]  # the description


def test_templates_are_not_evaluated_from_data(client: TestClient, filled: FilledStore) -> None:
    body = client.get("/cases/C2").text
    assert TEMPLATE in body
    assert "review the code of my pull request 49" not in body


def test_json_blocks_cannot_close_their_script_element(
    client: TestClient, filled: FilledStore
) -> None:
    body = client.get(f"/runs/{filled.local_runs[0]}").text + client.get("/").text
    for block in body.split('<script type="application/json"')[1:]:
        content = block.split(">", 1)[1].split("</script>", 1)[0]
        assert "<" not in content


def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    for url in ("/", "/api/overview", "/static/app.js", "/healthz", "/nope"):
        headers = client.get(url).headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY, url
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "unsafe-eval" not in CONTENT_SECURITY_POLICY


def test_no_page_shows_the_api_key(client: TestClient, filled: FilledStore) -> None:
    assert API_KEY not in filled.path.read_bytes().decode("latin-1")
    for url in page_urls(filled):
        assert API_KEY not in client.get(url).text
        assert API_KEY not in client.get("/api/overview" if url == "/" else "/api" + url).text


def test_the_store_is_never_written(read_only: Store, filled: FilledStore) -> None:
    before = {path: path.stat().st_mtime_ns for path in filled.path.parent.glob("store.sqlite*")}
    with TestClient(create_app(read_only, RoutelensConfig(), cache_seconds=0)) as test_client:
        for url in page_urls(filled):
            test_client.get(url)
        assert test_client.post("/runs").status_code == 405
    after = {path: path.stat().st_mtime_ns for path in filled.path.parent.glob("store.sqlite*")}
    assert after == before
    assert read_only.read_only


@pytest.fixture
def guarded(read_only: Store) -> TestClient:
    return TestClient(create_app(read_only, RoutelensConfig(), auth_token="s3cret-token"))


def test_the_token_is_needed_for_every_request(guarded: TestClient) -> None:
    for url in ("/", "/api/overview", "/healthz", "/static/app.js", "/nope"):
        response = guarded.get(url)
        assert response.status_code == 401, url
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "content-security-policy" in response.headers
    wrong = guarded.get("/", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert guarded.get("/?token=nope").status_code == 401


def test_a_bearer_header_opens_every_page(guarded: TestClient) -> None:
    headers = {"Authorization": "Bearer s3cret-token"}
    assert guarded.get("/healthz", headers=headers).text == "ok\n"
    assert guarded.get("/api/runs", headers=headers).status_code == 200


def test_the_token_in_the_url_sets_a_strict_cookie_once(guarded: TestClient) -> None:
    first = guarded.get("/flaky?window=30d&token=s3cret-token", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/flaky?window=30d"
    cookie = first.headers["set-cookie"]
    assert cookie.startswith(f"{TOKEN_COOKIE}=s3cret-token;")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert guarded.get("/flaky?window=30d").status_code == 200  # the client kept the cookie


def test_the_token_redirect_stays_on_this_server() -> None:
    async def never_reached(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("the gate let the request through")

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    scope = {
        "type": "http",
        "method": "GET",
        "path": "//evil.example/x",
        "raw_path": b"//evil.example/x",
        "query_string": b"token=s3cret-token",
        "headers": [],
        "scheme": "http",
        "server": ("127.0.0.1", 8765),
        "root_path": "",
    }
    anyio.run(TokenGate(never_reached, "s3cret-token"), scope, receive, send)
    headers = dict(sent[0]["headers"])
    assert sent[0]["status"] == 303
    assert headers[b"location"] == b"/evil.example/x"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.9.1", True), ("::1", True), ("[::1]", True),
     ("localhost", True), ("0.0.0.0", False), ("192.168.1.4", False), ("::", False),
     ("example.com", False)],
)  # fmt: skip
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
