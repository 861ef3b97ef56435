"""What every tool simulator shares: requests and responses, the HTTP server, and the fault layer.

A simulator subclasses `SimulatorServer`, declares its routes, checks auth in `authorize`,
and says where the records of a response body live (`records_in`) so that the fault layer
can slip malformed records into a page (`records_key`). Everything else (threads, ports, request records,
faults, connections dropped mid-body) is handled here, the same way for every tool.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec

from simulators.faults import FaultPlan

logger = logging.getLogger(__name__)
# a request answered slower than this is logged (clients time out reading after 60 s)
SLOW_REQUEST_SECONDS = 10.0


@dataclass(frozen=True)
class SimRequest:
    """One HTTP request as a simulator (and its fault layer) sees it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        try:
            return msgspec.json.decode(self.body or b"null")
        except ValueError:
            raise SimHttpError(400, {"message": "request body is not valid JSON"}) from None


@dataclass
class SimResponse:
    """A status, a JSON-serialisable body (or None) and extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop_after_bytes: int | None = None
    delay_seconds: float = 0.0


class SimHttpError(Exception):
    """Raised by a route to answer with an error status and the tool's error body."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body
        self.headers = headers or {}

    def response(self) -> SimResponse:
        return SimResponse(self.status, self.body, dict(self.headers))


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    query: dict[str, list[str]]
    status: int


Route = tuple[str, re.Pattern[str], Callable[..., SimResponse]]


class SimulatorServer:
    """A tool's API on a local port, answering on daemon threads."""

    name = "simulator"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, faults: FaultPlan | None = None) -> None:
        self.host = host
        self.port = port
        self.faults = faults or FaultPlan()
        self.requests: list[RequestRecord] = []
        self.lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- to override -------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        raise NotImplementedError

    def authorize(self, request: SimRequest) -> SimResponse | None:
        """None when the request carries valid credentials, else the tool's 401 answer."""
        return None

    # Where a page's records live in a response body (None: the body is the list itself).
    records_key: str | None = None
    # What the fault layer slips into a page: a record that is not an object, and one without its id.
    malformed_records: tuple[Any, ...] = ("not an object", {"name": "a record without its id"})

    def with_malformed_records(self, body: Any) -> Any:
        """A copy of `body` whose page of records ends with the malformed ones."""
        extra = list(self.malformed_records)
        if self.records_key is None and isinstance(body, list):
            return [*body, *extra]
        if isinstance(body, dict) and isinstance(body.get(self.records_key), list):
            return {**body, self.records_key: [*body[self.records_key], *extra]}
        return body

    def rate_limited_response(self, retry_after: float | None, reset_header: str | None) -> SimResponse:
        headers = {}
        if retry_after is not None:
            headers["Retry-After"] = f"{retry_after:g}"
        if reset_header is not None:
            headers["X-RateLimit-Reset"] = reset_header
        return SimResponse(429, {"message": "Rate limit exceeded."}, headers)

    def server_error_response(self, status: int) -> SimResponse:
        return SimResponse(status, {"message": "The service is temporarily unavailable."})

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"the {self.name} simulator is not running; call start() first")
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self):
        if self._server is not None:
            return self
        server = ThreadingHTTPServer((self.host, self.port), _Handler)
        server.daemon_threads = True
        server.simulator = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        logger.debug("%s simulator listening on %s", self.name, self.url)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    # -- dispatch ----------------------------------------------------------------------------
    def handle(self, request: SimRequest) -> SimResponse:
        """Answer one request: faults first, then auth, then the route."""
        response = self.faults.before(request, self)
        if response is None:
            response = self.authorize(request) or self._route(request)
            if response.status < 300:
                response = self.faults.after(request, response, self)
        with self.lock:
            self.requests.append(RequestRecord(request.method, request.path, request.query, response.status))
        return response

    def _route(self, request: SimRequest) -> SimResponse:
        for method, pattern, handler in self.routes():
            if method != request.method:
                continue
            match = pattern.fullmatch(request.path)
            if match:
                try:
                    return handler(request, **match.groupdict())
                except SimHttpError as error:
                    return error.response()
        return self.not_found(request)

    def not_found(self, request: SimRequest) -> SimResponse:
        return SimResponse(404, {"message": f"No route for {request.method} {request.path}"})

    def encode(self, body: Any) -> bytes:
        """Compact JSON; a body, or parts of it (`msgspec.Raw`), may come JSON encoded beforehand."""
        if isinstance(body, bytes):
            return body
        with self.lock:
            return b"" if body is None else msgspec.json.encode(body)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in separate writes: with Nagle on, keep-alive clients stall 40 ms on each
    disable_nagle_algorithm = True

    def version_string(self) -> str:
        return f"{self.server.simulator.name}-simulator/1.0"  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        self._respond("GET")

    def do_POST(self) -> None:
        self._respond("POST")

    def do_PUT(self) -> None:
        self._respond("PUT")

    def do_DELETE(self) -> None:
        self._respond("DELETE")

    def _respond(self, method: str) -> None:
        started = time.monotonic()
        try:
            self._answer(method)
        finally:
            seconds = time.monotonic() - started
            if seconds >= SLOW_REQUEST_SECONDS:
                name = self.server.simulator.name  # type: ignore[attr-defined]
                logger.warning("%s simulator: %s %s took %.1f s", name, method, self.path[:120], seconds)

    def _answer(self, method: str) -> None:
        simulator: SimulatorServer = self.server.simulator  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        request = SimRequest(
            method=method,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers=dict(self.headers.items()),
            body=body,
        )
        response = simulator.handle(request)
        if response.delay_seconds:
            threading.Event().wait(response.delay_seconds)
        encoded = response.body if isinstance(response.body, bytes) else simulator.encode(response.body)
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(encoded)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if response.drop_after_bytes is not None:
            self.wfile.write(encoded[: response.drop_after_bytes])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(encoded)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - %s", self.address_string(), format % args)
