"""What a stream run reports: records, rejects, deletes, pages, time, watermark and HTTP figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectors.raw_store import StreamWriter


@dataclass
class StreamResult:
    stream: str
    records: int = 0
    rejected: int = 0
    deleted: int = 0
    pages: int = 0
    seconds: float = 0.0
    watermark: str | None = None
    http: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stream": self.stream,
            "records": self.records,
            "rejected": self.rejected,
            "deleted": self.deleted,
            "pages": self.pages,
            "seconds": round(self.seconds, 2),
            "watermark": self.watermark,
            **self.http,
        }


def result_from(result: StreamResult, writer: StreamWriter) -> StreamResult:
    """Copy a writer's counts into the stream's result."""
    result.records = writer.counts.loaded
    result.rejected = writer.counts.rejected
    result.deleted = writer.counts.deleted
    result.pages = writer.counts.pages
    return result
