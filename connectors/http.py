"""HTTP for every connector: a request budget, retries that honour the vendor's signals, loud failures.

- Each client stays under its tool's request budget, so normal runs do not meet HTTP 429 at
  all: a token bucket for a limit of per-second bursts (Jira's), a sliding window of the last
  minute's requests for a limit of so many requests a minute (Asana's, Smartsheet's).
- On 429 the wait is `Retry-After` (seconds or an HTTP date), else `X-RateLimit-Reset`
  (ISO 8601 or epoch seconds), else exponential backoff with jitter.
- 5xx, timeouts and dropped connections are retried with backoff; the total time spent
  waiting is bounded.
- Any other 4xx raises `ApiError` naming the endpoint and the status: a stream never
  silently yields zero rows.
Credentials live in the session's auth and are never logged; logs name method and path only.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import msgspec
import requests
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError, SSLError

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = {429, 500, 502, 503, 504}


class ApiError(RuntimeError):
    """A request the connector cannot recover from (a 4xx, or retries exhausted)."""

    def __init__(self, message: str, *, status: int | None = None, endpoint: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.endpoint = endpoint


def read_body(response: requests.Response) -> bytes:
    """The response's whole body in one read, kept as `Response.content` keeps it, with the errors that
    property raises. `Response.content` reads a body 10 KB at a time, each piece a call through
    urllib3 and http.client: for a page of hundreds of kilobytes, several times the CPU of one read."""
    # requests' own attributes, read as `Response.content` reads them; a version without them reads the body its way
    unread = getattr(response, "_content", None) is False and getattr(response, "_content_consumed", True) is False
    if unread and response.raw is not None:
        try:
            body = response.raw.read(decode_content=True)
        except ProtocolError as error:
            raise requests.exceptions.ChunkedEncodingError(error) from error
        except DecodeError as error:
            raise requests.exceptions.ContentDecodingError(error) from error
        except ReadTimeoutError as error:
            raise requests.ConnectionError(error) from error
        except SSLError as error:
            raise requests.exceptions.SSLError(error) from error
        response._content = body or b""
        response._content_consumed = True
    return response.content


class Secret(str):
    """A string that never shows itself in reprs, f-strings of reprs, or logs of objects holding it."""

    def __repr__(self) -> str:
        return "Secret('***')"

    def reveal(self) -> str:
        return str.__str__(self)


class RequestBudget:
    """A token bucket: at most `per_minute` requests a minute, with bursts of up to `burst`."""

    def __init__(self, per_minute: float | None, burst: int | None = None) -> None:
        self.per_second = per_minute / 60.0 if per_minute else None
        self.capacity = float(burst or max(1, int((per_minute or 60) / 60)))
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def acquire(self, count: int = 1) -> float:
        """Take `count` tokens (a request that the vendor counts as several), sleeping as needed; returns the
        seconds slept."""
        if self.per_second is None:
            return 0.0
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
            self.updated = now
            if self.tokens >= count:
                self.tokens -= count
                return 0.0
            wait = (count - self.tokens) / self.per_second
            self.tokens = 0.0
            self.updated = now + wait
        time.sleep(wait)
        return wait


class RequestWindow:
    """At most `per_minute` requests in any minute: the requests sent in the last `window_seconds`
    are counted, and one that would take the count over the limit waits until enough of them have
    left the window.

    This is how Asana and Smartsheet count (so many requests a minute per token), so a night's few
    hundred requests go at once where a token bucket paced to the same limit would have spaced
    them out. The window is a second longer than the vendor's minute: a request is counted when it
    is sent, the vendor counts it when it arrives.
    """

    def __init__(self, per_minute: float | None, window_seconds: float = 61.0) -> None:
        if per_minute is not None and 0 < per_minute < 1:
            raise ValueError(f"requests_per_minute must be at least 1, or 0 to turn pacing off, not {per_minute}")
        self.limit = per_minute or None
        self.window_seconds = window_seconds
        self.sent: deque[tuple[float, int]] = deque()
        self.in_window = 0
        self.lock = threading.Lock()

    def acquire(self, count: int = 1) -> float:
        """Count a request that the vendor counts as `count` (a batch of several), first waiting for
        room in the window; returns the seconds slept. One larger than the whole limit waits for an
        empty window."""
        if self.limit is None:
            return 0.0
        count = min(count, int(self.limit))
        slept = 0.0
        while True:
            with self.lock:
                now = time.monotonic()
                while self.sent and now - self.sent[0][0] >= self.window_seconds:
                    self.in_window -= self.sent.popleft()[1]
                excess = self.in_window + count - self.limit
                if excess <= 0:
                    self.sent.append((now, count))
                    self.in_window += count
                    return slept
                freed = 0
                for moment, cost in self.sent:
                    freed += cost
                    if freed >= excess:
                        wait = max(moment + self.window_seconds - now, 0.001)
                        break
            time.sleep(wait)
            slept += wait


@dataclass
class RetryPolicy:
    max_attempts: int = 8
    max_total_wait_seconds: float = 300.0
    backoff_base_seconds: float = 0.5
    backoff_cap_seconds: float = 30.0
    timeout: tuple[float, float] = (10.0, 60.0)

    def backoff(self, attempt: int) -> float:
        ceiling = min(self.backoff_cap_seconds, self.backoff_base_seconds * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


@dataclass
class RequestStats:
    """A client's request counts; `count` may be called from several threads at once."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    wait_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, *, requests: int = 0, retries: int = 0, rate_limited: int = 0, wait_seconds: float = 0.0) -> None:
        with self.lock:
            self.requests += requests
            self.retries += retries
            self.rate_limited += rate_limited
            self.wait_seconds += wait_seconds

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "retries": self.retries,
            "rate_limited": self.rate_limited,
            "wait_seconds": round(self.wait_seconds, 2),
        }


