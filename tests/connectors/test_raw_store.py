"""Landing into raw: COPY + upsert, idempotent reruns, rejects with reasons, tombstones, state with its rows."""

from __future__ import annotations

import threading

import psycopg
import pytest
from psycopg import sql

from connectors.raw_store import CATALOG_LOCK, STREAM_TABLE_DDL, CensusApart, StreamWriter, ensure_control_tables
from tests.conftest import wait_event_while_held


def make_writer(connection, stream="things"):
    return StreamWriter(
        connection,
        source_system="tool",
        source_instance="site-a",
        stream=stream,
        record_id=lambda record: record.get("id"),
        cursor_value=lambda record: record.get("updated"),
    )


def rows(connection, table="raw.tool_things"):
    return connection.execute(
        f"select record_id, cursor_value, is_deleted, payload from {table} order by record_id"
    ).fetchall()


def test_pages_upsert_and_a_rerun_duplicates_nothing(warehouse_url):
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        for _ in range(2):
            writer = make_writer(connection)
            writer.begin()
            writer.write_page([{"id": 1, "updated": "t1", "name": "a"}, {"id": 2, "updated": "t1", "name": "b"}])
            writer.write_page([{"id": 2, "updated": "t2", "name": "b2"}])
            writer.finish(state={"watermark": "t2"})
        loaded = rows(connection)
        assert [(r[0], r[1], r[2]) for r in loaded] == [("1", "t1", False), ("2", "t2", False)]
        assert loaded[1][3]["name"] == "b2"
        batches = connection.execute(
            "select status, records_loaded, pages from raw._load_batches order by started_at"
        ).fetchall()
        assert batches == [("succeeded", 3, 2), ("succeeded", 3, 2)]
        assert make_writer(connection).read_state() == {"watermark": "t2"}


def test_two_sites_of_one_tool_landing_at_once_on_a_new_warehouse_make_their_table_once(warehouse_url):
    """Two Jira sites' extracts share their streams' tables; the first night of both runs them side by side.
    The other site's extract, holding the catalog lock, has made the stream's table but not committed."""
    landed: list[int] = []
    with (
        psycopg.connect(warehouse_url, autocommit=True) as connection,
        psycopg.connect(warehouse_url) as other_site,
    ):
        ensure_control_tables(connection)  # done for the whole connection, before the other site began
        other_site.execute(CATALOG_LOCK)
        other_site.execute(sql.SQL(STREAM_TABLE_DDL).format(table=sql.Identifier("raw", "tool_things")))

        def land() -> None:
            writer = make_writer(connection)
            writer.begin()
            landed.append(writer.write_page([{"id": 1, "updated": "t1"}]))
            writer.finish()

        waited_on = wait_event_while_held(warehouse_url, other_site, land)

    assert waited_on == "advisory", "the writer made the table without waiting for the catalog lock"
    assert landed == [1]


def test_a_record_read_again_unchanged_keeps_its_row_and_a_changed_one_is_rewritten(warehouse_url):
    def stamps(connection) -> dict[str, tuple]:
        return {
            record_id: (loaded_at, batch_id)
            for record_id, loaded_at, batch_id in connection.execute(
                "select record_id, loaded_at, batch_id from raw.tool_things"
            )
        }

    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        first = make_writer(connection)
        first.begin()
        first.write_page([{"id": 1, "name": "a"}, {"id": 2, "name": "b"}, {"id": 3, "name": "c"}])
        first.mark_deleted(["3"])
        first.finish()
        before = stamps(connection)
        again = make_writer(connection)
        again.begin()
        loaded = again.write_page([{"id": 1, "name": "a"}, {"id": 2, "name": "b, renamed"}, {"id": 3, "name": "c"}])
        again.finish()
        after = stamps(connection)
        assert loaded == 3, "every record read counts as loaded"
        # downstream incremental models rebuild what the loader wrote since their last run: only what changed
        assert after["1"] == before["1"]
        assert after["2"][1] == again.batch_id and after["2"][0] > before["2"][0]
        assert after["3"][1] == again.batch_id, "a tombstoned record read again comes back, unchanged or not"
        assert [(r[0], r[2], r[3]["name"]) for r in rows(connection)] == [
            ("1", False, "a"),
            ("2", False, "b, renamed"),
            ("3", False, "c"),
        ]


def test_duplicate_ids_within_a_page_keep_the_last(warehouse_url):
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        writer = make_writer(connection)
        writer.begin()
        writer.write_page([{"id": "x", "v": 1}, {"id": "x", "v": 2}])
        assert rows(connection)[0][3] == {"id": "x", "v": 2}


