"""Reading the figures back out of a rendered report: headline tiles, counts, tables and chart containers."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Metric:
    value: str
    text: str = ""


@dataclass
class ChartContainer:
    state: str
    text: str = ""
    classes: set[str] = field(default_factory=set)


class ReportReader(HTMLParser):
    """Collects `data-metric` elements, tables by id, and `chart-*` containers with their state and text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.metrics: dict[str, Metric] = {}
        self.tables: dict[str, list[list[str]]] = {}
        self.charts: dict[str, ChartContainer] = {}
        self.external_references: list[str] = []
        self._open: list[tuple[str, str | None, str | None]] = []
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for name in ("src", "href"):
            reference = attributes.get(name) or ""
            if reference.startswith(("http:", "https:", "//")):
                self.external_references.append(reference)
        if tag in VOID_ELEMENTS:
            return
        metric = attributes.get("data-metric")
        chart = attributes.get("id") if (attributes.get("id") or "").startswith("chart-") else None
        if metric is not None:
            self.metrics[metric] = Metric(attributes.get("data-value") or "")
        if chart is not None:
            self.charts[chart] = ChartContainer(attributes.get("data-state") or "")
        self._open.append((tag, metric, chart))
        if tag == "table" and attributes.get("id"):
            self._table = attributes["id"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in {"td", "th"} and self._row is not None:
            self._cell = []
        for child_class in (attributes.get("class") or "").split():
            for _, _, open_chart in self._open:
                if open_chart:
                    self.charts[open_chart].classes.add(child_class)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_ELEMENTS:
            return
        while self._open:
            open_tag, _, _ = self._open.pop()
            if open_tag == tag:
                break
        if tag in {"td", "th"} and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        for _, metric, chart in self._open:
            if metric is not None:
                self.metrics[metric].text += data
            if chart is not None:
                self.charts[chart].text += data
        if self._cell is not None:
            self._cell.append(data)


def read_report(path: Path) -> ReportReader:
    reader = ReportReader()
    reader.feed(path.read_text(encoding="utf-8"))
    reader.close()
    return reader


def table_records(reader: ReportReader, table_id: str) -> list[dict[str, str]]:
    """A table's body rows as dicts keyed by its header cells."""
    header, *rows = reader.tables[table_id]
    return [dict(zip(header, row, strict=True)) for row in rows]
