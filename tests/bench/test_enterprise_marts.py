"""The enterprise section's row of mart sizes, even when a build left a mart unmade."""

from __future__ import annotations

import psycopg

from bench.run import count_mart_rows, marts_row


def test_a_mart_no_build_made_is_counted_as_not_built_and_the_others_are_counted(warehouse_url):
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        connection.execute("create schema marts")
        connection.execute("create table marts.dim_project as select n from generate_series(1, 7) as n")

    counts = count_mart_rows(warehouse_url, ["dim_project", "fct_work_items"])

    assert counts == {"dim_project": 7, "fct_work_items": None}


def test_the_marts_row_names_the_marts_not_built():
    row = marts_row({"dim_project": 2051, "fct_work_items": None})

    assert (row.section, row.measure) == ("enterprise", "marts, after the night")
    assert row.value == "dim_project 2,051, fct_work_items not built"
