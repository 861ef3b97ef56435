"""OrderedReader: results in the order of the items, read in the caller's thread while reads are fast."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from connectors.ordered_reads import OrderedReader


def reads_with_threads(delays: dict[int, float]):
    """A read of item i that sleeps delays.get(i, 0) and yields (i, part, the reading thread's name) twice."""
    threads: dict[int, str] = {}

    def read(item: int) -> Iterator[tuple[int, int]]:
        threads[item] = threading.current_thread().name
        time.sleep(delays.get(item, 0.0))
        yield item, 0
        yield item, 1

    return read, threads


def read_all(reader: OrderedReader[int, tuple[int, int]], items: list[int], read) -> list[tuple[int, int]]:
    """Every result of reading `items`, the reader's threads stopped afterwards."""
    try:
        return list(reader.read(items, read))
    finally:
        reader.close()


def test_without_a_threshold_every_item_is_read_on_the_pool_in_order():
    reader: OrderedReader[int, tuple[int, int]] = OrderedReader(3, name="plain")
    read, threads = reads_with_threads({0: 0.03})
    results = read_all(reader, list(range(6)), read)
    assert results == [(item, part) for item in range(6) for part in (0, 1)]
    assert all(name.startswith("plain-read") for name in threads.values())


def test_fast_reads_stay_in_the_callers_thread():
    reader: OrderedReader[int, tuple[int, int]] = OrderedReader(3, name="near", inline_below_seconds=0.5)
    read, threads = reads_with_threads({})
    results = read_all(reader, list(range(6)), read)
    assert results == [(item, part) for item in range(6) for part in (0, 1)]
    assert set(threads.values()) == {threading.current_thread().name}


def test_the_first_slow_read_moves_the_rest_of_the_list_onto_the_threads():
    reader: OrderedReader[int, tuple[int, int]] = OrderedReader(3, name="far", inline_below_seconds=0.05)
    read, threads = reads_with_threads({2: 0.1})
    results = read_all(reader, list(range(6)), read)
    assert results == [(item, part) for item in range(6) for part in (0, 1)]
    caller = threading.current_thread().name
    assert [threads[item] == caller for item in range(6)] == [True, True, True, False, False, False]
    assert all(threads[item].startswith("far-read") for item in (3, 4, 5))


def test_the_time_the_caller_spends_between_results_does_not_count_as_reading():
    reader: OrderedReader[int, tuple[int, int]] = OrderedReader(3, name="busy", inline_below_seconds=0.05)
    read, threads = reads_with_threads({})
    results = []
    for result in reader.read(list(range(4)), read):
        time.sleep(0.03)  # the caller loading what it got, twice per item: 60 ms an item
        results.append(result)
    reader.close()
    assert results == [(item, part) for item in range(4) for part in (0, 1)]
    assert set(threads.values()) == {threading.current_thread().name}