def test_malformed_records_are_rejected_with_a_reason_and_the_rest_loads(warehouse_url):
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        writer = make_writer(connection)
        writer.begin()
        page = [{"id": 1}, "not an object", {"name": "no id"}, {"id": ""}, {"id": 2, "t": "a\x00b"}]
        loaded = writer.write_page(page)
        writer.finish()
        assert loaded == 1
        assert [r[0] for r in rows(connection)] == ["1"]
        rejected = connection.execute(
            "select reason, payload from raw._rejected_records order by rejected_id"
        ).fetchall()
        reasons = [reason for reason, _ in rejected]
        assert reasons[0] == "record is a JSON str, not an object"
        assert reasons[1:3] == ["record has no id", "record has no id"]
        assert reasons[3].startswith("payload contains a NUL character")
        assert '"no id"' in rejected[1][1]
        assert writer.counts.rejected == 4


def test_tombstones_flag_rows_and_a_reappearing_record_comes_back_alive(warehouse_url):
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        writer = make_writer(connection)
        writer.begin()
        writer.write_page([{"id": 1}, {"id": 2}])
        assert writer.mark_deleted(["2", "99"]) == 1
        assert writer.live_ids() == {"1"}
        assert [(r[0], r[2]) for r in rows(connection)] == [("1", False), ("2", True)]
        writer.write_page([{"id": 2}])
        assert writer.live_ids() == {"1", "2"}


def test_a_census_tombstones_what_it_does_not_list_and_keeps_what_it_does(warehouse_url):
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        writer = make_writer(connection)
        writer.begin()
        writer.write_page([{"id": n} for n in range(1, 7)])
        writer.mark_deleted(["6"])
        assert writer.tombstone_missing(iter([["1", "2"], [], ["4", "99"]])) == (4, 2)
        assert writer.live_ids() == {"1", "2", "4"}
        assert writer.counts.deleted == 3
        # a second census in the same session starts from an empty list
        assert writer.tombstone_missing([["1"]]) == (1, 2)
        assert writer.live_ids() == {"1"}


def test_a_census_apart_spares_rows_loaded_after_it_began_listing(warehouse_url):
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        writer = make_writer(connection)
        writer.begin()
        writer.write_page([{"id": n} for n in range(1, 5)])
        began, listing = threading.Event(), threading.Event()

        def census_pages():
            began.set()
            listing.wait(10)
            yield ["1", "2"]

        census = CensusApart(writer, census_pages)
        try:
            assert began.wait(10)
            # a record landed by the stream while the census lists, as a new issue during a night
            writer.write_page([{"id": 5}])
            listing.set()
            assert census.tombstone() == (2, 2)
        finally:
            census.close()
        assert writer.live_ids() == {"1", "2", "5"}
        assert writer.counts.deleted == 2


def test_a_census_apart_raises_what_its_listing_raised(warehouse_url):
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        writer = make_writer(connection)
        writer.begin()
        writer.write_page([{"id": 1}])

        def failing_pages():
            yield ["1"]
            raise ConnectionError("census page 2 failed")

        census = CensusApart(writer, failing_pages)
        try:
            with pytest.raises(ConnectionError, match="census page 2 failed"):
                census.tombstone()
        finally:
            census.close()
        assert writer.live_ids() == {"1"}


def test_a_census_that_lists_nothing_refuses_to_tombstone_everything(warehouse_url):
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        writer = make_writer(connection)
        writer.begin()
        writer.write_page([{"id": 1}, {"id": 2}])
        with pytest.raises(RuntimeError, match="census listed no ids while the warehouse holds 2"):
            writer.tombstone_missing([[], []])
        assert writer.live_ids() == {"1", "2"}
        writer.mark_deleted(["1", "2"])
        assert writer.tombstone_missing([]) == (0, 0)


def test_state_is_committed_with_its_rows_or_not_at_all(warehouse_url):
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        writer = make_writer(connection)
        writer.begin()
        writer.write_page([{"id": 1}], state={"watermark": "w1"})
        with pytest.raises(psycopg.errors.UndefinedTable), connection.transaction():
            writer.write_page([{"id": 2}], state={"watermark": "w2"})
            connection.execute("select * from raw.missing_table")
        assert make_writer(connection).read_state() == {"watermark": "w1"}
        assert [r[0] for r in rows(connection)] == ["1"]
        writer.fail(RuntimeError("boom"))
        status, error = connection.execute(
            "select status, error from raw._load_batches where batch_id = %s", (writer.batch_id,)
        ).fetchone()
        assert (status, error) == ("failed", "RuntimeError: boom")