def retry_after_seconds(response: requests.Response, now: datetime | None = None) -> float | None:
    """The wait the server asks for: `Retry-After`, then `X-RateLimit-Reset`; None when it names none."""
    now = now or datetime.now(UTC)
    retry_after = response.headers.get("Retry-After")
    if retry_after:
        value = retry_after.strip()
        if value.replace(".", "", 1).isdigit():
            return float(value)
        parsed = email.utils.parsedate_to_datetime(value) if "," in value else None
        if parsed is not None:
            return max(0.0, (parsed - now).total_seconds())
    reset = response.headers.get("X-RateLimit-Reset")
    if reset:
        value = reset.strip()
        if value.isdigit():
            number = int(value)
            # Epoch seconds, or (when small) seconds to wait.
            return max(0.0, number - now.timestamp()) if number > 10**9 else float(number)
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return max(0.0, (moment - now).total_seconds())
    return None


class ApiClient:
    """A `requests` session bound to one base URL, one credential and one request budget.

    What `requests` reads from the environment (proxies and `NO_PROXY`, the CA bundle of
    `REQUESTS_CA_BUNDLE`/`CURL_CA_BUNDLE`) is read once, for the base URL, when the client is made,
    instead of at every request, where it took a tenth of the request's time; a `.netrc` is not
    read (the connectors authenticate with their own credentials).

    Each method is prepared once (the session's headers and credential merged), and each request is
    a copy of it with its own URL, query and JSON body, sent through the session's transport
    adapter: `Session.request` would merge and prepare it all again, and look for cookies and
    redirects, for about a third of a call's CPU. A session that needs more (a proxy, response
    hooks, a credential other than a user and password) goes through `requests`' own
    `Session.request`; a redirect is followed as `Session.send` follows it.
    """

    def __init__(
        self,
        base_url: str,
        *,
        session: requests.Session,
        budget: RequestBudget | RequestWindow | None = None,
        retry: RetryPolicy | None = None,
        name: str = "api",
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.session = session
        if session.trust_env:
            environment = session.merge_environment_settings(self.base_url, {}, None, None, None)
            session.proxies, session.verify, session.cert = (
                environment["proxies"],
                environment["verify"],
                environment["cert"],
            )
            session.trust_env = False
        self.budget = budget or RequestBudget(None)
        self.retry = retry or RetryPolicy()
        self.name = name
        self.stats = RequestStats()
        # per method, a request prepared with the session's headers and credential
        self._prepared: dict[str, requests.PreparedRequest] = {}

    def url(self, path: str) -> str:
        return urljoin(self.base_url, path.lstrip("/")) if not path.startswith("http") else path

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        shape: type | None = None,
        cost: int = 1,
    ) -> Any:
        """Send one request with retries; returns the decoded JSON body (None for an empty body).

        With `shape` (a msgspec type), the body is decoded straight into it: parts declared
        `msgspec.Raw` stay undecoded JSON text. A body of another shape raises `ApiError`.
        `cost` is what the request takes of the budget (a batch of several requests in one).
        """
        url = self.url(path)
        endpoint = f"{method} {urlsplit(url).path}"
        waited_total = 0.0
        attempt = 0
        while True:
            attempt += 1
            self.stats.count(requests=1, wait_seconds=self.budget.acquire(cost))
            try:
                response = self._send(method, url, params, json)
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as error:
                reason = f"{type(error).__name__}"
                wait = self.retry.backoff(attempt)
                response = None
            else:
                if response.status_code < 400:
                    try:
                        if not response.content:
                            return None
                        return (
                            msgspec.json.decode(response.content, type=shape)
                            if shape
                            else msgspec.json.decode(response.content)
                        )
                    except msgspec.ValidationError as error:
                        raise ApiError(
                            f"{self.name}: {endpoint} answered a body of an unexpected shape: {error}",
                            status=response.status_code,
                            endpoint=endpoint,
                        ) from None
                    except ValueError as error:
                        # A body cut short mid-transfer decodes as invalid JSON: retry it like a dropped connection.
                        reason = f"invalid JSON body ({error})"
                        wait = self.retry.backoff(attempt)
                else:
                    status = response.status_code
                    if status not in RETRYABLE_STATUSES:
                        raise ApiError(
                            f"{self.name}: {endpoint} answered HTTP {status}: {_body_excerpt(response)}",
                            status=status,
                            endpoint=endpoint,
                        )
                    if status == 429:
                        self.stats.count(rate_limited=1)
                    reason = f"HTTP {status}"
                    asked = retry_after_seconds(response)
                    wait = asked if asked is not None else self.retry.backoff(attempt)
            if attempt >= self.retry.max_attempts or waited_total + wait > self.retry.max_total_wait_seconds:
                status = response.status_code if response is not None else None
                raise ApiError(
                    f"{self.name}: {endpoint} still failing after {attempt} attempts and {waited_total:.1f} s "
                    f"of waiting (last: {reason})",
                    status=status,
                    endpoint=endpoint,
                )
            log.warning("%s: %s %s, retrying in %.2f s (attempt %d)", self.name, endpoint, reason, wait, attempt)
            self.stats.count(retries=1, wait_seconds=wait)
            waited_total += wait
            time.sleep(wait)

    def _send(self, method: str, url: str, params: Any, body: Any) -> requests.Response:
        """One exchange, through a copy of the method's prepared request when the session allows it."""
        session = self.session
        if session.proxies or any(session.hooks.values()) or not isinstance(session.auth, tuple | None):
            return session.request(method, url, params=params, json=body, timeout=self.retry.timeout)
        template = self._prepared.get(method)
        if template is None:
            template = self._prepared[method] = session.prepare_request(requests.Request(method, url))
        prepared = template.copy()
        prepared.prepare_url(url, params)
        if body is not None:
            prepared.body = msgspec.json.encode(body)
            prepared.headers["Content-Type"] = "application/json"
            prepared.headers["Content-Length"] = str(len(prepared.body))
        response = session.get_adapter(prepared.url).send(
            prepared, timeout=self.retry.timeout, verify=session.verify, cert=session.cert
        )
        if response.is_redirect:
            # followed as `Session.send` follows it (the method changed, the credential kept only on the same host)
            *_, response = session.resolve_redirects(
                response, prepared, timeout=self.retry.timeout, verify=session.verify, cert=session.cert, proxies={}
            )
        read_body(response)  # here, as `Session.request` reads it, so that a body cut short is retried
        return response

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None)

    def post(self, path: str, body: Any, shape: type | None = None) -> Any:
        return self.request("POST", path, json=body, shape=shape)


def _body_excerpt(response: requests.Response, limit: int = 300) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:limit] + ("…" if len(text) > limit else "") if text else "(empty body)"
