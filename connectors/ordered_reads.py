"""Reading several lists at once while handing their results back in order.

A connector whose lists do not depend on each other (Asana's batches, Smartsheet's sheets) reads
them on a few threads, so that one list's round trip overlaps another's, while the caller consumes
the results in the order of the lists: its watermarks and the state saved with each load follow
that order, as they would reading one list at a time.

Threads pay only while a read waits on the network. Against a server close by, a read is mostly
this process's own work (the HTTP exchange, decoding), which threads only share under the
interpreter lock, at the cost of switching between them and of delaying the loader's thread. A
reader given `inline_below_seconds` therefore reads the first items one at a time in the caller's
thread, and starts its threads for the rest of the list at the first item that took that long.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class OrderedReader(Generic[Item, Result]):
    """`read(item)` for each item on up to `workers` threads, results in the order of the items.

    At most twice `workers` items' results wait in memory. The threads start at the first read of
    more than one item (with `inline_below_seconds`, at the first item whose read took that long)
    and live until `close`: starting a pool per list costs more than the requests of a small list.
    """

    def __init__(self, workers: int, name: str, *, inline_below_seconds: float | None = None) -> None:
        self.workers = max(1, workers)
        self.name = name
        self.inline_below_seconds = inline_below_seconds
        self._pool: ThreadPoolExecutor | None = None

    def read(self, items: list[Item], read: Callable[[Item], Iterator[Result]]) -> Iterator[Result]:
        if self.workers == 1 or len(items) < 2:
            for item in items:
                yield from read(item)
            return
        if self.inline_below_seconds is not None:
            inline = 0
            while inline < len(items):
                seconds = yield from _timed(read(items[inline]))
                inline += 1
                if seconds >= self.inline_below_seconds:
                    break
            items = items[inline:]
            if not items:
                return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix=f"{self.name}-read")
        pool = self._pool
        waiting: deque[Future[list[Result]]] = deque()
        try:
            for item in items:
                waiting.append(pool.submit(lambda item=item: list(read(item))))
                if len(waiting) >= 2 * self.workers:
                    yield from waiting.popleft().result()
            while waiting:
                yield from waiting.popleft().result()
        finally:
            for future in waiting:
                future.cancel()
            for future in waiting:
                if not future.cancelled():
                    future.exception()

    def close(self) -> None:
        """Stop the threads (they start again at the next read)."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


def _timed(results: Iterator[Result]) -> Generator[Result, None, float]:
    """Yield what `results` yields; return the seconds spent producing it (not those of the consumer)."""
    seconds = 0.0
    while True:
        began = time.perf_counter()
        try:
            result = next(results)
        except StopIteration:
            return seconds + time.perf_counter() - began
        seconds += time.perf_counter() - began
        yield result
