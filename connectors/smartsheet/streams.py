"""The Smartsheet streams: what each one reads, its key, its cursor, and how deletes are found.

| stream         | reads                                              | key    | cursor                | deletes       |
|----------------|----------------------------------------------------|--------|-----------------------|---------------|
| register_rows  | the portfolio register sheet                       | row id | modifiedAt, per sheet | row-id census |
| rate_card_rows | the rate card sheet                                | row id | modifiedAt, per sheet | row-id census |
| plan_rows      | every project-plan sheet                           | row id | modifiedAt, per sheet | row-id census |
| sheets         | `GET /sheets`, with the columns of the sheets read | id     | none (re-read)        | census        |

A row record is the row as the API returned it plus `sheet_id`, `sheet_name`, `cells_by_title`
(column title -> typed value; null for an empty cell, 0 and false kept as they are) and
`contract_fields` (the contract's field name -> typed value, through the settings' column map), so
the warehouse never joins column ids.

Each sheet keeps its own watermark, the newest `modifiedAt` read from it. A run asks for rows
modified since the watermark less the overlap window, in UTC. Smartsheet deletes rows without a
trace, so each incremental run also lists every row id with its `modifiedAt` (a census reading
only the primary column): ids gone from the sheet are tombstoned, and a row the census shows newer
than the warehouse's copy but that the incremental pages missed (offset paging over rows that
changed mid-run) is read again by id. A sheet of which the warehouse holds at most a page of rows
(`page_size`, 500 by default: most project plans) is read whole instead, one request where those
two take two; its rows are its census, and of them only those the two reads would have passed on
are landed: the rows modified since the watermark less the overlap window, and those the warehouse
lacks or holds older. A sheet's watermark is saved with its tombstones, after all its rows are in.
A mapped column missing from a sheet (renamed, deleted) fails the stream, naming the sheet and the
title.

Each sheet's state also keeps the version it was read at. Any change to a sheet (a cell, a row
added or deleted, a column renamed) moves its version, and the sheet list gives every sheet's
version in one request (`include=sheetVersion`), so an incremental run skips the sheets whose
version has not moved: neither their rows nor their census are asked for, and the sheets stream
keeps their stored columns instead of asking for them again.

The sheets stream runs after the row streams and takes a sheet's columns from the first page of
rows read in the same run (`GET /sheets/{id}` returns the sheet's columns with its rows) when that
page was read at the version the sheet list shows; `GET /sheets/{id}/columns` is asked only for a
sheet neither read nor kept (a run of the sheets stream alone, a sheet changed between the list and
its read). So a changed sheet costs one request less than when the sheets stream asked for the
columns of every sheet it had not kept. The sheet list is asked for once a run, by the first stream
that needs it. The plan sheets (unless configured) are the register rows' Smartsheet sheets, read
from the warehouse once the register_rows stream has landed the register in the same run, else
from the API.

A row stream reads what the warehouse holds of its sheets once, before its first sheet. It reads
its first sheets one at a time in its own thread, loading each page as soon as it is read (so does
a stream of one sheet: the register, the rate card). From the first sheet that takes 20 ms or more
(a server out on the network rather than close by) it reads `concurrent_requests` sheets at once,
each sheet whole (its pages, then on an incremental run its census) on a reading thread, with at
most twice that many sheets read ahead and waiting in memory. It loads them in the sheets' order,
pages and tombstones through a `PageLoader`, on a thread of its own, so each sheet's watermark is
saved after its rows as when they were read one by one.

Rows are not decoded whole: each row stays the JSON text the API sent, and the record adds its keys
to that text (`SheetLayout.record`), so a row is read once and never encoded again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import psycopg
from psycopg import sql

from connectors.http import RetryPolicy
from connectors.ordered_reads import OrderedReader
from connectors.raw_store import EncodedRecord, PageLoader, StreamWriter, ensure_control_tables
from connectors.runs import StreamResult, result_from
from connectors.smartsheet.client import JSON_NULL, SheetRow, SmartsheetClient, row_id
from connectors.smartsheet.settings import SOURCE_SYSTEM, SmartsheetSettings

log = logging.getLogger(__name__)

ROW_STREAM_KINDS = {"register_rows": "register", "rate_card_rows": "rate_card", "plan_rows": "plan"}
STREAMS = (*ROW_STREAM_KINDS, "sheets")
ROW_IDS_PER_REQUEST = 100
# A sheet read faster than this came from a server close by: the next sheet is read in the stream's
# own thread rather than several at once (see `connectors.ordered_reads`).
INLINE_SHEET_READ_SECONDS = 0.02


class SheetColumnsError(RuntimeError):
    """A sheet lacks a column the column map names: the stream stops rather than load rows without it."""


def parse_instant(value: Any) -> datetime | None:
    """A Smartsheet timestamp (`2018-04-21T18:06:45Z`) as an aware UTC datetime; None when unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        instant = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (instant if instant.tzinfo else instant.replace(tzinfo=UTC)).astimezone(UTC)


