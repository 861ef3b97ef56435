"""Reading several lists at once while handing their results back in order.

A connector whose lists do not depend on each other (Asana's batches, Smartsheet's sheets) reads
them on a few threads, so that one list's round trip overlaps another's, while the caller consumes
the results in the order of the lists: its watermarks and the state saved with each load follow
that order, as they would reading one list at a time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class OrderedReader(Generic[Item, Result]):
    """`read(item)` for each item on up to `workers` threads, results in the order of the items.

    At most twice `workers` items' results wait in memory. The threads start at the first read of
    more than one item and live until `close`: starting a pool per list costs more than the requests
    of a small list.
    """

    def __init__(self, workers: int, name: str) -> None:
        self.workers = max(1, workers)
        self.name = name
        self._pool: ThreadPoolExecutor | None = None

    def read(self, items: list[Item], read: Callable[[Item], Iterator[Result]]) -> Iterator[Result]:
        if self.workers == 1 or len(items) < 2:
            for item in items:
                yield from read(item)
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
