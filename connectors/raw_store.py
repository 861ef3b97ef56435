"""Landing records in the warehouse's `raw` schema.

Each stream has a current-state table `raw.<system>_<stream>` with one row per
(source_instance, record_id): the record's JSON payload, its cursor value and the load
metadata (batch id, loaded_at, tombstone). A page of records is COPYed into a temporary
table and upserted set-wise, and the stream's state (its watermark) is written in the same
transaction, so a crash never leaves a watermark ahead of the rows it covers. Records that
are not JSON objects or lack their id are kept in `raw._rejected_records` with the reason.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

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
    loaded_at timestamptz not null,
    is_deleted boolean not null default false,
    deleted_at timestamptz,
    payload jsonb not null,
    primary key (source_instance, record_id)
)
"""


def ensure_control_tables(connection: psycopg.Connection) -> None:
    with connection.transaction():
        connection.execute("select pg_advisory_xact_lock(hashtext('raw-ddl'))")
        connection.execute(CONTROL_TABLES_DDL)


@dataclass
class Rejection:
    record_id: str | None
    reason: str
    payload: str


@dataclass
class BatchCounts:
    pages: int = 0
    loaded: int = 0
    rejected: int = 0
    deleted: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


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

    # -- batch lifecycle -------------------------------------------------------------------
    def begin(self, watermark_from: str | None = None) -> None:
        ensure_control_tables(self.connection)
        with self.connection.transaction():
            self.connection.execute(sql.SQL(STREAM_TABLE_DDL).format(table=self.table))
            self.connection.execute(
                "insert into raw._load_batches (batch_id, source_system, source_instance, stream, watermark_from)"
                " values (%s, %s, %s, %s, %s)",
                (self.batch_id, self.source_system, self.source_instance, self.stream, watermark_from),
            )

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
        self.connection.execute(
            "insert into raw._stream_state as s (source_system, source_instance, stream, state,"
            " last_success_at, last_batch_id, updated_at)"
            " values (%s, %s, %s, %s, case when %s then now() end, %s, now())"
            " on conflict (source_system, source_instance, stream) do update set state = excluded.state,"
            " last_success_at = coalesce(excluded.last_success_at, s.last_success_at),"
            " last_batch_id = excluded.last_batch_id, updated_at = now()",
            (
                self.source_system,
                self.source_instance,
                self.stream,
                json.dumps(state),
                success,
                self.batch_id,
            ),
        )

    # -- pages -----------------------------------------------------------------------------
    def write_page(self, records: Iterable[Any], state: dict[str, Any] | None = None) -> int:
        """Upsert one page of records and, in the same transaction, the state that covers it."""
        rows: list[tuple[str, str | None, str]] = []
        rejections: list[Rejection] = []
        for record in records:
            accepted = self._validate(record)
            if isinstance(accepted, Rejection):
                rejections.append(accepted)
            else:
                rows.append(accepted)
        with self.connection.transaction():
            if rows:
                self._upsert(rows)
            if rejections:
                self._reject(rejections)
            if state is not None:
                self._save_state(state)
        self.counts.pages += 1
        self.counts.loaded += len(rows)
        self.counts.rejected += len(rejections)
        return len(rows)

    def _validate(self, record: Any) -> tuple[str, str | None, str] | Rejection:
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
        payload = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        if "\\u0000" in payload:
            return self._rejection(str(record_id), "payload contains a NUL character (not storable as jsonb)", record)
        return str(record_id), None if cursor is None else str(cursor), payload

    def _rejection(self, record_id: str | None, reason: str, record: Any) -> Rejection:
        self.counts.reasons[reason] = self.counts.reasons.get(reason, 0) + 1
        return Rejection(record_id, reason, _describe(record))

    def _upsert(self, rows: Sequence[tuple[str, str | None, str]]) -> None:
        self.connection.execute(
            "create temporary table if not exists _incoming"
            " (ordinal bigint, record_id text, cursor_value text, payload jsonb) on commit delete rows"
        )
        with self.connection.cursor().copy(
            "copy _incoming (ordinal, record_id, cursor_value, payload) from stdin"
        ) as copy:
            for ordinal, row in enumerate(rows):
                copy.write_row((ordinal, *row))
        self.connection.execute(
            sql.SQL(
                "insert into {table} as t (source_instance, record_id, cursor_value, batch_id, loaded_at,"
                " is_deleted, deleted_at, payload)"
                " select distinct on (record_id) %s, record_id, cursor_value, %s, now(), false, null, payload"
                " from _incoming order by record_id, ordinal desc"
                " on conflict (source_instance, record_id) do update set"
                " cursor_value = excluded.cursor_value, batch_id = excluded.batch_id,"
                " loaded_at = excluded.loaded_at, is_deleted = false, deleted_at = null,"
                " payload = excluded.payload"
            ).format(table=self.table),
            (self.source_instance, self.batch_id),
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

    def live_ids(self) -> set[str]:
        rows = self.connection.execute(
            sql.SQL("select record_id from {table} where source_instance = %s and not is_deleted").format(
                table=self.table
            ),
            (self.source_instance,),
        ).fetchall()
        self.connection.commit()
        return {row[0] for row in rows}