def _isoformat(instant: datetime | None) -> str | None:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z") if instant else None


@dataclass(frozen=True)
class SheetLayout:
    """A sheet's columns as one page of `GET /sheets/{id}` shows them, and how rows become records."""

    sheet_id: int
    name: str
    titles_by_column_id: Mapping[Any, str]
    primary_column_id: Any
    field_titles: Mapping[str, str]
    # what `record` splices into a row's JSON text: each column's place among the distinct titles, each
    # contract field's place, the keys of `cells_by_title` and `contract_fields` as JSON text, and the
    # keys added before them
    _places: dict[Any, int] = field(init=False, repr=False, compare=False)
    _field_places: dict[str, int] = field(init=False, repr=False, compare=False)
    _title_keys: tuple[bytes, ...] = field(init=False, repr=False, compare=False)
    _field_keys: tuple[tuple[bytes, int], ...] = field(init=False, repr=False, compare=False)
    _added_keys: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        titles = list(dict.fromkeys(self.titles_by_column_id.values()))
        place_of_title = {title: place for place, title in enumerate(titles)}
        # a field whose title the sheet lacks (`from_body` refuses such a sheet) has no place: -1, null
        field_places = {name: place_of_title.get(title, -1) for name, title in self.field_titles.items()}
        encode = msgspec.json.encode
        object.__setattr__(
            self, "_places", {column_id: place_of_title[title] for column_id, title in self.titles_by_column_id.items()}
        )
        object.__setattr__(self, "_field_places", field_places)
        object.__setattr__(self, "_title_keys", tuple(encode(title) + b":" for title in titles))
        object.__setattr__(
            self, "_field_keys", tuple((encode(name) + b":", place) for name, place in field_places.items())
        )
        object.__setattr__(
            self, "_added_keys", b',"sheet_id":%s,"sheet_name":%s' % (encode(self.sheet_id), encode(self.name))
        )

    @classmethod
    def from_body(
        cls, body: Mapping[str, Any], field_titles: Mapping[str, str], *, sheet_id: int, context: str
    ) -> SheetLayout:
        columns = [column for column in body.get("columns") or [] if isinstance(column, dict)]
        titles = {column.get("id"): str(column.get("title")) for column in columns}
        name = str(body.get("name") or "")
        present = set(titles.values())
        missing = [(field, title) for field, title in field_titles.items() if title not in present]
        if missing:
            wanted = ", ".join(f"{title!r} (for {field})" for field, title in missing)
            raise SheetColumnsError(
                f"{context}: sheet {sheet_id} ({name!r}) has no column titled {wanted}; its columns are "
                f"{sorted(present)}. Rename the column back, or map the field to its new title in column_map."
            )
        primary = next((column.get("id") for column in columns if column.get("primary")), None)
        return cls(sheet_id, name, titles, primary, dict(field_titles))

    def record(self, row: Any) -> Any:
        """The raw record of a row; anything that is not a row with an id is returned as it came, for the
        loader to reject.

        A `SheetRow` becomes an `EncodedRecord`: the row's JSON text with the added keys spliced in
        before its closing brace, so that the row is neither decoded whole nor encoded again."""
        if isinstance(row, SheetRow):
            return self._spliced(row)
        if not isinstance(row, dict) or row.get("id") is None:
            return row
        cells_by_title: dict[str, Any] = dict.fromkeys(self.titles_by_column_id.values())
        for cell in row.get("cells") or []:
            if isinstance(cell, dict) and cell.get("columnId") in self.titles_by_column_id:
                cells_by_title[self.titles_by_column_id[cell["columnId"]]] = cell.get("value")
        return {
            **row,
            "sheet_id": self.sheet_id,
            "sheet_name": self.name,
            "cells_by_title": cells_by_title,
            "contract_fields": {name: cells_by_title.get(title) for name, title in self.field_titles.items()},
        }

    def contract_fields(self, row: Any) -> dict[str, Any] | None:
        """A row's contract fields (field name -> typed value), as `record` lands them; None for
        anything that is not a row with an id."""
        if isinstance(row, SheetRow):
            values = self._values_by_place(row)
            return {
                name: msgspec.json.decode(values[place]) if place >= 0 else None
                for name, place in self._field_places.items()
            }
        record = self.record(row)
        return record["contract_fields"] if isinstance(record, dict) else None

    def _values_by_place(self, row: SheetRow) -> list[Any]:
        """Each distinct title's value in the row, as JSON text (null for a column the row has no cell in)."""
        values: list[Any] = [JSON_NULL] * len(self._title_keys)
        places = self._places
        for cell in row.head.cells or ():
            place = places.get(cell.columnId)
            if place is not None:
                values[place] = cell.value
        return values

    def _spliced(self, row: SheetRow) -> EncodedRecord:
        values = self._values_by_place(row)
        payload = b"".join(
            (
                row.text[:-1],  # a row's text is the object exactly, its closing brace last
                self._added_keys,
                b',"cells_by_title":{',
                b",".join([key + value for key, value in zip(self._title_keys, values, strict=True)]),
                b'},"contract_fields":{',
                b",".join([key + (values[place] if place >= 0 else b"null") for key, place in self._field_keys]),
                b"}}",
            )
        )
        return EncodedRecord(row.head.id, row.head.modifiedAt, payload)


