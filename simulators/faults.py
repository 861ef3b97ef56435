"""Faults a simulator can be told to produce, so that tests and the demo exercise the recovery paths.

A `FaultPlan` holds rules; each rule matches request paths (a regex), lets `skip` matching
requests through, then hits the next `times` ones:

| kind               | what the client sees                                             |
|--------------------|------------------------------------------------------------------|
| `rate_limit`       | 429 with `Retry-After` (seconds)                                 |
| `rate_limit_reset` | 429 with only `X-RateLimit-Reset` (an ISO 8601 instant)           |
| `rate_limit_bare`  | 429 with no header at all (the client must back off by itself)   |
| `server_error`     | 500                                                              |
| `unavailable`      | 503                                                              |
| `slow`             | the right answer, `delay` seconds late                           |
| `drop`             | headers and half the body, then the connection closes            |
| `malformed`        | the right page with a non-object record and an id-less one added |

A plan can be written as text, e.g. `rate_limit:2,unavailable:3@/search,malformed:1@/issues`
(kind, `:times`, `@path-regex`), which is how the command line and the environment set it.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulators.base import SimRequest, SimResponse, SimulatorServer

FAULT_KINDS = (
    "rate_limit",
    "rate_limit_reset",
    "rate_limit_bare",
    "server_error",
    "unavailable",
    "slow",
    "drop",
    "malformed",
)
BEFORE_KINDS = {"rate_limit", "rate_limit_reset", "rate_limit_bare", "server_error", "unavailable"}


@dataclass
class Fault:
    kind: str
    path: str = ".*"
    times: int = 1
    skip: int = 0
    retry_after: float = 0.2
    reset_after: float = 0.2
    delay: float = 1.0
    seen: int = field(default=0, init=False)
    fired: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {', '.join(FAULT_KINDS)}")
        self.pattern = re.compile(self.path)

    def take(self, path: str) -> bool:
        """Whether this fault hits the request (counts it either way)."""
        if not self.pattern.search(path):
            return False
        self.seen += 1
        if self.seen <= self.skip or self.fired >= self.times:
            return False
        self.fired += 1
        return True


class FaultPlan:
    """The faults in force on one simulator; thread-safe, and inspectable after a run."""

    def __init__(self, faults: list[Fault] | None = None) -> None:
        self.faults: list[Fault] = list(faults or [])
        self.lock = threading.Lock()

    @classmethod
    def parse(cls, spec: str | None) -> FaultPlan:
        faults = []
        for item in (spec or "").split(","):
            item = item.strip()
            if not item:
                continue
            head, _, path = item.partition("@")
            kind, _, times = head.partition(":")
            faults.append(Fault(kind.strip(), path=path.strip() or ".*", times=int(times or 1)))
        return cls(faults)

    def add(self, kind: str, **options: Any) -> Fault:
        fault = Fault(kind, **options)
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self.lock:
            self.faults.clear()

    def fired(self, kind: str | None = None) -> int:
        return sum(fault.fired for fault in self.faults if kind is None or fault.kind == kind)

    def _hits(self, path: str, kinds: set[str], first_only: bool = False) -> list[Fault]:
        hits: list[Fault] = []
        with self.lock:
            for fault in self.faults:
                if fault.kind in kinds and fault.take(path):
                    hits.append(fault)
                    if first_only:
                        break
        return hits

    def before(self, request: SimRequest, simulator: SimulatorServer) -> SimResponse | None:
        """An answer in the simulator's place (429, 5xx), or None; one fault answers one request."""
        for fault in self._hits(request.path, BEFORE_KINDS, first_only=True):
            if fault.kind == "rate_limit":
                return simulator.rate_limited_response(fault.retry_after, None)
            if fault.kind == "rate_limit_reset":
                reset = (datetime.now(UTC) + timedelta(seconds=fault.reset_after)).isoformat(timespec="milliseconds")
                return simulator.rate_limited_response(None, reset.replace("+00:00", "Z"))
            if fault.kind == "rate_limit_bare":
                return simulator.rate_limited_response(None, None)
            return simulator.server_error_response(500 if fault.kind == "server_error" else 503)
        return None

    def after(self, request: SimRequest, response: SimResponse, simulator: SimulatorServer) -> SimResponse:
        """The right answer, possibly late, cut short, or with malformed records added."""
        for fault in self._hits(request.path, {"slow", "drop", "malformed"}):
            if fault.kind == "slow":
                response.delay_seconds += fault.delay
            elif fault.kind == "malformed":
                response.body = simulator.with_malformed_records(response.body)
            elif fault.kind == "drop":
                response.body = simulator.encode(response.body)
                response.drop_after_bytes = max(1, len(response.body) // 2)
        return response
