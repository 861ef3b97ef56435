"""Landing records in the warehouse's `raw` schema.

Each stream has a current-state table `raw.<system>_<stream>` with one row per
(source_instance, record_id): the record's JSON payload, its cursor value and the load
metadata (batch id, loaded_at, tombstone). A page of records is COPYed into a temporary
table and upserted set-wise, and the stream's state (its watermark) is written in the same
transaction, so a crash never leaves a watermark ahead of the rows it covers. A record read again
exactly as it is stored (a snapshot stream re-reads every record) keeps its row and `loaded_at`,
so the incremental models downstream rebuild only what changed. Records that
are not JSON objects or lack their id are kept in `raw._rejected_records` with the reason.

Speed, for streams of millions of records:
- Records are encoded once (msgspec) straight into COPY text; nothing is serialised twice.
  A record may also arrive as an `EncodedRecord`, still the JSON text the API sent, its id and
  cursor read beforehand (`read_encoded`): that text goes into the COPY as it is.
- While a stream's rows are new to the table (its first load), pages are COPYed straight into
  it (`loaded_at` defaults to the transaction's now()), as fast as PostgreSQL takes a COPY; an
  id already there fails that transaction, which is written again, and the rest of the batch
  after it, through the upsert.
- Page transactions commit without waiting for the WAL flush (`synchronous_commit` off, for
  that transaction only): a server crash may lose the last of them, whole and in order, so
  the state still never runs ahead of its rows; the batch's final commit waits, so a stream
  reported successful is durable.
- `PageLoader` writes pages on a thread of its own while the caller fetches the next ones,
  and merges the pages waiting in its queue into one transaction.
"""

from __future__ import annotations

import functools
import json
import logging
import queue
import threading
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, NamedTuple

import msgspec
import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

RAW_SCHEMA = "raw"

CONTROL_TABLES_DDL = """
create schema if not exists raw;
create table if not exists raw._load_batches (
    batch_id uuid primary key,
    source_system text not null,
    source_instance text not null,
    stream text not null,
    started_at timestamptz not null default now(),
    finished_at timestamptz,
    status text not null default 'running',
    records_loaded integer not null default 0,
    records_rejected integer not null default 0,
    records_deleted integer not null default 0,
    pages integer not null default 0,
    watermark_from text,
    watermark_to text,
    error text
);
create table if not exists raw._stream_state (
    source_system text not null,
    source_instance text not null,
    stream text not null,
    state jsonb not null,
    last_success_at timestamptz,
    last_batch_id uuid,
    updated_at timestamptz not null default now(),
    primary key (source_system, source_instance, stream)
);
create table if not exists raw._rejected_records (
    rejected_id bigint generated always as identity primary key,
    source_system text not null,
    source_instance text not null,
    stream text not null,
    record_id text,
    reason text not null,
    payload text not null,
    batch_id uuid not null,
    rejected_at timestamptz not null default now()
);
"""

STREAM_TABLE_DDL = """
create table if not exists {table} (
    source_instance text not null,
    record_id text not null,
    cursor_value text,
    batch_id uuid not null,
    loaded_at timestamptz not null default now(),
    is_deleted boolean not null default false,
    deleted_at timestamptz,
    payload jsonb not null,
    primary key (source_instance, record_id)
)
"""

# When a row was last written or tombstoned: the incremental staging models read a night's rows
# through it instead of the whole table. Made only where missing (the statement would otherwise lock
# the table against writers even when the index exists).
WRITTEN_AT_INDEX_DDL = "create index if not exists {index} on {table} ((greatest(loaded_at, deleted_at)))"


# Taken, for the rest of its transaction, by whatever creates a table, schema or role where missing
# (here, `warehouse.publish`'s audit tables, and dbt's macros `catalog_lock`): `create ... if not
# exists` is not safe against another session creating the same object at the same moment, which
# fails on a duplicate key instead.
CATALOG_LOCK = "select pg_advisory_xact_lock(hashtext('pmo_warehouse.catalog'))"