@dataclass(frozen=True)
class _SheetPage:
    """A page of one sheet's rows, handed to the loader as soon as it is read."""

    sheet_id: int
    watermark: datetime | None
    since: datetime | None
    layout: SheetLayout
    body: dict[str, Any]
    version: int | None


@dataclass(frozen=True)
class _SheetEnd:
    """The end of one sheet's pages: on an incremental read, its census (row id -> modifiedAt)."""

    sheet_id: int
    census: dict[str, str | None] | None


@dataclass
class _SheetLoad:
    """One sheet being loaded: what its pages have shown so far."""

    first_page: _SheetPage
    newest: datetime | None
    read_ids: set[str] = field(default_factory=set)


def _sheet_id_from_register(value: Any) -> int | None:
    """A register's source_project_key as a sheet id: Smartsheet hands digits back as a number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    return int(text) if text.isdigit() else None


class SmartsheetExtractor:
    """Runs the Smartsheet streams of one account into the warehouse."""

    def __init__(
        self, settings: SmartsheetSettings, connection: psycopg.Connection, client: SmartsheetClient | None = None
    ) -> None:
        self.settings = settings
        self.connection = connection
        self.client = client or SmartsheetClient(settings)
        self.label = f"smartsheet[{settings.instance}]"
        self._forget_earlier_runs()
        self._readers: OrderedReader[int, _SheetPage | _SheetEnd] = OrderedReader(
            settings.concurrent_requests, name=self.label, inline_below_seconds=INLINE_SHEET_READ_SECONDS
        )

    def _forget_earlier_runs(self) -> None:
        """What a run learns as it goes, empty: the plan sheets, the sheet list and the columns found by
        an earlier run of this extractor are no longer news."""
        self._plan_sheet_ids: tuple[int, ...] | None = self.settings.plan_sheet_ids
        self._register_landed = False
        self._sheet_list: list[list[Any]] | None = None
        # sheet id -> (the version its first page of rows was read at, the columns that page showed)
        self._columns_read: dict[int, tuple[int | None, list[Any]]] = {}

    def writer(self, stream: str) -> StreamWriter:
        return StreamWriter(
            self.connection,
            source_system=SOURCE_SYSTEM,
            source_instance=self.settings.instance,
            stream=stream,
            record_id=lambda record: record.get("id"),
            cursor_value=lambda record: record.get("modifiedAt"),
        )

    def run(self, streams: Iterable[str] | None = None, full_refresh: bool = False) -> list[StreamResult]:
        wanted = list(streams or STREAMS)
        unknown = set(wanted) - set(STREAMS)
        if unknown:
            raise ValueError(f"unknown Smartsheet streams {sorted(unknown)}; known: {list(STREAMS)}")
        runners: dict[str, Callable[..., StreamResult]] = {
            "sheets": self.sync_sheets,
            "register_rows": self.sync_register_rows,
            "rate_card_rows": self.sync_rate_card_rows,
            "plan_rows": self.sync_plan_rows,
        }
        self._forget_earlier_runs()
        # the run's, not its first stream's: made sure of once per connection
        ensure_control_tables(self.connection)
        try:
            return [self._timed(name, runners[name], full_refresh) for name in STREAMS if name in wanted]
        finally:
            self._readers.close()

    def _timed(self, name: str, runner: Callable[..., StreamResult], full_refresh: bool) -> StreamResult:
        before = self.client.api.stats.as_dict()
        started = time.monotonic()
        result = runner(full_refresh=full_refresh)
        result.seconds = time.monotonic() - started
        after = self.client.api.stats.as_dict()
        result.http = {key: round(after[key] - before[key], 2) for key in after}
        log.info(
            "%s %s: %d records, %d rejected, %d deleted, %d pages, %d requests, %d retries, "
            "%.1f s waited, watermark %s, %.1f s",
            self.label,
            name,
            result.records,
            result.rejected,
            result.deleted,
            result.pages,
            result.http["requests"],
            result.http["retries"],
            result.http["wait_seconds"],
            result.watermark,
            result.seconds,
        )
        return result

    # -- which sheets ----------------------------------------------------------------------------
    def plan_sheet_ids(self) -> tuple[int, ...]:
        """The configured plan sheets, else the sheets the register's smartsheet rows point at: read from
        the warehouse when the register_rows stream landed the register in this run, else from the API."""
        if self._plan_sheet_ids is not None:
            return self._plan_sheet_ids
        if self._register_landed:
            rows = self._landed_register_rows()
            where = "the register as landed"
        else:
            rows = self._register_rows_read()
            where = "the register"
        found: list[int] = []
        for key, values in rows:
            if str(values.get("source_system") or "").strip().lower() != SOURCE_SYSTEM:
                continue
            plan_id = _sheet_id_from_register(values.get("source_project_key"))
            if plan_id is None:
                log.warning(
                    "%s: register row %s (%s) names Smartsheet sheet %r, which is not a sheet id; skipped",
                    self.label,
                    key,
                    values.get("project_code"),
                    values.get("source_project_key"),
                )
            elif plan_id not in found:
                found.append(plan_id)
        self._plan_sheet_ids = tuple(found)
        log.info("%s: %s names %d plan sheets", self.label, where, len(found))
        return self._plan_sheet_ids

    def _register_rows_read(self) -> Iterator[tuple[Any, dict[str, Any]]]:
        """Each register row's id and contract fields, read from the API."""
        titles = self.settings.column_map["register"]
        needed = {name: titles[name] for name in ("project_code", "source_system", "source_project_key")}
        sheet_id = self.settings.register_sheet_id
        layout: SheetLayout | None = None
        for body in self.client.sheet_pages(sheet_id, self.settings.page_size):
            layout = layout or SheetLayout.from_body(
                body, needed, sheet_id=sheet_id, context=f"{self.label} plan sheets from the register"
            )
            for row in body["rows"]:
                values = layout.contract_fields(row)
                if values is not None:
                    yield row_id(row), values

    def _landed_register_rows(self) -> list[tuple[Any, dict[str, Any]]]:
        """Each live register row's id and the contract fields that name its plan sheet, in the sheet's
        row order, from the warehouse (each payload read once, by `jsonb_to_record`)."""
        rows = self.connection.execute(
            sql.SQL(
                "select record_id, landed.contract_fields->>'project_code',"
                " landed.contract_fields->>'source_system', landed.contract_fields->'source_project_key'"
                " from {table} cross join lateral jsonb_to_record(payload)"
                ' as landed(contract_fields jsonb, sheet_id text, "rowNumber" jsonb)'
                " where source_instance = %s and not is_deleted and landed.sheet_id = %s"
                ' order by landed."rowNumber" nulls last, record_id'
            ).format(table=self.writer("register_rows").table),
            (self.settings.instance, str(self.settings.register_sheet_id)),
        ).fetchall()
        self.connection.commit()
        return [
            (key, {"project_code": code, "source_system": system, "source_project_key": sheet})
            for key, code, system, sheet in rows
        ]

    def sheet_list(self) -> list[list[Any]]:
        """The pages of `GET /sheets` (every visible sheet with its version), listed once a run."""
        if self._sheet_list is None:
            self._sheet_list = list(self.client.list_sheets())
        return self._sheet_list

    def sheet_versions(self) -> dict[int, int]:
        """Each visible sheet's version (any change to a sheet moves it), from this run's sheet list."""
        return _versions(item for page in self.sheet_list() for item in page)

    def sheet_kinds(self) -> dict[int, str]:
        kinds = dict.fromkeys(self.plan_sheet_ids(), "plan")
        kinds[self.settings.rate_card_sheet_id] = "rate_card"
        kinds[self.settings.register_sheet_id] = "register"
        return kinds

    # -- streams ---------------------------------------------------------------------------------
    def sync_sheets(self, full_refresh: bool = False) -> StreamResult:
        """Every sheet the token sees, with its columns for the sheets this connector reads: kept from
        the last read if the version is the one stored (an incremental run), else taken from this
        run's rows of the sheet if read at the listed version, else asked for."""
        writer = self.writer("sheets")
        writer.begin()
        seen: set[str] = set()
        kept = taken = asked = 0
        try:
            kinds = self.sheet_kinds()
            stored = {} if full_refresh else self._stored_columns(writer)
            for page in self.sheet_list():
                records = []
                for item in page:
                    if isinstance(item, dict) and item.get("id") is not None:
                        sheet_id = int(item["id"])
                        kind = kinds.get(sheet_id)
                        record = {**item, "sheet_kind": kind}
                        if kind is not None:
                            listed = item.get("version")
                            version, columns = stored.get(str(sheet_id), (None, None))
                            read_at, read_columns = self._columns_read.get(sheet_id, (None, None))
                            if columns is not None and version is not None and version == listed:
                                record["columns"] = columns
                                kept += 1
                            elif read_columns is not None and read_at is not None and read_at == listed:
                                record["columns"] = read_columns
                                taken += 1
                            else:
                                record["columns"] = self.client.columns(sheet_id)
                                asked += 1
                        seen.add(str(item["id"]))
                        records.append(record)
                    else:
                        records.append(item)
                writer.write_page(records)
            log.info(
                "%s sheets: columns of %d sheets kept from their last read (same version), %d taken from"
                " this run's rows, %d asked for",
                self.label,
                kept,
                taken,
                asked,
            )
            invisible = sorted(sheet_id for sheet_id in kinds if str(sheet_id) not in seen)
            if invisible:
                log.warning("%s sheets: configured sheets the token cannot see: %s", self.label, invisible)
            gone = writer.live_ids() - seen
            if gone:
                writer.mark_deleted(gone)
            writer.finish(state={"snapshot_at": _isoformat(datetime.now(UTC))})
        except BaseException as error:
            writer.fail(error)
            raise
        return result_from(StreamResult("sheets"), writer)

    def sync_register_rows(self, full_refresh: bool = False) -> StreamResult:
        result = self._sync_rows("register_rows", lambda: (self.settings.register_sheet_id,), full_refresh)
        self._register_landed = True
        return result

    def sync_rate_card_rows(self, full_refresh: bool = False) -> StreamResult:
        return self._sync_rows("rate_card_rows", lambda: (self.settings.rate_card_sheet_id,), full_refresh)

    def sync_plan_rows(self, full_refresh: bool = False) -> StreamResult:
        return self._sync_rows("plan_rows", self.plan_sheet_ids, full_refresh)

    def _sync_rows(self, stream: str, sheet_ids: Callable[[], Iterable[int]], full_refresh: bool) -> StreamResult:
        writer = self.writer(stream)
        state = {} if full_refresh else writer.read_state()
        sheet_states: dict[str, dict[str, Any]] = dict(state.get("sheets") or {})
        watermarks = [parse_instant(entry.get("watermark")) for entry in sheet_states.values()]
        known = [instant for instant in watermarks if instant is not None]
        writer.begin(watermark_from=_isoformat(min(known)) if known else None)
        try:
            ids = self._sheets_to_read(stream, list(dict.fromkeys(sheet_ids())), sheet_states)
            stored = self._stored_rows(writer)
            previous = {
                sheet_id: parse_instant((sheet_states.get(str(sheet_id)) or {}).get("watermark")) for sheet_id in ids
            }

            def read(sheet_id: int) -> Iterator[_SheetPage | _SheetEnd]:
                yield from self._read_sheet(stream, sheet_id, previous[sheet_id], stored.get(str(sheet_id), {}))

            # a sheet is a page or two: let many wait, so that the loader writes several in one transaction
            with PageLoader(writer, max_pending=32) as loader:
                sheet: _SheetLoad | None = None
                for part in self._readers.read(ids, read):
                    if isinstance(part, _SheetPage):
                        if sheet is None:
                            sheet = _SheetLoad(part, part.watermark)
                            self._columns_read[part.sheet_id] = (part.version, part.body.get("columns") or [])
                        # the sheet's saved state keeps its old watermark until every row of this run is in
                        self._load_rows(loader, sheet, part.body, sheet_states)
                    else:
                        sheet_states[str(part.sheet_id)] = self._finish_sheet(
                            loader, stream, sheet, part.census, sheet_states, stored.get(str(part.sheet_id), {})
                        )
                        sheet = None
            newest = [parse_instant(entry.get("watermark")) for entry in sheet_states.values()]
            watermark = _isoformat(max((instant for instant in newest if instant), default=None))
            writer.finish(state={"sheets": sheet_states}, watermark_to=watermark)
        except BaseException as error:
            writer.fail(error)
            raise
        result = result_from(StreamResult(stream), writer)
        result.watermark = watermark
        return result

    def _sheets_to_read(self, stream: str, ids: list[int], sheet_states: Mapping[str, Mapping[str, Any]]) -> list[int]:
        """The sheets of `ids` changed since their last read: a sheet read before whose version is still
        the one read then has no row added, changed or deleted since, so neither its rows nor its
        census are asked for. A full refresh (no saved state) reads them all."""
        read_before = {sheet_id: sheet_states.get(str(sheet_id)) or {} for sheet_id in ids}
        if not any(state.get("version") is not None for state in read_before.values()):
            return ids
        versions = self.sheet_versions()
        changed = [
            sheet_id
            for sheet_id, state in read_before.items()
            if state.get("version") is None or versions.get(sheet_id) != state["version"]
        ]
        if len(changed) < len(ids):
            log.info(
                "%s %s: %d of %d sheets unchanged since their last read (same version); reading %d",
                self.label,
                stream,
                len(ids) - len(changed),
                len(ids),
                len(changed),
            )
        return changed

    def _read_sheet(
        self, stream: str, sheet_id: int, watermark: datetime | None, held: Mapping[str, tuple[str | None, bool]]
    ) -> Iterator[_SheetPage | _SheetEnd]:
        """A sheet's pages of rows modified since its watermark less the overlap window (all of them
        without one), each as soon as it is read, then its end with, on an incremental read, its
        census; touches no database, so several sheets are read at once.

        An incremental read of a sheet of which the warehouse holds at most a page of live rows
        (`held`: record id -> (cursor, is_deleted)) reads the sheet whole instead, in as few requests
        as the rows modified since and the census would take together: its census is the rows read,
        and it passes on the same rows those two would, the ones modified since and the ones the
        warehouse lacks or holds older."""
        since = watermark - timedelta(minutes=self.settings.overlap_minutes) if watermark else None
        whole = since is not None and sum(not is_deleted for _, is_deleted in held.values()) <= self.settings.page_size
        field_titles = self.settings.column_map[ROW_STREAM_KINDS[stream]]
        context = f"{self.label} {stream}"
        layout: SheetLayout | None = None
        version: int | None = None
        census: dict[str, str | None] | None = {} if whole else None
        pages = self.client.sheet_pages(sheet_id, self.settings.page_size, rows_modified_since=None if whole else since)
        for body in pages:
            if layout is None:
                layout = SheetLayout.from_body(body, field_titles, sheet_id=sheet_id, context=context)
                # the version the first page was read at: a change after it moves the version and is read next run
                version = _version(body.get("version"))
            if census is not None and since is not None:
                body = {**body, "rows": _modified_or_newer(body.get("rows") or [], since, held, census)}
            yield _SheetPage(sheet_id, watermark, since, layout, body, version)
        if layout is None:
            raise RuntimeError(f"{context}: GET /sheets/{sheet_id} returned no page at all")
        if census is None and since is not None:
            census = self._census(sheet_id, layout.primary_column_id)
        yield _SheetEnd(sheet_id, census)

    def _load_rows(
        self, loader: PageLoader, sheet: _SheetLoad, body: Mapping[str, Any], sheet_states: dict[str, dict[str, Any]]
    ) -> None:
        """Submit a page of a sheet's rows, noting their ids and the newest `modifiedAt` among them."""
        records = [sheet.first_page.layout.record(row) for row in body.get("rows") or []]
        for record in records:
            if isinstance(record, EncodedRecord):
                record_id, modified_at = record.record_id, record.cursor
            elif isinstance(record, dict) and record.get("id") is not None:
                record_id, modified_at = record["id"], record.get("modifiedAt")
            else:
                continue
            sheet.read_ids.add(str(record_id))
            modified = parse_instant(modified_at)
            if modified is not None and (sheet.newest is None or modified > sheet.newest):
                sheet.newest = modified
        loader.submit(records, state={"sheets": dict(sheet_states)})

    def _finish_sheet(
        self,
        loader: PageLoader,
        stream: str,
        sheet: _SheetLoad,
        census: dict[str, str | None] | None,
        sheet_states: dict[str, dict[str, Any]],
        stored: dict[str, tuple[str | None, bool]],
    ) -> dict[str, Any]:
        """After a sheet's pages: read again the changed rows its census shows the pages missed, and
        tombstone its deleted rows; returns its new state.

        `stored` is what the warehouse held of the sheet before this run: record id -> (cursor, is_deleted).
        """
        context = f"{self.label} {stream}"
        page = sheet.first_page
        if census is None:
            live_ids = sheet.read_ids
        else:
            live_ids = set(census)
            missed = [
                row_id
                for row_id, modified in census.items()
                if row_id not in sheet.read_ids and _newer(modified, stored.get(row_id))
            ]
            if missed:
                log.warning(
                    "%s: sheet %s: %d changed rows were not in the incremental pages; reading them by id",
                    context,
                    page.sheet_id,
                    len(missed),
                )
                for start in range(0, len(missed), ROW_IDS_PER_REQUEST):
                    chunk = missed[start : start + ROW_IDS_PER_REQUEST]
                    for body in self.client.sheet_pages(page.sheet_id, self.settings.page_size, row_ids=chunk):
                        self._load_rows(loader, sheet, body, sheet_states)
        # the rows read in this run are live in the warehouse now, whatever it held before
        held = {row_id for row_id, (_, is_deleted) in stored.items() if not is_deleted} | sheet.read_ids
        gone = held - live_ids
        sheet_state = {"watermark": _isoformat(sheet.newest), "name": page.layout.name, "version": page.version}
        loader.mark_deleted(sorted(gone), state={"sheets": {**sheet_states, str(page.sheet_id): sheet_state}})
        log.info(
            "%s: sheet %s (%s): %d rows read since %s, %d tombstoned, watermark %s",
            context,
            page.sheet_id,
            page.layout.name,
            len(sheet.read_ids),
            _isoformat(page.since) or "the beginning",
            len(gone),
            sheet_state["watermark"],
        )
        return sheet_state

    def _census(self, sheet_id: int, primary_column_id: Any) -> dict[str, str | None]:
        """Every row id of a sheet with its modifiedAt, reading only the primary column's cells."""
        census: dict[str, str | None] = {}
        column_ids = [primary_column_id] if primary_column_id is not None else None
        for body in self.client.sheet_pages(sheet_id, self.settings.census_page_size, column_ids=column_ids):
            for row in body.get("rows") or []:
                key = row_id(row)
                if key is not None:
                    census[str(key)] = _modified_at(row)
        return census

    def _stored_columns(self, writer: StreamWriter) -> dict[str, tuple[Any, Any]]:
        """The warehouse's live sheets that have columns: record id -> (version, columns)."""
        rows = self.connection.execute(
            sql.SQL(
                "select record_id, payload->'version', payload->'columns' from {table}"
                " where source_instance = %s and not is_deleted and payload ? 'columns'"
            ).format(table=writer.table),
            (self.settings.instance,),
        ).fetchall()
        self.connection.commit()
        return {record_id: (version, columns) for record_id, version, columns in rows}

    def _stored_rows(self, writer: StreamWriter) -> dict[str, dict[str, tuple[str | None, bool]]]:
        """The warehouse's rows of the stream by sheet: sheet id -> record id -> (cursor value, is_deleted)."""
        rows = self.connection.execute(
            sql.SQL(
                "select payload->>'sheet_id', record_id, cursor_value, is_deleted from {table}"
                " where source_instance = %s"
            ).format(table=writer.table),
            (self.settings.instance,),
        ).fetchall()
        self.connection.commit()
        stored: dict[str, dict[str, tuple[str | None, bool]]] = {}
        for sheet_id, record_id, cursor, is_deleted in rows:
            stored.setdefault(sheet_id, {})[record_id] = (cursor, is_deleted)
        return stored


