"""The bench settles the warehouse between the full refresh and the night, as a day would."""

from __future__ import annotations

import psycopg

from bench.refresh import settle


def test_settling_vacuums_and_analyses_every_table_a_refresh_filled(warehouse_url):
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        connection.execute("create schema raw")
        connection.execute(
            "create table raw.filled as select n, md5(n::text) as payload from generate_series(1, 5000) as n"
        )
        connection.execute("create table public.also_filled (n integer)")
        connection.execute("insert into public.also_filled select generate_series(1, 100)")

    settle(warehouse_url)

    with psycopg.connect(warehouse_url) as connection:
        maintained = connection.execute(
            "select relname, last_vacuum is not null, last_analyze is not null from pg_stat_user_tables"
            " where relname in ('filled', 'also_filled') order by relname"
        ).fetchall()
        visible_pages, pages = connection.execute(
            "select relallvisible, relpages from pg_class where oid = 'raw.filled'::regclass"
        ).fetchone()
    assert maintained == [("also_filled", True, True), ("filled", True, True)]
    assert pages > 0 and visible_pages == pages, "vacuum marks the new rows' pages all-visible"