# the connections that have made sure of the control tables (each stream's writer asks again)
_controlled_connections: weakref.WeakSet[psycopg.Connection] = weakref.WeakSet()


def ensure_control_tables(connection: psycopg.Connection) -> None:
    """Create the `raw` schema's control tables where missing; once per connection."""
    if connection in _controlled_connections:
        return
    with connection.transaction():
        connection.execute(CATALOG_LOCK)
        connection.execute(CONTROL_TABLES_DDL)
    _controlled_connections.add(connection)


@dataclass
class Rejection:
    record_id: str | None
    reason: str
    payload: str


class EncodedRecord(NamedTuple):
    """A record still in the JSON text it arrived in, with its id and cursor read from that text."""

    record_id: Any
    cursor: Any
    payload: bytes


def read_encoded(
    raws: Sequence[msgspec.Raw], head: type[msgspec.Struct], keys: Callable[[Any], tuple[Any, Any]]
) -> list[EncodedRecord | Any]:
    """A page of records as `EncodedRecord`s: `head` is a Struct declaring only what `keys(head)` reads
    (id, cursor). A record that does not fit it (not an object, a field of another type) comes back
    decoded, to be validated, and rejected or loaded, as any other record."""
    return read_encoded_heads(raws, head, keys)[0]


def read_encoded_heads(
    raws: Sequence[msgspec.Raw], head: type[msgspec.Struct], keys: Callable[[Any], tuple[Any, Any]]
) -> tuple[list[EncodedRecord | Any], list[Any]]:
    """As `read_encoded`, with each record's head too (None for a record that came back decoded), for
    callers that read more of a record than its id and cursor."""
    decoders = _head_decoders(head)
    try:
        # one decode of the page's heads: far cheaper than one per record
        heads = decoders[0].decode(b"[" + b",".join(raws) + b"]")
    except msgspec.ValidationError:
        pairs = [_read_one(raw, decoders[1], keys) for raw in raws]
        return [record for record, _ in pairs], [record_head for _, record_head in pairs]
    records = [EncodedRecord(*keys(record_head), bytes(raw)) for record_head, raw in zip(heads, raws, strict=True)]
    return records, heads


def _read_one(
    raw: msgspec.Raw, decoder: msgspec.json.Decoder, keys: Callable[[Any], tuple[Any, Any]]
) -> tuple[Any, Any]:
    try:
        record_head = decoder.decode(raw)
    except msgspec.ValidationError:
        return msgspec.json.decode(raw), None
    return EncodedRecord(*keys(record_head), bytes(raw)), record_head


@functools.cache
def _head_decoders(head: type[msgspec.Struct]) -> tuple[msgspec.json.Decoder, msgspec.json.Decoder]:
    return msgspec.json.Decoder(list[head]), msgspec.json.Decoder(head)


@dataclass
class PreparedPage:
    """A page validated and encoded, ready to load: no database work has been done for it yet.

    Each row is (record id, its line of COPY text: source instance, id, cursor, batch id, payload).
    """

    rows: list[tuple[str, bytes]]
    rejections: list[Rejection]


@dataclass
class BatchCounts:
    pages: int = 0
    loaded: int = 0
    rejected: int = 0
    deleted: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


def _copy_field(value: str) -> bytes:
    """A value as a field of COPY's text format."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value.encode()


COPY_NULL = b"\\N"
# What a COPY line holds, into the raw table (loaded_at defaults to the transaction's now()) or the upsert's.
COPY_COLUMNS = sql.SQL("source_instance, record_id, cursor_value, batch_id, payload")


def _copy_json(payload: bytes) -> bytes:
    """JSON text as a field of COPY's text format (raw tabs and line breaks are whitespace between tokens)."""
    if b"\\" in payload:
        payload = payload.replace(b"\\", b"\\\\")
    if b"\n" in payload or b"\r" in payload or b"\t" in payload:
        payload = payload.replace(b"\n", b"\\n").replace(b"\r", b"\\r").replace(b"\t", b"\\t")
    return payload


