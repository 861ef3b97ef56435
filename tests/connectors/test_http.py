"""Retries and failures of the shared HTTP client, over real HTTP against a scripted local server."""

from __future__ import annotations

import base64
import gzip
import json
import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from connectors.http import (
    ApiClient,
    ApiError,
    RequestBudget,
    RequestWindow,
    RetryPolicy,
    Secret,
    retry_after_seconds,
)


class ScriptedServer:
    """Answers each request with the next scripted (status, headers, body); then 200 {"ok": true}."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, str], bytes]] = []
        # each request as it arrived: method, path with query, Authorization header, body
        self.received: list[tuple[str, str, str | None, bytes]] = []
        # the client's port of each request: one port for several requests is one kept-alive connection
        self.client_ports: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # connections kept alive between requests, as the tools' servers keep them

            def do_GET(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.received.append((self.command, self.path, self.headers.get("Authorization"), body))
                outer.client_ports.append(self.client_address[1])
                status, headers, body = outer.script.pop(0) if outer.script else (200, {}, b'{"ok": true}')
                if status == 0:  # drop the connection without answering
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                if int(headers.get("Content-Length", len(body))) > len(body):  # a body cut short
                    self.close_connection = True
                    self.connection.shutdown(2)

            do_POST = do_GET

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def requests(self) -> list[str]:
        """The path (with its query) of each request, in the order they arrived."""
        return [path for _, path, _, _ in self.received]


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer()
    yield scripted
    scripted.server.shutdown()


def client_for(server: ScriptedServer, **retry) -> ApiClient:
    policy = RetryPolicy(backoff_base_seconds=0.01, backoff_cap_seconds=0.05, **retry)
    return ApiClient(server.url, session=requests.Session(), retry=policy, name="tool")


def test_429_waits_for_retry_after_then_succeeds(server):
    server.script = [(429, {"Retry-After": "0.2"}, b"{}")]
    client = client_for(server)
    assert client.get("/things") == {"ok": True}
    assert client.stats.rate_limited == 1
    assert client.stats.retries == 1
    assert client.stats.wait_seconds == pytest.approx(0.2, abs=0.01)


def test_5xx_bursts_and_dropped_connections_are_retried(server):
    server.script = [(503, {}, b"busy"), (500, {}, b"oops"), (0, {}, b""), (502, {}, b"")]
    client = client_for(server)
    assert client.get("/things") == {"ok": True}
    assert client.stats.retries == 4
    assert len(server.requests) == 5


def test_a_403_fails_loudly_naming_the_endpoint_and_status(server):
    server.script = [(403, {}, b'{"errorMessages":["You do not have permission"]}')]
    with pytest.raises(ApiError, match=r"GET /rest/things answered HTTP 403: .*permission") as raised:
        client_for(server).get("/rest/things")
    assert raised.value.status == 403
    assert len(server.requests) == 1


def test_retries_stop_at_the_bounded_total_wait(server):
    server.script = [(503, {"Retry-After": "5"}, b"")] * 3
    with pytest.raises(ApiError, match="still failing after 1 attempts"):
        client_for(server, max_total_wait_seconds=2).get("/things")


def test_retries_stop_after_max_attempts(server):
    server.script = [(500, {}, b"")] * 5
    with pytest.raises(ApiError, match="still failing after 3 attempts"):
        client_for(server, max_attempts=3).get("/things")


def test_retry_after_sources_in_order():
    now = datetime(2026, 1, 1, tzinfo=UTC)

    def response(headers: dict[str, str]) -> requests.Response:
        built = requests.Response()
        built.headers.update(headers)
        return built

    assert retry_after_seconds(response({"Retry-After": "7"}), now) == 7
    assert retry_after_seconds(response({"Retry-After": "Thu, 01 Jan 2026 00:00:30 GMT"}), now) == 30
    reset = (now + timedelta(seconds=12)).isoformat()
    assert retry_after_seconds(response({"X-RateLimit-Reset": reset}), now) == 12
    assert retry_after_seconds(response({"Retry-After": "3", "X-RateLimit-Reset": reset}), now) == 3
    assert retry_after_seconds(response({}), now) is None


def test_budget_spaces_requests_beyond_the_burst():
    budget = RequestBudget(per_minute=600, burst=2)
    waits = [budget.acquire() for _ in range(4)]
    assert waits[:2] == [0.0, 0.0]
    assert all(wait > 0.05 for wait in waits[2:])


def test_a_request_the_vendor_counts_as_several_takes_as_many_tokens():
    budget = RequestBudget(per_minute=600, burst=10)
    assert budget.acquire(10) == 0.0
    wait = budget.acquire(5)  # 5 tokens at 10 a second
    assert 0.4 < wait < 0.6


def test_a_window_lets_its_whole_limit_go_at_once_then_waits_for_the_oldest_to_leave():
    window = RequestWindow(per_minute=5, window_seconds=0.4)
    started = time.monotonic()
    assert [window.acquire() for _ in range(5)] == [0.0] * 5
    wait = window.acquire()
    assert 0.3 < wait < 0.6
    assert time.monotonic() - started >= 0.4


def test_a_window_counts_a_batch_as_its_actions_and_lets_an_oversized_one_through_alone():
    window = RequestWindow(per_minute=10, window_seconds=0.4)
    assert window.acquire(8) == 0.0
    assert window.acquire(2) == 0.0
    assert 0.3 < window.acquire(3) < 0.6  # waits for the first batch of 8 to leave
    assert 0.3 < window.acquire(25) < 0.6  # more than the limit: waits for an empty window
    assert RequestWindow(per_minute=None).acquire(10_000) == 0.0
    with pytest.raises(ValueError, match="at least 1"):
        RequestWindow(per_minute=0.5)


def test_a_window_shared_by_threads_never_holds_more_than_its_limit():
    window = RequestWindow(per_minute=6, window_seconds=0.3)
    sent: list[float] = []
    lock = threading.Lock()

    def send(count: int) -> None:
        for _ in range(count):
            window.acquire()
            with lock:
                sent.append(time.monotonic())

    workers = [threading.Thread(target=send, args=(5,)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    sent.sort()
    assert len(sent) == 20
    most_in_a_window = max(sum(1 for other in sent if moment <= other < moment + 0.29) for moment in sent)
    assert most_in_a_window == 6
    assert sent[-1] - sent[0] >= 0.9  # 20 requests, 6 a window: at least three windows waited out


def test_secret_never_shows_in_repr_or_logs(caplog, server):
    token = Secret("tok-123-very-secret")
    session = requests.Session()
    session.auth = ("bot@example.com", token.reveal())
    server.script = [(500, {}, b"")]
    with caplog.at_level(logging.DEBUG):
        client = ApiClient(server.url, session=session, retry=RetryPolicy(backoff_base_seconds=0.01), name="tool")
        client.get("/things")
        logging.getLogger("test").info("settings %r", {"token": token})
    assert "tok-123-very-secret" not in caplog.text
    assert "retrying" in caplog.text
    assert json.dumps(token) == '"tok-123-very-secret"'


def test_the_environments_proxy_is_read_once_when_the_client_is_made(server, monkeypatch):
    for name in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, server.url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    client = ApiClient("http://tool.invalid", session=requests.Session(), name="tool")
    for name in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name)

    assert client.get("/rest/thing", q="1") == {"ok": True}
    # the scripted server answered as the proxy: it was asked for the tool's absolute URL
    assert server.requests == ["http://tool.invalid/rest/thing?q=1"]


def test_each_request_carries_the_sessions_credential_and_only_its_own_query_and_body(server):
    session = requests.Session()
    session.auth = ("bot@example.com", "tok")
    session.headers["X-Tool"] = "pmo"
    client = ApiClient(server.url, session=session, name="tool")

    assert client.get("/things", page=1, q="a b") == {"ok": True}
    assert client.get("/things") == {"ok": True}
    assert client.get("/things", page=2) == {"ok": True}
    assert client.post("/batch", {"actions": [1, "é"]}) == {"ok": True}
    assert client.post("/batch", {"actions": [2]}) == {"ok": True}

    basic = "Basic " + base64.b64encode(b"bot@example.com:tok").decode()
    assert [(method, path, auth) for method, path, auth, _ in server.received] == [
        ("GET", "/things?page=1&q=a+b", basic),
        ("GET", "/things", basic),
        ("GET", "/things?page=2", basic),
        ("POST", "/batch", basic),
        ("POST", "/batch", basic),
    ]
    assert [json.loads(body) for method, _, _, body in server.received if method == "POST"] == [
        {"actions": [1, "é"]},
        {"actions": [2]},
    ]


def test_a_redirect_is_followed(server):
    server.script = [(302, {"Location": "/moved"}, b"")]
    client = client_for(server)

    assert client.get("/things", page=3) == {"ok": True}
    assert server.requests == ["/things?page=3", "/moved"]


def test_a_large_compressed_body_is_read_whole_and_decoded_on_one_kept_alive_connection(server):
    items = [{"id": str(number), "name": f"item {number}", "notes": "x" * 200} for number in range(2000)]
    body = json.dumps({"items": items}).encode()
    server.script = [(200, {"Content-Encoding": "gzip"}, gzip.compress(body)), (200, {}, body)]
    client = client_for(server)

    assert client.get("/things") == {"items": items}
    assert client.get("/things") == {"items": items}
    assert client.get("/things") == {"ok": True}
    assert len(set(server.client_ports)) == 1


def test_a_body_cut_short_is_retried(server):
    body = json.dumps({"items": list(range(5000))}).encode()
    server.script = [(200, {"Content-Length": str(len(body))}, body[: len(body) // 2])]
    client = client_for(server)

    assert client.get("/things") == {"ok": True}
    assert client.stats.retries == 1
    assert len(server.requests) == 2
