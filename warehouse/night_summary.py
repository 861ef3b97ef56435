"""The nightly run's summary: what each source landed and what it asked of its API, whether the marts
were published, what failed.

`night_outcome`, the DAG's last task, logs it (and returns it to XCom); a data engineer reads it
first in the morning. A night is failed when a selected source did not land, or when the marts
were not published (a model or test failed, so BI kept the previous night's marts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from warehouse.publish import BuildFailure, Publication


@dataclass
class NightSummary:
    run_id: str
    run_date: str
    sources: dict[str, list[dict[str, Any]] | None]
    skipped_sources: list[str] = field(default_factory=list)
    publication: dict[str, Any] | None = None
    last_publication: Publication | None = None
    build_failures: list[BuildFailure] = field(default_factory=list)
    failed_build_tasks: list[str] = field(default_factory=list)
    stale_sources: list[str] = field(default_factory=list)

    @property
    def failed_sources(self) -> list[str]:
        return sorted(name for name, streams in self.sources.items() if streams is None)

    @property
    def problems(self) -> list[str]:
        problems = []
        if self.failed_sources:
            problems.append(
                f"sources not extracted (their last good data was used; stale in dq_source_freshness):"
                f" {', '.join(self.failed_sources)}"
            )
        if self.publication is None:
            problems.append(f"marts not published: {self._kept_marts()}")
        return problems

    def _kept_marts(self) -> str:
        if self.last_publication is None:
            return "nothing has been published yet"
        published = self.last_publication
        return f"BI still reads the marts of {published.run_date} (published {published.published_at:%Y-%m-%d %H:%M})"

    def as_text(self) -> str:
        lines = [f"night {self.run_date} ({self.run_id}): {'FAILED' if self.problems else 'ok'}", "sources:"]
        for name, streams in sorted(self.sources.items()):
            if streams is None:
                lines.append(f"  {name:<24} FAILED (see the extract_{name} task log)")
                continue
            records, rejected, deleted, requests, retries, waited = (
                sum(stream.get(key, 0) for stream in streams)
                for key in ("records", "rejected", "deleted", "requests", "retries", "wait_seconds")
            )
            lines.append(
                f"  {name:<24} {len(streams)} streams, {records:,} records, {rejected:,} rejected, {deleted:,} deleted;"
                f" {requests:,} requests, {retries:,} retried, {waited:,.1f} s waited on rate limits"
            )
        for name in sorted(self.skipped_sources):
            lines.append(f"  {name:<24} not selected for this run")
        if self.publication is not None:
            lines.append(
                f"marts: published {self.publication['tables']} tables, {self.publication['total_rows']:,} rows"
            )
        else:
            lines.append(f"marts: NOT published; {self._kept_marts()}")
        if self.failed_build_tasks:
            lines.append(f"failed dbt tasks: {', '.join(sorted(self.failed_build_tasks))}")
        for failure in self.build_failures:
            lines.append(f"  {failure.describe()}")
        lines.append(f"stale sources: {', '.join(self.stale_sources) if self.stale_sources else 'none'}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "run_date": self.run_date,
            "ok": not self.problems,
            "failed_sources": self.failed_sources,
            "skipped_sources": sorted(self.skipped_sources),
            "published": self.publication is not None,
            "build_failures": [failure.describe() for failure in self.build_failures],
            "failed_build_tasks": sorted(self.failed_build_tasks),
            "stale_sources": self.stale_sources,
            "problems": self.problems,
        }