def _describe(value: Any) -> str:
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return repr(value)


class StreamWriter:
    """Writes one stream's pages into its raw table under one load batch."""

    def __init__(
        self,
        connection: psycopg.Connection,
        *,
        source_system: str,
        source_instance: str,
        stream: str,
        record_id: Callable[[dict[str, Any]], Any],
        cursor_value: Callable[[dict[str, Any]], Any] | None = None,
    ) -> None:
        self.connection = connection
        self.source_system = source_system
        self.source_instance = source_instance
        self.stream = stream
        self.table_name = f"{source_system}_{stream}"
        self.table = sql.Identifier(RAW_SCHEMA, self.table_name)
        self._record_id = record_id
        self._cursor_value = cursor_value
        self.batch_id = uuid.uuid4()
        self.counts = BatchCounts()
        # whether pages may be COPYed straight into the table: true while its rows are new to it
        self._appending = False
        self._previous_ids: set[str] = set()
        self._began_empty = False

    # -- batch lifecycle -------------------------------------------------------------------
    def begin(self, watermark_from: str | None = None) -> None:
        """Make the stream's table where missing and record the batch as running, in two round trips
        (three when the table or its index is new).

        Nothing of this needs to outlive a crash on its own (the batch's rows come later, and the final
        commit waits for the WAL), so its commit does not wait for the WAL flush."""
        ensure_control_tables(self.connection)
        with self.connection.transaction():
            self.connection.execute(
                sql.SQL("select set_config('synchronous_commit', 'off', true); ")
                + sql.SQL(CATALOG_LOCK + "; ")
                + sql.SQL(STREAM_TABLE_DDL).format(table=self.table)
            )
            index_name = f"{self.table_name}_written_at"
            has_rows, lacks_default, lacks_index = self.connection.execute(
                sql.SQL(
                    "with batch as (insert into raw._load_batches"
                    " (batch_id, source_system, source_instance, stream, watermark_from)"
                    " values (%s, %s, %s, %s, %s))"
                    " select exists (select from {table} where source_instance = %s),"
                    " not exists (select from pg_attrdef d join pg_attribute a"
                    " on a.attrelid = d.adrelid and a.attnum = d.adnum"
                    " where d.adrelid = %s::regclass and a.attname = 'loaded_at'),"
                    " to_regclass(%s) is null"
                ).format(table=self.table),
                (
                    self.batch_id,
                    self.source_system,
                    self.source_instance,
                    self.stream,
                    watermark_from,
                    self.source_instance,
                    self.table.as_string(self.connection),
                    sql.Identifier(RAW_SCHEMA, index_name).as_string(self.connection),
                ),
            ).fetchone()
            if lacks_default:
                # tables made before `loaded_at` defaulted to now(): COPY leaves the column out, so it must
                self.connection.execute(
                    sql.SQL("alter table {table} alter column loaded_at set default now()").format(table=self.table)
                )
            if lacks_index:
                self.connection.execute(
                    sql.SQL(WRITTEN_AT_INDEX_DDL).format(index=sql.Identifier(index_name), table=self.table)
                )
            self._appending = not has_rows
            self._began_empty = not has_rows

    @property
    def first_load(self) -> bool:
        """Whether the table held no row of this source instance when the batch began: every row it
        holds for the instance by the batch's end was then written by the batch itself."""
        return self._began_empty

    def read_state(self) -> dict[str, Any]:
        ensure_control_tables(self.connection)
        row = self.connection.execute(
            "select state from raw._stream_state where source_system = %s and source_instance = %s and stream = %s",
            (self.source_system, self.source_instance, self.stream),
        ).fetchone()
        self.connection.commit()
        return dict(row[0]) if row else {}

    def finish(self, state: dict[str, Any] | None = None, watermark_to: str | None = None) -> BatchCounts:
        """Mark the batch successful (and save the final state with it)."""
        with self.connection.transaction():
            if state is not None:
                self._save_state(state, success=True)
            else:
                self.connection.execute(
                    "update raw._stream_state set last_success_at = now(), last_batch_id = %s"
                    " where source_system = %s and source_instance = %s and stream = %s",
                    (self.batch_id, self.source_system, self.source_instance, self.stream),
                )
            self._update_batch("succeeded", watermark_to=watermark_to)
        return self.counts

    def fail(self, error: BaseException) -> None:
        if self.connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            self.connection.rollback()
        with self.connection.transaction():
            self._update_batch("failed", error=f"{type(error).__name__}: {error}"[:2000])

    def _update_batch(self, status: str, *, watermark_to: str | None = None, error: str | None = None) -> None:
        self.connection.execute(
            "update raw._load_batches set status = %s, finished_at = now(), records_loaded = %s,"
            " records_rejected = %s, records_deleted = %s, pages = %s,"
            " watermark_to = coalesce(%s, watermark_to), error = %s where batch_id = %s",
            (
                status,
                self.counts.loaded,
                self.counts.rejected,
                self.counts.deleted,
                self.counts.pages,
                watermark_to,
                error,
                self.batch_id,
            ),
        )

    def _save_state(self, state: dict[str, Any], *, success: bool = False) -> None:
        self.connection.execute(self._state_statement(state, success=success))

    def _state_statement(self, state: dict[str, Any], *, success: bool = False) -> sql.Composed:
        """The upsert of the stream's state, its values inlined so that it can share a round trip."""
        return sql.SQL(
            "insert into raw._stream_state as s (source_system, source_instance, stream, state,"
            " last_success_at, last_batch_id, updated_at)"
            " values ({}, {}, {}, {}, {}, {}, now())"
            " on conflict (source_system, source_instance, stream) do update set state = excluded.state,"
            " last_success_at = coalesce(excluded.last_success_at, s.last_success_at),"
            " last_batch_id = excluded.last_batch_id, updated_at = now()"
        ).format(
            sql.Literal(self.source_system),
            sql.Literal(self.source_instance),
            sql.Literal(self.stream),
            sql.Literal(json.dumps(state)),
            sql.SQL("now()" if success else "null"),
            sql.Literal(str(self.batch_id)),
        )

    # -- pages -----------------------------------------------------------------------------
    def write_page(self, records: Iterable[Any], state: dict[str, Any] | None = None) -> int:
        """Upsert one page of records and, in the same transaction, the state that covers it."""
        return self.write_prepared([self.prepare(records)], state)

    def prepare(self, records: Iterable[Any]) -> PreparedPage:
        """Validate and encode a page into COPY lines; touches no database, so another thread may do it."""
        rows: list[tuple[str, bytes]] = []
        rejections: list[Rejection] = []
        line_start = b"%s\t" % _copy_field(self.source_instance)
        batch = str(self.batch_id).encode()
        for record in records:
            accepted = self._validate(record)
            if isinstance(accepted, Rejection):
                rejections.append(accepted)
            else:
                record_id, id_field, cursor_field, payload_field = accepted
                rows.append(
                    (record_id, b"%s%s\t%s\t%s\t%s\n" % (line_start, id_field, cursor_field, batch, payload_field))
                )
        return PreparedPage(rows, rejections)

    def write_prepared(self, pages: Sequence[PreparedPage], state: dict[str, Any] | None = None) -> int:
        """Load prepared pages in one transaction, with the state that covers them; returns the rows loaded."""
        rows = [row for page in pages for row in page.rows]
        rejections = [rejection for page in pages for rejection in page.rejections]
        appending = self._appending
        try:
            self._write(rows, rejections, state)
        except psycopg.errors.UniqueViolation:
            if not appending:
                raise
            # an id was in the table already: write the same batch again, through the upsert
            log.info("%s: ids already in %s, upserting from here on", self.stream, self.table_name)
            self._appending = False
            self._write(rows, rejections, state)
        self.counts.pages += len(pages)
        self.counts.loaded += len(rows)
        self.counts.rejected += len(rejections)
        return len(rows)

    def _write(self, rows: list[tuple[str, bytes]], rejections: list[Rejection], state: dict[str, Any] | None) -> None:
        with self.connection.transaction():
            statements = [sql.SQL("select set_config('synchronous_commit', 'off', true)")]
            if state is not None:
                statements.append(self._state_statement(state))
            self.connection.execute(sql.SQL("; ").join(statements))
            if rows:
                self._store(rows)
            if rejections:
                self._reject(rejections)

    def _validate(self, record: Any) -> tuple[str, bytes, bytes, bytes] | Rejection:
        if isinstance(record, EncodedRecord):
            return self._validate_encoded(record)
        if not isinstance(record, dict):
            return self._rejection(None, f"record is a JSON {type(record).__name__}, not an object", record)
        try:
            record_id = self._record_id(record)
        except (KeyError, TypeError, AttributeError):
            record_id = None
        if record_id is None or str(record_id).strip() == "":
            return self._rejection(None, "record has no id", record)
        cursor = None
        if self._cursor_value is not None:
            try:
                cursor = self._cursor_value(record)
            except (KeyError, TypeError, AttributeError):
                cursor = None
        try:
            payload = msgspec.json.encode(record)
        except (TypeError, ValueError, OverflowError) as error:
            return self._rejection(str(record_id), f"record cannot be encoded as JSON ({error})", record)
        if b"\\u0000" in payload:
            return self._rejection(str(record_id), "payload contains a NUL character (not storable as jsonb)", record)
        record_id = str(record_id)
        return (
            record_id,
            _copy_field(record_id),
            COPY_NULL if cursor is None else _copy_field(str(cursor)),
            # msgspec's JSON holds no raw tab or line break: only its backslashes need escaping for COPY
            payload.replace(b"\\", b"\\\\"),
        )

    def _validate_encoded(self, record: EncodedRecord) -> tuple[str, bytes, bytes, bytes] | Rejection:
        record_id, cursor, payload = record
        if record_id is None or str(record_id).strip() == "":
            return self._rejection(None, "record has no id", record)
        record_id = str(record_id)
        if b"\\u0000" in payload:
            return self._rejection(record_id, "payload contains a NUL character (not storable as jsonb)", record)
        return (
            record_id,
            _copy_field(record_id),
            COPY_NULL if cursor is None else _copy_field(str(cursor)),
            _copy_json(payload),
        )

    def _rejection(self, record_id: str | None, reason: str, record: Any) -> Rejection:
        self.counts.reasons[reason] = self.counts.reasons.get(reason, 0) + 1
        if isinstance(record, EncodedRecord):
            return Rejection(record_id, reason, record.payload.decode("utf-8", "replace"))
        return Rejection(record_id, reason, _describe(record))

    def _store(self, rows: list[tuple[str, bytes]]) -> None:
        distinct_ids: set[str] = set()
        repeated: set[str] = set()
        for record_id, _ in rows:
            if record_id in distinct_ids:
                repeated.add(record_id)
            else:
                distinct_ids.add(record_id)
        if self._appending:
            # an id twice in the batch, or again from the previous write (feeds whose pages overlap),
            # goes through the upsert, which keeps its last version; the rest is new to the table
            repeated |= self._previous_ids & distinct_ids
            new = [row for row in rows if row[0] not in repeated] if repeated else rows
            if new:
                self._copy(self.table, new)
            if repeated:
                self._upsert([row for row in rows if row[0] in repeated], unique=False)
        else:
            self._upsert(rows, unique=not repeated)
        self._previous_ids = distinct_ids

    def _copy(self, table: sql.Composable, rows: Sequence[tuple[str, bytes]]) -> None:
        statement = sql.SQL("copy {table} ({columns}) from stdin").format(table=table, columns=COPY_COLUMNS)
        with self.connection.cursor().copy(statement) as copy:
            copy.write(b"".join(line for _, line in rows))

    def _upsert(self, rows: Sequence[tuple[str, bytes]], *, unique: bool) -> None:
        self.connection.execute(
            "create temporary table if not exists _incoming_rows (source_instance text, record_id text,"
            " cursor_value text, batch_id uuid, payload jsonb, ordinal bigint generated always as identity)"
            " on commit delete rows"
        )
        self._copy(sql.Identifier("_incoming_rows"), rows)
        # the last of a repeated id wins; without repeats there is nothing to sort
        source = (
            "select source_instance, record_id, cursor_value, batch_id, now(), false, null, payload from _incoming_rows"
            if unique
            else "select distinct on (record_id) source_instance, record_id, cursor_value, batch_id, now(), false,"
            " null, payload from _incoming_rows order by record_id, ordinal desc"
        )
        self.connection.execute(
            sql.SQL(
                "insert into {table} as t (source_instance, record_id, cursor_value, batch_id, loaded_at,"
                " is_deleted, deleted_at, payload) "
                + source
                + " on conflict (source_instance, record_id) do update set"
                " cursor_value = excluded.cursor_value, batch_id = excluded.batch_id,"
                " loaded_at = excluded.loaded_at, is_deleted = false, deleted_at = null,"
                " payload = excluded.payload"
                # a record read again as it was keeps its row, loaded_at included: incremental
                # models downstream rebuild only what changed, not everything a snapshot re-reads
                " where t.is_deleted or t.payload is distinct from excluded.payload"
            ).format(table=self.table)
        )

    def _reject(self, rejections: Sequence[Rejection]) -> None:
        with self.connection.cursor() as cursor:
            cursor.executemany(
                "insert into raw._rejected_records (source_system, source_instance, stream, record_id, reason,"
                " payload, batch_id) values (%s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        self.source_system,
                        self.source_instance,
                        self.stream,
                        rejection.record_id,
                        rejection.reason,
                        rejection.payload,
                        self.batch_id,
                    )
                    for rejection in rejections
                ],
            )

    # -- deletes ---------------------------------------------------------------------------
    def mark_deleted(self, record_ids: Iterable[str], state: dict[str, Any] | None = None) -> int:
        """Tombstone the given ids (rows stay, flagged, so history and counts remain explainable)."""
        ids = [str(record_id) for record_id in record_ids]
        with self.connection.transaction():
            result = self.connection.execute(
                sql.SQL(
                    "update {table} set is_deleted = true, deleted_at = now(), batch_id = %s"
                    " where source_instance = %s and record_id = any(%s) and not is_deleted"
                ).format(table=self.table),
                (self.batch_id, self.source_instance, ids),
            )
            if state is not None:
                self._save_state(state)
        self.counts.deleted += result.rowcount
        return result.rowcount

    def tombstone_missing(self, id_pages: Iterable[Iterable[str]]) -> tuple[int, int]:
        """A census in constant memory: the ids the source lists now (`id_pages`, streamed into a
        temporary table), then every live row whose id is not among them tombstoned in one statement.
        Returns (ids listed, rows tombstoned). Refuses to tombstone everything when the census lists nothing."""
        listed = self.list_census(id_pages)
        return listed, self.tombstone_unlisted(listed)

    def list_census(self, id_pages: Iterable[Iterable[str]], connection: psycopg.Connection | None = None) -> int:
        """The first half of `tombstone_missing`: stream the listed ids into a temporary table of
        `connection` (the writer's own by default); returns how many were listed.

        On a connection of its own, a census can be listed while the stream's pages load on the
        writer's: `tombstone_unlisted` then runs on that same connection, with `loaded_before`."""
        connection = connection or self.connection
        connection.execute("create temporary table if not exists _census_ids (record_id text) on commit preserve rows")
        connection.execute("truncate _census_ids")
        listed = 0
        for page in id_pages:
            ids = [str(record_id) for record_id in page]
            if not ids:
                continue
            with connection.cursor().copy("copy _census_ids (record_id) from stdin") as copy:
                copy.write(b"\n".join(_copy_field(record_id) for record_id in ids) + b"\n")
            listed += len(ids)
        connection.commit()
        return listed

    def tombstone_unlisted(
        self, listed: int, connection: psycopg.Connection | None = None, loaded_before: datetime | None = None
    ) -> int:
        """The second half of `tombstone_missing`: tombstone the live rows the census on `connection`
        did not list; returns how many. With `loaded_before` (the server's clock when the census began
        listing), rows loaded since then are spared: they came in while the census was being listed."""
        connection = connection or self.connection
        if not listed:
            live = connection.execute(
                sql.SQL("select count(*) from {table} where source_instance = %s and not is_deleted").format(
                    table=self.table
                ),
                (self.source_instance,),
            ).fetchone()[0]
            connection.commit()
            if live:
                raise RuntimeError(
                    f"{self.source_system}[{self.source_instance}] {self.stream} census listed no ids while the"
                    f" warehouse holds {live}: refusing to tombstone every record (check the token's permissions)"
                )
            return 0
        connection.execute("analyze _census_ids")
        with connection.transaction():
            result = connection.execute(
                sql.SQL(
                    "update {table} as t set is_deleted = true, deleted_at = now(), batch_id = %s"
                    " where t.source_instance = %s and not t.is_deleted"
                    " and (%s::timestamptz is null or t.loaded_at < %s::timestamptz)"
                    " and not exists (select 1 from _census_ids c where c.record_id = t.record_id)"
                ).format(table=self.table),
                (self.batch_id, self.source_instance, loaded_before, loaded_before),
            )
        self.counts.deleted += result.rowcount
        connection.execute("truncate _census_ids")
        connection.commit()
        return result.rowcount

    def live_ids(self) -> set[str]:
        rows = self.connection.execute(
            sql.SQL("select record_id from {table} where source_instance = %s and not is_deleted").format(
                table=self.table
            ),
            (self.source_instance,),
        ).fetchall()
        self.connection.commit()
        return {row[0] for row in rows}


