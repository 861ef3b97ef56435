"""dbt's overheads trimmed: events no logger writes are not built; a relation's columns read without
a macro, the same as the macro reads them (a real `dbt run-operation` on a real server)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import psycopg
import pytest

from tests.conftest import run_operation, write_macro_project
from warehouse.dbt_overheads import skip_unwritten_events, trim_overheads_wanted


@pytest.fixture
def event_manager(monkeypatch: pytest.MonkeyPatch):
    """An event manager of dbt's, with the skip on and the building of messages counted."""
    import dbt_common.events.event_manager as event_manager_module
    from dbt.tracking import track_behavior_change_warn
    from dbt_common.events.event_manager import EventManager

    skip_unwritten_events()
    built = []
    build_message = event_manager_module.msg_from_base_event

    def counted(event, level=None):
        built.append(type(event).__name__)
        return build_message(event, level=level)

    monkeypatch.setattr(event_manager_module, "msg_from_base_event", counted)
    manager = EventManager()
    manager.add_callback(track_behavior_change_warn)
    manager.built = built
    return manager


def add_logger(manager, level) -> io.StringIO:
    from dbt_common.events.functions import get_stdout_config
    from dbt_common.events.logger import LineFormat

    output = io.StringIO()
    config = get_stdout_config(LineFormat.PlainText, False, level, False)
    config.output_stream = output
    manager.add_logger(config)
    return output


def sql_query_event():
    from dbt.adapters.events.types import SQLQuery

    return SQLQuery(conn_name="model.night.x", sql="select 'the statement'", node_info={})


def test_a_debug_event_no_logger_writes_is_not_built(event_manager) -> None:
    from dbt_common.events.base_types import EventLevel

    output = add_logger(event_manager, EventLevel.ERROR)  # dbt's --quiet

    event_manager.fire_event(sql_query_event())

    assert event_manager.built == []
    assert output.getvalue() == ""


def test_an_event_a_logger_writes_is_written(event_manager) -> None:
    from dbt_common.events.base_types import EventLevel

    output = add_logger(event_manager, EventLevel.DEBUG)

    event_manager.fire_event(sql_query_event())

    assert event_manager.built == ["SQLQuery"]
    assert "the statement" in output.getvalue()


def test_prints_warnings_and_events_for_other_callbacks_are_still_fired(event_manager) -> None:
    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.types import Note, PrintEvent

    output = add_logger(event_manager, EventLevel.ERROR)
    event_manager.fire_event(PrintEvent(msg="printed by a macro"))
    event_manager.fire_event(Note(msg="a warning"), level=EventLevel.WARN)
    assert "printed by a macro" in output.getvalue()
    assert event_manager.built == ["PrintEvent", "Note"]

    received = []
    event_manager.add_callback(lambda message: received.append(message.info.name))
    event_manager.fire_event(sql_query_event())
    assert received == ["SQLQuery"]


@pytest.mark.parametrize(("value", "trimmed"), [(None, True), ("1", True), ("0", False), ("off", False)])
def test_the_setting_that_leaves_dbt_as_it_is(value: str | None, trimmed: bool) -> None:
    environ = {} if value is None else {"PMO_DBT_TRIM_OVERHEADS": value}
    assert trim_overheads_wanted(environ) is trimmed


# Prints each column dbt reads of `relation`, as the schema-change check compares them.
COLUMNS_MACRO = """
{% macro print_columns(schema, identifier) %}
    {% set relation = api.Relation.create(database=target.database, schema=schema, identifier=identifier) %}
    {% for column in adapter.get_columns_in_relation(relation) %}
        {% do print('COLUMN ' ~ tojson([column.name, column.dtype, column.data_type,
            column.char_size | string, column.numeric_precision | string, column.numeric_scale | string])) %}
    {% endfor %}
{% endmacro %}
"""

OVERRIDE_MACRO = """
{% macro postgres__get_columns_in_relation(relation) %}
    {{ return([api.Column('read_by_the_project', 'text')]) }}
{% endmacro %}
"""


def printed_columns(directory: Path, schema: str, identifier: str, *, trimmed: bool) -> list[list[str]]:
    output = run_operation(
        directory,
        "print_columns",
        {"schema": schema, "identifier": identifier},
        {"PMO_DBT_TRIM_OVERHEADS": "1" if trimmed else "0"},
    )
    return [json.loads(line.split("COLUMN ", 1)[1]) for line in output.splitlines() if "COLUMN " in line]


def test_a_relation_s_columns_are_those_the_macro_reads(warehouse_url: str, tmp_path: Path) -> None:
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        connection.execute("create schema if not exists other")
        connection.execute(
            "create table public.typed (project_key text, name varchar(20), code char(3), amount numeric(18, 2),"
            " ratio numeric, hours double precision, items integer, big bigint, day date,"
            " at timestamptz, payload jsonb, tags text[], flag boolean)"
        )
        connection.execute("create table other.typed (only_here integer)")
        connection.execute("alter table public.typed drop column big")
    write_macro_project(tmp_path, warehouse_url, "trimmed", {"print_columns": COLUMNS_MACRO})

    trimmed = printed_columns(tmp_path, "public", "typed", trimmed=True)
    through_the_macro = printed_columns(tmp_path, "public", "typed", trimmed=False)

    assert [column[0] for column in trimmed] == [
        "project_key", "name", "code", "amount", "ratio", "hours", "items", "day", "at", "payload", "tags", "flag",
    ]  # fmt: skip
    assert trimmed == through_the_macro
    assert dict((column[0], column[2]) for column in trimmed)["amount"] == "numeric(18,2)"
    assert printed_columns(tmp_path, "other", "typed", trimmed=True) == [
        ["only_here", "integer", "integer", "None", "32", "0"]
    ]


def test_a_project_s_own_columns_macro_is_still_used(warehouse_url: str, tmp_path: Path) -> None:
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        connection.execute("create table public.typed (project_key text)")
    macros = {"print_columns": COLUMNS_MACRO, "columns_override": OVERRIDE_MACRO}
    write_macro_project(tmp_path, warehouse_url, "trimmed", macros)

    assert [column[0] for column in printed_columns(tmp_path, "public", "typed", trimmed=True)] == [
        "read_by_the_project"
    ]
