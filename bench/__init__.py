"""Benchmarks of the warehouse's pipeline: `python -m bench.run` measures it against the machine's limit and a peer.

Benchmarks are not tests: nothing here asserts a timing. `tests/bench` only checks that the
harness still runs and still prints every row of its table.
"""
