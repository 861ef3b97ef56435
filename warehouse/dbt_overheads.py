"""Two of dbt's costs for every statement it runs, taken off within a dbt command.

A night's build runs about 130 nodes and several hundred statements, and much of its time is dbt's
own Python, not the warehouse's work. Two parts of it buy nothing on a nightly build:

- **Events nobody writes.** dbt fires an event for every statement it sends, every connection it
  opens and every step of a node. Each one is turned into a protobuf message, then formatted as a
  log line for each logger, and only then dropped by the logger's level: with `--quiet` and the
  debug file off (`settings.nightly_dbt_log_file_flags`), every debug event is built for nothing.
  `skip_unwritten_events` returns before that when the event's level is below what every logger
  writes and the only callback listening is dbt's own (which reads warnings only).
- **A relation's columns read through a macro.** Each incremental model asks for the columns of
  its new rows and of its table (dbt's schema-change check; twice more when its contract is not
  enforced): each time, dbt builds a whole macro context (every macro of the project and dbt's) to run
  `postgres__get_columns_in_relation`, whose one query takes about 2 ms. `read_columns_directly`
  sends that macro's query itself, on the same connection, within the node's transaction, and
  makes the same columns. It steps aside when the project defines a macro of that name.

`PMO_DBT_TRIM_OVERHEADS=0` leaves dbt as it is.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from warehouse import settings

TRIM_OVERHEADS_VARIABLE = "PMO_DBT_TRIM_OVERHEADS"
COLUMNS_MACROS = ("get_columns_in_relation", "postgres__get_columns_in_relation")
DBT_PACKAGES = ("dbt", "dbt_postgres")
COLUMNS_QUERY = (
    "select column_name, data_type, character_maximum_length, numeric_precision, numeric_scale"
    " from {columns} where table_name = {table}{schema_condition} order by ordinal_position"
)


def trim_overheads_wanted(environ: dict[str, str] | None = None) -> bool:
    """Whether `PMO_DBT_TRIM_OVERHEADS` leaves the overheads trimmed (anything but 0, false, no, off)."""
    return settings.switched_on(TRIM_OVERHEADS_VARIABLE, environ)


def trim_dbt_overheads() -> bool:
    """Both trims, once per process; returns whether they are on."""
    if not trim_overheads_wanted():
        return False
    skip_unwritten_events()
    read_columns_directly()
    return True


def skip_unwritten_events() -> None:
    """Make dbt's event manager drop, before building its message, an event no logger would write."""
    from dbt_common.events.event_manager import EventManager

    if getattr(EventManager.fire_event, "skips_unwritten", False):
        return
    fire_event = EventManager.fire_event

    def fire_written_event(
        self: EventManager, e: Any, level: Any = None, node: Any = None, force_warn_or_error_handling: bool = False
    ) -> None:
        if not force_warn_or_error_handling and not event_would_be_written(self, e, level):
            return
        fire_event(self, e, level=level, node=node, force_warn_or_error_handling=force_warn_or_error_handling)

    fire_written_event.skips_unwritten = True  # type: ignore[attr-defined]
    EventManager.fire_event = fire_written_event  # type: ignore[method-assign]


@cache
def dbt_event_names() -> tuple[Any, dict, int, type]:
    """What `event_would_be_written` reads of dbt's, imported once: dbt's tracking callback, the
    logging level of each event level, that of warnings, and dbt's logger class."""
    from dbt.tracking import track_behavior_change_warn
    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.logger import _log_level_map, _Logger

    return track_behavior_change_warn, _log_level_map, _log_level_map[EventLevel.WARN], _Logger


def event_would_be_written(manager: Any, event: Any, level: Any = None) -> bool:
    """Whether firing `event` (at `level`, or its own) could reach a log line or a callback that reads it.

    True unless the event is below warnings, below the level of every logger's output, not a `print`
    (which dbt writes as an error), and dbt's behaviour-change tracking is the only callback."""
    tracking_callback, log_levels, warning_level, logger_class = dbt_event_names()
    if os.environ.get("DBT_TEST_BINARY_SERIALIZATION") or type(event).__name__ == "PrintEvent":
        return True
    if any(callback is not tracking_callback for callback in manager.callbacks):
        return True
    event_level = log_levels[level or event.level_tag()]
    if event_level >= warning_level:
        return True
    for logger in manager.loggers:
        if not isinstance(logger, logger_class):
            return True
        output = logger._python_logger
        if output is not None and output.isEnabledFor(event_level):
            return True
    return False


def read_columns_directly() -> None:
    """Make dbt-postgres read a relation's columns with its macro's query, without the macro."""
    from dbt.adapters.postgres.impl import PostgresAdapter

    if getattr(PostgresAdapter.get_columns_in_relation, "reads_directly", False):
        return
    through_macro = PostgresAdapter.get_columns_in_relation

    def get_columns_in_relation(self: PostgresAdapter, relation: Any) -> list:
        if project_reads_columns_itself(self):
            return through_macro(self, relation)
        return columns_of(self, relation)

    get_columns_in_relation.reads_directly = True  # type: ignore[attr-defined]
    # keeps what makes the method callable from Jinja (`adapter.get_columns_in_relation`)
    get_columns_in_relation.__dict__.update(
        {key: value for key, value in vars(through_macro).items() if key != "reads_directly"}
    )
    PostgresAdapter.get_columns_in_relation = get_columns_in_relation  # type: ignore[method-assign]


def project_reads_columns_itself(adapter: Any) -> bool:
    """Whether a package other than dbt's defines a macro dbt would dispatch the columns' read to."""
    overridden = getattr(adapter, "_pmo_columns_macro_overridden", None)
    if overridden is None:
        resolver = adapter.get_macro_resolver()
        if resolver is None:
            return True
        overridden = any(
            macro.name in COLUMNS_MACROS and macro.package_name not in DBT_PACKAGES
            for macro in resolver.macros.values()
        )
        adapter._pmo_columns_macro_overridden = overridden
    return overridden


def columns_of(adapter: Any, relation: Any) -> list:
    """`postgres__get_columns_in_relation`'s columns of `relation`, from the same query on the thread's
    connection (a transaction begun if none is open, as the macro's `statement` does)."""
    query = COLUMNS_QUERY.format(
        columns=relation.information_schema("columns"),
        table=quoted_literal(relation.identifier),
        schema_condition=f" and table_schema = {quoted_literal(relation.schema)}" if relation.schema else "",
    )
    manager = adapter.connections
    _, cursor = manager.add_query(manager._add_query_comment(query), auto_begin=True)
    return [adapter.Column(*row) for row in cursor.fetchall()]


def quoted_literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"