def connect_again(connection: psycopg.Connection) -> psycopg.Connection:
    """Another connection to the database of `connection`, as the same user: one for another thread."""
    return psycopg.connect(connection.info.dsn, password=connection.info.password, autocommit=connection.autocommit)


class CensusApart:
    """A census listed on a thread and a connection of its own while the stream's pages load.

    It starts listing at once; `tombstone` waits for the list, then tombstones the live rows it did
    not list among those loaded before it began (the server's clock): a row loaded since came in
    while the census was being listed. `close` stops a listing no longer wanted."""

    def __init__(self, writer: StreamWriter, id_pages: Callable[[], Iterable[Iterable[str]]]) -> None:
        self.writer = writer
        self._id_pages = id_pages
        self._connection = connect_again(writer.connection)
        self._began: datetime | None = None
        self._listed = 0
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._list, name=f"{writer.table_name}-census", daemon=True)
        self._thread.start()

    def _pages(self) -> Iterator[Iterable[str]]:
        for page in self._id_pages():
            if self._stop.is_set():
                raise RuntimeError("census stopped")
            yield page

    def _list(self) -> None:
        try:
            self._began = self._connection.execute("select clock_timestamp()").fetchone()[0]
            self._listed = self.writer.list_census(self._pages(), self._connection)
        except BaseException as error:
            self._error = error

    def tombstone(self) -> tuple[int, int]:
        """(ids listed, rows tombstoned), as `StreamWriter.tombstone_missing`; raises the listing's error."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._listed, self.writer.tombstone_unlisted(self._listed, self._connection, self._began)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._connection.close()


def _page_bytes(page: PreparedPage) -> int:
    return sum(len(line) for _, line in page.rows)


class _Deletion(NamedTuple):
    """Ids to tombstone, queued to the loading thread after the pages submitted before them."""

    ids: list[str]
    state: dict[str, Any] | None


_NOTHING = object()


class PageLoader:
    """Loads a stream's pages on a thread of its own while the caller fetches the next ones.

    `submit` validates and encodes a page in the caller's thread and queues it (at most
    `max_pending` pages wait, so memory stays bounded); the loading thread merges what waits
    in the queue, up to `max_batch_records` or `max_batch_bytes` of COPY text, into one
    `write_prepared` transaction carrying the last state among them. The byte bound keeps a
    large site's batches (and the extract's memory) the size of a small site's. `mark_deleted`
    queues tombstones, written after the pages submitted before them (with no ids, only its
    state, merged with the pages around it). Leaving the `with` block waits until everything
    submitted is written; a loading error is raised in the caller, at its next `submit` or at
    the exit. The writer's connection belongs to the loading thread until the block is left.
    """

    def __init__(
        self,
        writer: StreamWriter,
        *,
        max_pending: int = 4,
        max_batch_records: int = 10_000,
        max_batch_bytes: int = 4 << 20,
    ) -> None:
        self.writer = writer
        self.max_batch_records = max_batch_records
        self.max_batch_bytes = max_batch_bytes
        self._queue: queue.Queue[tuple[PreparedPage, dict[str, Any] | None] | _Deletion | None] = queue.Queue(
            max_pending
        )
        self._thread = threading.Thread(target=self._load, name=f"load-{writer.table_name}", daemon=True)
        self._error: BaseException | None = None

    def __enter__(self) -> PageLoader:
        self._thread.start()
        return self

    def submit(self, records: Iterable[Any], state: dict[str, Any] | None = None) -> None:
        self._raise_loading_error()
        self._queue.put((self.writer.prepare(records), state))

    def mark_deleted(self, record_ids: Iterable[Any], state: dict[str, Any] | None = None) -> None:
        """Tombstone these ids (as `StreamWriter.mark_deleted`) once the pages submitted before are written."""
        self._raise_loading_error()
        self._queue.put(_Deletion([str(record_id) for record_id in record_ids], state))

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._queue.put(None)
        self._thread.join()
        if exc is None:
            self._raise_loading_error()
        elif self._error is not None and self._error is not exc:
            log.warning("%s: loading failed too: %r", self.writer.stream, self._error)

    def _raise_loading_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _load(self) -> None:
        waiting: Any = _NOTHING
        while True:
            item = self._queue.get() if waiting is _NOTHING else waiting
            waiting = _NOTHING
            if item is None:
                return
            if isinstance(item, _Deletion) and item.ids:
                self._run(self.writer.mark_deleted, item.ids, item.state)
                continue
            pages, state = ([], item.state) if isinstance(item, _Deletion) else ([item[0]], item[1])
            records = sum(len(page.rows) for page in pages)
            size = sum(_page_bytes(page) for page in pages)
            while records < self.max_batch_records and size < self.max_batch_bytes:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None or (isinstance(item, _Deletion) and item.ids):
                    waiting = item
                    break
                page, page_state = (None, item.state) if isinstance(item, _Deletion) else item
                if page is not None:
                    pages.append(page)
                    records += len(page.rows)
                    size += _page_bytes(page)
                if page_state is not None:
                    state = page_state
            self._run(self.writer.write_prepared, pages, state)

    def _run(self, write: Callable[..., Any], *args: Any) -> None:
        if self._error is not None:
            return  # after a failure, drain the queue so that the caller never blocks on it
        try:
            write(*args)
        except BaseException as error:
            self._error = error
