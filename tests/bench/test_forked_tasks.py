"""`python -m bench.forked_tasks` kept from rotting: one round of both variants, one small model, on an
empty database."""

from __future__ import annotations

from bench.forked_tasks import VARIANTS, measure


def test_both_variants_fork_a_task_that_builds_its_model(warehouse_url) -> None:
    lines: list[str] = []
    results = measure(warehouse_url, ["dim_date"], rounds=1, run_date="2026-12-06", log=lines.append)

    assert [result["variant"] for result in results] == list(VARIANTS)
    for result in results:
        assert result["preload_seconds"] > 0
        [task] = result["tasks"]
        assert task["model"] == "dim_date" and task["passed"], result
        assert 0 < task["cpu_seconds"] <= task["seconds"] * 2
    assert len(lines) == 2 and all("1 passed" in line for line in lines)
