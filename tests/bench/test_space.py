"""The bench's free space check: what a run will write, added up by filesystem, against what is free."""

from __future__ import annotations

from collections import namedtuple

import bench.run
from bench.space import (
    GIB,
    JIRA_STORE_BYTES_PER_RECORD,
    SpaceNeed,
    jira_records,
    shortfalls,
    space_needs,
)
from simulators.jira_stored import store_directory
from simulators.world import WorldConfig

Usage = namedtuple("Usage", "total used free")


def disks_with(monkeypatch, gib: float) -> None:
    """Every disk `gib` GiB free."""
    monkeypatch.setattr("bench.space.shutil.disk_usage", lambda path: Usage(0, 0, int(gib * GIB)))


def test_needs_on_one_filesystem_add_up(tmp_path, monkeypatch):
    needs = [SpaceNeed("data", tmp_path / "data", 3 * GIB), SpaceNeed("site", tmp_path / "site" / "new", 2 * GIB)]

    disks_with(monkeypatch, 6)
    assert shortfalls(needs) == []
    disks_with(monkeypatch, 4)
    [message] = shortfalls(needs)
    assert message.startswith("5.0 GiB needed, 4.0 GiB free")
    assert f"data in {tmp_path / 'data'}: 3.0 GiB" in message
    assert f"site in {tmp_path / 'site' / 'new'}: 2.0 GiB" in message


def test_an_enterprise_run_needs_room_for_its_jira_site_until_it_is_generated(tmp_path):
    site = store_directory(WorldConfig(scale="enterprise"), tmp_path)

    needs = space_needs(["large", "demo"], "enterprise", store_root=tmp_path)
    assert [need.purpose for need in needs] == ["the bench's PostgreSQL data", "the enterprise world's Jira site"]
    assert needs[1].directory == site
    assert needs[1].bytes == JIRA_STORE_BYTES_PER_RECORD * jira_records("enterprise")

    site.mkdir(parents=True)
    (site / "complete").write_text("seconds 1.0\n")
    assert [need.purpose for need in space_needs(["large"], "enterprise", store_root=tmp_path)] == [
        "the bench's PostgreSQL data"
    ]


def test_the_enterprise_world_needs_more_room_than_the_large_one(tmp_path):
    [large_only] = space_needs(["large", "demo", "large"], None, store_root=tmp_path)
    with_enterprise = space_needs(["large", "demo"], "enterprise", store_root=tmp_path)[0]
    assert large_only.bytes < 4 * GIB < 12 * GIB < with_enterprise.bytes


def test_the_bench_stops_before_it_starts_when_a_disk_is_too_full(monkeypatch, capsys):
    def no_run(*args, **kwargs):
        raise AssertionError("the bench started")

    monkeypatch.setattr(bench.run, "run", no_run)
    disks_with(monkeypatch, 0.5)

    assert bench.run.main(["--enterprise"]) == 2
    error = capsys.readouterr().err
    assert "not enough free disk space" in error
    assert "--ignore-free-space" in error

    started = []
    monkeypatch.setattr(bench.run, "run", lambda *args, **kwargs: started.append(args))
    assert bench.run.main(["--enterprise", "--ignore-free-space"]) == 0
    assert started


def test_the_bench_starts_when_every_disk_has_room(monkeypatch):
    started = []
    monkeypatch.setattr(bench.run, "run", lambda *args, **kwargs: started.append(args))
    disks_with(monkeypatch, 500)
    assert bench.run.main(["--enterprise"]) == 0
    assert started