def test_a_first_load_copies_straight_and_overlapping_pages_keep_the_last_version(warehouse_url):
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        writer = make_writer(connection)
        writer.begin()
        writer.write_page([{"id": 1, "v": "a"}, {"id": 2, "v": "a"}])
        writer.write_page([{"id": 2, "v": "b"}, {"id": 3, "v": "b"}])  # a feed whose pages overlap by one
        writer.write_page([{"id": 3, "v": "c"}, {"id": 3, "v": "d"}])  # and an id twice in one page
        writer.finish()
        assert [(r[0], r[3]["v"]) for r in rows(connection)] == [("1", "a"), ("2", "b"), ("3", "d")]


def test_payloads_with_escapes_and_unicode_round_trip_exactly(warehouse_url):
    awkward = {"id": "x", "text": 'tab\there\nnew line \\ backslash "quoted" é 漢字 \u2028', "n": 0, "f": False}
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        writer = make_writer(connection)
        writer.begin()
        writer.write_page([awkward])
        writer.finish()
        assert rows(connection)[0][3] == awkward


def test_the_page_loader_raises_a_loading_error_in_the_caller(warehouse_url):
    from connectors.raw_store import PageLoader

    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        writer = make_writer(connection)
        writer.begin()
        with pytest.raises(psycopg.errors.Error), PageLoader(writer) as loader:
            loader.submit([{"id": 1}], state={"watermark": "w1"})
            connection.execute("drop table raw.tool_things")
            loader.submit([{"id": 2}], state={"watermark": "w2"})
        assert make_writer(connection).read_state().get("watermark") != "w2"


def test_the_page_loader_tombstones_in_order_with_the_pages_around_them(warehouse_url):
    from connectors.raw_store import PageLoader

    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        writer = make_writer(connection)
        writer.begin()
        with PageLoader(writer) as loader:
            loader.submit([{"id": 1}, {"id": 2}, {"id": 3}], state={"watermark": "w1"})
            loader.mark_deleted([2, 3], state={"watermark": "w2"})
            loader.submit([{"id": 3, "v": "back"}], state={"watermark": "w3"})
            loader.mark_deleted([], state={"watermark": "w4"})  # nothing gone: only the state moves
        counts = writer.finish()
        assert [(r[0], r[2]) for r in rows(connection)] == [("1", False), ("2", True), ("3", False)]
        assert (counts.loaded, counts.deleted, counts.pages) == (4, 2, 2)
        assert make_writer(connection).read_state() == {"watermark": "w4"}


def test_a_table_made_before_loaded_at_defaulted_to_now_gets_the_default(warehouse_url):
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        make_writer(connection, stream="old_things").begin()
        connection.execute("alter table raw.tool_old_things alter column loaded_at drop default")

        writer = make_writer(connection, stream="old_things")
        writer.begin()
        writer.write_page([{"id": 1, "updated": "t1"}])
        writer.finish()

        default = connection.execute(
            "select column_default from information_schema.columns"
            " where table_schema = 'raw' and table_name = 'tool_old_things' and column_name = 'loaded_at'"
        ).fetchone()[0]
        assert default == "now()"
        assert connection.execute(
            "select count(*) from raw.tool_old_things where loaded_at is not null"
        ).fetchone() == (1,)


def test_each_batch_is_recorded_and_the_table_made_once_per_stream(warehouse_url):
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        first, second = make_writer(connection, stream="twice"), make_writer(connection, stream="twice")
        first.begin()
        first.write_page([{"id": 1}])
        first.finish()
        second.begin()
        second.write_page([{"id": 1}, {"id": 2}])
        second.finish()

        batches = connection.execute(
            "select status, records_loaded from raw._load_batches where stream = 'twice' order by started_at"
        ).fetchall()
        assert batches == [("succeeded", 1), ("succeeded", 2)]
        assert [row[0] for row in rows(connection, "raw.tool_twice")] == ["1", "2"]


def test_the_rows_written_since_an_instant_are_found_through_an_index_made_for_old_tables_too(warehouse_url):
    # the filter of the incremental staging models (macro written_since_last_build)
    since = "select record_id from raw.tool_indexed where greatest(loaded_at, deleted_at) > %s order by record_id"
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        make_writer(connection, stream="indexed").begin()
        connection.execute("drop index raw.tool_indexed_written_at")
        writer = make_writer(connection, stream="indexed")
        writer.begin()
        writer.write_page([{"id": number, "updated": "t1"} for number in range(500)])
        writer.finish()
        (before_night,) = connection.execute("select clock_timestamp()").fetchone()

        night = make_writer(connection, stream="indexed")
        night.begin()
        night.write_page([{"id": 7, "updated": "t2"}])
        night.mark_deleted(["9"])
        night.finish()

        connection.execute("set enable_seqscan = off")
        plan = connection.execute("explain (format json) " + since, (before_night,)).fetchone()[0]
        assert "tool_indexed_written_at" in str(plan), plan
        assert connection.execute(since, (before_night,)).fetchall() == [("7",), ("9",)]