def _version(value: Any) -> int | None:
    """A sheet version as the API gives it (a number), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _versions(sheets: Iterable[Any]) -> dict[int, int]:
    """Sheet id -> version, of the listed sheet summaries that carry both."""
    versions: dict[int, int] = {}
    for item in sheets:
        if isinstance(item, dict) and isinstance(item.get("id"), int) and _version(item.get("version")) is not None:
            versions[item["id"]] = item["version"]
    return versions


def _modified_at(row: Any) -> str | None:
    """A row's `modifiedAt` as the API wrote it, read from its decoded head or from the row itself."""
    return row.head.modifiedAt if isinstance(row, SheetRow) else row.get("modifiedAt")


def _modified_or_newer(
    rows: list[Any], since: datetime, held: Mapping[str, tuple[str | None, bool]], census: dict[str, str | None]
) -> list[Any]:
    """The rows of a sheet read whole that an incremental read would pass on: those modified since
    `since`, and those the warehouse lacks or holds older; every row with an id goes into `census`."""
    kept = []
    for row in rows:
        key = row_id(row)
        if key is None:
            kept.append(row)  # for the loader to reject
            continue
        modified = census[str(key)] = _modified_at(row)
        instant = parse_instant(modified)
        if (instant is not None and instant >= since) or _newer(modified, held.get(str(key))):
            kept.append(row)
    return kept


def _newer(census_modified: str | None, stored: tuple[str | None, bool] | None) -> bool:
    """Whether the census shows a row the warehouse lacks, holds as deleted, or holds in an older version."""
    if stored is None or stored[1]:
        return True
    census_instant, stored_instant = parse_instant(census_modified), parse_instant(stored[0])
    return census_instant is not None and (stored_instant is None or census_instant > stored_instant)


def extract_smartsheet(
    settings: SmartsheetSettings,
    warehouse_url: str,
    streams: Iterable[str] | None = None,
    full_refresh: bool = False,
    retry: RetryPolicy | None = None,
) -> list[dict[str, Any]]:
    """Run the Smartsheet streams of one account into the warehouse; returns one summary dict per stream."""
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        extractor = SmartsheetExtractor(settings, connection, SmartsheetClient(settings, retry=retry))
        return [result.as_dict() for result in extractor.run(streams=streams, full_refresh=full_refresh)]
