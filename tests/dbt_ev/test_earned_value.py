"""The earned value marts over a small hand-built portfolio: the figures of fct_project_daily,
fct_program_daily and fct_portfolio_daily are those the marts contract defines, computed here
in Python; the BI role reads the marts and nothing else; and an incremental run after edits
gives the same fct_project_daily as a full refresh."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from tests.conftest import create_database, drop_database
from tests.dbt_ev.conftest import (
    EARNED_VALUE_SELECTION,
    RUN_DATE,
    DbtInvocation,
    Portfolio,
    Project,
    TimeEntry,
    WorkItem,
    build_portfolio,
    md5,
    run_dbt,
    utc,
    write_portfolio,
)

STATUS_DAYS = (date(2026, 3, 4), RUN_DATE)
EDITED_RUN_DATE = date(2026, 3, 12)
LOOKBACK_DAYS = 7


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def ratio(numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return (numerator / denominator).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def band(index: Decimal | None) -> str:
    if index is None:
        return "grey"
    if index >= Decimal("0.95"):
        return "green"
    return "amber" if index >= Decimal("0.85") else "red"


def worse(first: str, second: str) -> str:
    return next((colour for colour in ("red", "amber", "green") if colour in (first, second)), "grey")


def total(values: list[Decimal | None]) -> Decimal | None:
    present = [value for value in values if value is not None]
    return sum(present, Decimal(0)) if present else None


def utc_date(item_time) -> date:
    return item_time.astimezone(UTC).date()


def first_day(portfolio: Portfolio, project: Project) -> date | None:
    days = [project.baseline_start] if project.baseline_start else []
    days += [
        utc_date(item.created_at) for item in portfolio.items if item.project == project.code and not item.is_deleted
    ]
    days += [entry.entry_date for entry in portfolio.entries if entry.project == project.code]
    return min(days, default=None)


def contract_figures(portfolio: Portfolio, project: Project, day: date) -> dict[str, object]:
    """bac, pv, ev, ac, spi, cpi and the bands of one project on day `day`, as the marts contract defines them."""
    bac = project.approved_budget
    created = [
        item
        for item in portfolio.items
        if item.project == project.code and not item.is_deleted and utc_date(item.created_at) <= day
    ]
    done = [item for item in created if item.completed_at is not None and utc_date(item.completed_at) <= day]
    weight_created = sum((item.weight for item in created), Decimal(0))
    weight_done = sum((item.weight for item in done), Decimal(0))
    pct_complete = weight_done / weight_created if weight_created else Decimal(0)
    pct_planned = None
    if project.baseline_start and project.baseline_finish:
        if day < project.baseline_start:
            pct_planned = Decimal(0)
        elif day >= project.baseline_finish:
            pct_planned = Decimal(1)
        else:
            pct_planned = (
                Decimal((day - project.baseline_start).days) / (project.baseline_finish - project.baseline_start).days
            )
    pv = cents(bac * pct_planned) if bac is not None and pct_planned is not None else None
    ev = cents(bac * pct_complete) if bac is not None else None
    ac = cents(
        sum(
            (
                entry.cost or Decimal(0)
                for entry in portfolio.entries
                if entry.project == project.code and entry.entry_date <= day
            ),
            Decimal(0),
        )
    )
    spi, cpi = ratio(ev, pv), ratio(ev, ac)
    return {
        "bac": bac,
        "pv": pv,
        "ev": ev,
        "ac": ac,
        "spi": spi,
        "cpi": cpi,
        "overall_health": worse(band(spi), band(cpi)),
    }


def rolled_up(portfolio: Portfolio, projects: list[Project], day: date) -> dict[str, object]:
    """Sum bac, pv, ev and ac over the projects that have a day on `day`, then divide."""
    figures = [
        contract_figures(portfolio, project, day)
        for project in projects
        if (start := first_day(portfolio, project)) is not None and start <= day
    ]
    sums = {measure: total([figure[measure] for figure in figures]) for measure in ("bac", "pv", "ev", "ac")}
    spi, cpi = ratio(sums["ev"], sums["pv"]), ratio(sums["ev"], sums["ac"])
    return {
        **sums,
        "spi": spi,
        "cpi": cpi,
        "overall_health": worse(band(spi), band(cpi)),
        "projects_total": len(figures),
    }


def fetch_figures(connection: psycopg.Connection, query: str, *parameters: object) -> dict[str, object] | None:
    with connection.cursor(row_factory=dict_row) as cursor:
        return cursor.execute(query, parameters).fetchone()


FIGURES = "bac, pv, ev, ac, spi, cpi, overall_health"


@pytest.fixture(scope="module")
def bi_role_name() -> str:
    return f"bi_reader_{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def dbt_work_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One target directory for the build and the later run-operations, so that those parse partially."""
    return tmp_path_factory.mktemp("ev")


@pytest.fixture(scope="module")
def built_marts(
    portfolio_database: str, dbt_work_dir: Path, bi_role_name: str
) -> Iterator[tuple[psycopg.Connection, DbtInvocation]]:
    invocation = run_dbt(
        ["build", "--select", EARNED_VALUE_SELECTION], portfolio_database, dbt_work_dir, bi_reader_role=bi_role_name
    )
    invocation.check()
    with psycopg.connect(portfolio_database, autocommit=True) as connection:
        yield connection, invocation


def test_build_passes_every_model_unit_test_and_data_test(built_marts) -> None:
    _, invocation = built_marts
    assert invocation.failures() == []
    kinds = {result["unique_id"].split(".")[0] for result in invocation.run_results["results"]}
    assert {"model", "snapshot", "test", "unit_test"} <= kinds


def test_project_days_run_from_first_activity_or_baseline_to_the_run_date(built_marts, portfolio: Portfolio) -> None:
    connection, _ = built_marts
    spans = {
        key: (first, last, days)
        for key, first, last, days in connection.execute(
            "select project_key, min(date_day), max(date_day), count(*) from marts.fct_project_daily group by 1"
        ).fetchall()
    }
    expected = {}
    for project in portfolio.projects:
        start = first_day(portfolio, project)
        expected[project.key] = (start, RUN_DATE, (RUN_DATE - start).days + 1)
    assert spans == expected
    # A starts with its first item, before its baseline; F, without any activity, at its baseline.
    assert spans[md5("A")][0] == date(2026, 2, 20)
    assert spans[md5("F")][0] == date(2026, 3, 5)


@pytest.mark.parametrize("day", STATUS_DAYS, ids=str)
@pytest.mark.parametrize("code", ["A", "B", "C", "D", "F", "H", "jira:E"])
def test_project_figures_follow_the_contract(built_marts, portfolio: Portfolio, code: str, day: date) -> None:
    connection, _ = built_marts
    project = portfolio.project(code)
    actual = fetch_figures(
        connection,
        f"select {FIGURES} from marts.fct_project_daily where project_key = %s and date_day = %s",
        project.key,
        day,
    )
    start = first_day(portfolio, project)
    if day < start:
        assert actual is None
    else:
        assert actual == contract_figures(portfolio, project, day)


def test_the_fixture_covers_the_interesting_cases(portfolio: Portfolio) -> None:
    figures = {project.code: contract_figures(portfolio, project, RUN_DATE) for project in portfolio.projects}
    assert figures["A"] == {
        "bac": Decimal("10000"),
        "pv": Decimal("4500.00"),
        "ev": Decimal("4000.00"),
        "ac": Decimal("5000.00"),
        "spi": Decimal("0.888889"),
        "cpi": Decimal("0.800000"),
        "overall_health": "red",
    }
    assert figures["C"]["spi"] is None and figures["C"]["cpi"] == Decimal("1.25")
    assert figures["D"]["ev"] is None and figures["D"]["ac"] == Decimal("200.00")
    assert figures["jira:E"]["overall_health"] == "grey"


def test_program_and_portfolio_sum_then_divide(built_marts, portfolio: Portfolio) -> None:
    connection, _ = built_marts
    program = [project for project in portfolio.projects if project.program == "PG1"]
    in_portfolio = [project for project in portfolio.projects if project.portfolio == "PF1"]
    for day in STATUS_DAYS:
        assert fetch_figures(
            connection,
            f"select {FIGURES}, projects_total from marts.fct_program_daily where program_key = %s and date_day = %s",
            md5("PG1"),
            day,
        ) == rolled_up(portfolio, program, day)
        assert fetch_figures(
            connection,
            f"select {FIGURES}, projects_total from marts.fct_portfolio_daily"
            " where portfolio_key = %s and date_day = %s",
            md5("PF1"),
            day,
        ) == rolled_up(portfolio, in_portfolio, day)
    # A (cpi 0.80) and B (cpi 2.00): from the sums 5000 / 5500, not their mean 1.40.
    assert rolled_up(portfolio, program, RUN_DATE)["cpi"] == Decimal("0.909091")


def test_portfolio_investment_ratio_uses_the_run_date_eac(built_marts, portfolio: Portfolio) -> None:
    connection, _ = built_marts
    growth = [project for project in portfolio.projects if project.strategic_theme == "growth"]
    eac = Decimal(0)
    for project in growth:
        figures = contract_figures(portfolio, project, RUN_DATE)
        cpi = figures["cpi"]
        exact_cpi = figures["ev"] / figures["ac"] if figures["ac"] else None
        eac += project.approved_budget if not cpi else cents(project.approved_budget / exact_cpi)
    benefit = sum((project.expected_benefit for project in growth), Decimal(0))
    row = connection.execute(
        """select projects_total, eac, expected_benefit, benefit_cost_ratio from marts.fct_portfolio_investment
        where portfolio_key = %s and strategic_theme = 'growth' and stage = 'active'""",
        (md5("PF1"),),
    ).fetchone()
    assert row == (2, eac, benefit, ratio(benefit, eac))


@pytest.fixture
def bi_role(built_marts, bi_role_name: str) -> Iterator[str]:
    connection, _ = built_marts
    role = bi_role_name
    yield role
    if connection.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone():
        connection.execute(sql.SQL("drop owned by {}").format(sql.Identifier(role)))
        connection.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


def catalog_row_versions(connection: psycopg.Connection) -> dict[str, str]:
    """The row version (xmin) of every schema's, relation's and function's catalog row outside the system schemas:
    a GRANT or REVOKE writes a new version of each row it names."""
    rows = connection.execute(
        "select 'schema ' || nspname, xmin::text from pg_namespace where nspname not like 'pg\\_%'"
        " union all select 'relation ' || oid::regclass::text, xmin::text from pg_class"
        " where relnamespace in (select oid from pg_namespace where nspname not like 'pg\\_%'"
        " and nspname != 'information_schema')"
        " union all select 'function ' || oid::regprocedure::text, xmin::text from pg_proc"
        " where pronamespace in (select oid from pg_namespace where nspname not like 'pg\\_%'"
        " and nspname != 'information_schema')"
    ).fetchall()
    return dict(rows)


def test_bi_role_grants_write_no_catalog_row_once_they_are_right(
    built_marts, bi_role: str, portfolio_database: str, dbt_work_dir: Path
) -> None:
    """The nightly DAG's dbt tasks run side by side, each ending with this hook while others create and
    rename their tables: a grant or revoke of an object another task is altering fails one of them."""
    connection, _ = built_marts
    connection.execute("create schema if not exists staging")
    connection.execute("create table if not exists staging.stg_example as select 1 as answer")
    run_dbt(["run-operation", "grant_bi_reader"], portfolio_database, dbt_work_dir, bi_reader_role=bi_role).check()
    before = catalog_row_versions(connection)
    assert any(name.startswith("relation marts.") for name in before)
    again = run_dbt(["run-operation", "grant_bi_reader"], portfolio_database, dbt_work_dir, bi_reader_role=bi_role)
    assert "(0 grant or revoke statement(s) needed)" in again.check().output
    assert catalog_row_versions(connection) == before

    role = sql.Identifier(bi_role)
    connection.execute(sql.SQL("revoke select on marts.fct_project_daily from {}").format(role))
    connection.execute(sql.SQL("grant select on staging.stg_example to {}").format(role))
    before = catalog_row_versions(connection)
    mended = run_dbt(["run-operation", "grant_bi_reader"], portfolio_database, dbt_work_dir, bi_reader_role=bi_role)
    assert "(2 grant or revoke statement(s) needed)" in mended.check().output
    after = catalog_row_versions(connection)
    assert {name for name in after if after[name] != before.get(name)} == {
        "relation marts.fct_project_daily",
        "relation staging.stg_example",
    }
    privileges = connection.execute(
        "select has_table_privilege(%(role)s, 'marts.fct_project_daily', 'select'),"
        " has_table_privilege(%(role)s, 'staging.stg_example', 'select')",
        {"role": bi_role},
    ).fetchone()
    assert privileges == (True, False)


def test_bi_role_reads_the_marts_and_nothing_else(
    built_marts, bi_role: str, portfolio_database: str, dbt_work_dir: Path
) -> None:
    connection, _ = built_marts
    role = sql.Identifier(bi_role)
    connection.execute("create schema if not exists staging")
    connection.execute("create table if not exists staging.stg_example as select 1 as answer")
    raw_table = connection.execute(
        "select quote_ident(table_schema) || '.' || quote_ident(table_name) from information_schema.tables "
        "where table_schema = 'raw' order by table_name limit 1"
    ).fetchone()[0]

    run_dbt(["run-operation", "grant_bi_reader"], portfolio_database, dbt_work_dir, bi_reader_role=bi_role).check()
    can_login = connection.execute("select rolcanlogin from pg_roles where rolname = %s", (bi_role,)).fetchone()
    assert can_login == (False,), "the role is created, without login"

    # Privileges it must not keep, as a hand-made grant or an old default would leave them.
    for statement in (
        "grant usage on schema raw, staging, intermediate, snapshots to {role}",
        "grant select on all tables in schema raw, staging, intermediate, snapshots to {role}",
        "grant insert, update, delete on all tables in schema marts to {role}",
        "grant create on schema marts to {role}",
    ):
        connection.execute(sql.SQL(statement).format(role=role))
    run_dbt(["run-operation", "grant_bi_reader"], portfolio_database, dbt_work_dir, bi_reader_role=bi_role).check()

    password = uuid.uuid4().hex
    connection.execute(sql.SQL("alter role {} login password {}").format(role, sql.Literal(password)))
    reader_url = psycopg.conninfo.make_conninfo(portfolio_database, user=bi_role, password=password)
    with psycopg.connect(reader_url, autocommit=True) as reader:
        assert reader.execute("select count(*) from marts.fct_project_daily").fetchone()[0] > 0
        assert reader.execute("select count(*) from marts.fct_portfolio_investment").fetchone()[0] > 0
        refused = [
            f"select * from {raw_table}",
            "select * from staging.stg_example",
            "select * from intermediate.int_project_daily_spans",
            "select * from snapshots.register_snapshot",
            "delete from marts.fct_project_daily",
            "insert into marts.dim_date (date_day) values (date '1999-01-01')",
            "create table marts.scratch (answer integer)",
        ]
        for statement in refused:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute(statement)


def edit_portfolio(portfolio: Portfolio) -> Portfolio:
    """A night's changes: a re-estimated item (A), a forecast (A), an old entry's hours corrected (A, weeks
    before the days every run rebuilds), late time (C), a deleted item and its time (D), a re-planned
    project (F), a project gone from the register (E) and a new one (G), a February item of H done in
    March and late time of H in March. B is untouched."""
    d = date.fromisoformat
    items = [
        replace(item, weight=Decimal("6"), estimate_hours=Decimal("6")) if item.item_id == "a2" else item
        for item in portfolio.items
        if item.project != "jira:E"
    ]
    items = [replace(item, is_deleted=True) if item.item_id == "d1" else item for item in items]
    items = [
        replace(item, completed_at=utc("2026-03-11T15:00:00+00:00")) if item.item_id == "h1" else item for item in items
    ]
    items.append(WorkItem("g1", "G", Decimal("2"), utc("2026-03-09T09:00:00+00:00")))
    entries = [entry for entry in portfolio.entries if entry.project not in ("jira:E", "D")]
    entries = [replace(entry, hours=Decimal("25")) if entry.entry_id == "t1" else entry for entry in entries]
    entries.append(TimeEntry("t8", "c2", "C", "bob@example.com", d("2026-03-11"), Decimal("3"), Decimal("100")))
    entries.append(TimeEntry("t11", "h1", "H", "carol@example.com", d("2026-03-04"), Decimal("1"), Decimal("50")))
    projects = []
    for project in portfolio.projects:
        if project.code == "A":
            project = replace(project, forecast_finish=d("2026-03-28"))
        if project.code == "F":
            project = replace(project, baseline_start=d("2026-03-08"), baseline_finish=d("2026-03-12"))
        if project.code != "jira:E":
            projects.append(project)
    projects.append(
        Project(
            "G",
            "PG1",
            "PF1",
            approved_budget=Decimal("500"),
            baseline_start=d("2026-03-09"),
            baseline_finish=d("2026-03-19"),
            strategic_theme="growth",
            stage="active",
        )
    )
    return replace(portfolio, projects=projects, items=items, entries=entries)


def project_days(connection: psycopg.Connection) -> list[tuple]:
    return connection.execute("select * from marts.fct_project_daily order by project_key, date_day").fetchall()


def row_versions(connection: psycopg.Connection, code: str) -> dict[date, str]:
    return dict(
        connection.execute(
            "select date_day, xmin::text from marts.fct_project_daily where project_key = %s", (md5(code),)
        ).fetchall()
    )


def written_project_days(work_dir: Path) -> str:
    """The statement with which the last dbt run in `work_dir` wrote fct_project_daily's rows."""
    return (
        work_dir / "target" / "run" / "pmo_warehouse" / "models" / "marts" / "project" / "fct_project_daily.sql"
    ).read_text()


@pytest.fixture(scope="module")
def edited_warehouse(warehouse_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """Build over the portfolio, edit it, build again incrementally two days later, then rebuild from scratch."""
    url = create_database(warehouse_server)
    work_dir = tmp_path_factory.mktemp("ev_incremental")
    # The unit tests ran in the first module build; here only the models, snapshot and data tests.
    build = ["build", "--select", EARNED_VALUE_SELECTION, "--exclude-resource-type", "unit_test"]
    try:
        with psycopg.connect(url, autocommit=True) as connection:
            write_portfolio(connection, build_portfolio())
            run_dbt(build, url, work_dir).check()
            versions_before = {code: row_versions(connection, code) for code in ("A", "B", "H")}

            connection.execute("create table public.project_days_before_edits as select * from marts.fct_project_daily")
            write_portfolio(connection, edit_portfolio(build_portfolio()))
            later = {"run_date": EDITED_RUN_DATE.isoformat(), "daily_facts_lookback_days": LOOKBACK_DAYS}
            # Most days are outdated by these edits: a share of 1 keeps the table and deletes only those.
            incremental_build = run_dbt(build, url, work_dir, **later, daily_facts_rebuild_share=1)
            incremental_build.check()
            incremental_write = written_project_days(work_dir)
            incremental = project_days(connection)
            versions_after = {code: row_versions(connection, code) for code in ("A", "B", "H")}
            schedule_changes = connection.execute(
                "select project_key, field, old_date, new_date, delta_days from marts.fct_schedule_changes"
            ).fetchall()
            current_versions = dict(
                connection.execute(
                    "select project_key, bool_or(is_current) from marts.dim_project_history group by 1"
                ).fetchall()
            )

            run_dbt(["run", "--full-refresh", "--select", "fct_project_daily"], url, work_dir, **later).check()
            full_refresh = project_days(connection)

            # A backfill: an old day of B, outside the lookback, is wrong in the mart (as after a late
            # rate card fix). A normal night leaves it; a run with rebuild_from rewrites it.
            old_day = EDITED_RUN_DATE - timedelta(days=LOOKBACK_DAYS + 3)
            connection.execute(
                "update marts.fct_project_daily set ac = ac + 1000 where project_key = %s and date_day = %s",
                (md5("B"), old_day),
            )
            fct_project_daily = ["run", "--select", "fct_project_daily"]
            run_dbt(fct_project_daily, url, work_dir, **later).check()
            after_normal_night = project_days(connection)
            run_dbt(fct_project_daily, url, work_dir, **later, rebuild_from=old_day.isoformat()).check()
            after_backfill = project_days(connection)

            # The same night from the same days, with the default share.
            connection.execute("truncate marts.fct_project_daily")
            connection.execute("insert into marts.fct_project_daily select * from public.project_days_before_edits")
            versions_restored = {code: row_versions(connection, code) for code in ("A", "B")}
            rebuilt_whole = run_dbt(fct_project_daily, url, work_dir, **later)
            rebuilt_whole.check()
            rebuilt_whole_write = written_project_days(work_dir)
            versions_rebuilt_whole = {code: row_versions(connection, code) for code in ("A", "B")}
            after_rebuild_whole = project_days(connection)
        yield {
            "after_normal_night": after_normal_night,
            "after_backfill": after_backfill,
            "incremental_log": incremental_build.output,
            "rebuilt_whole_log": rebuilt_whole.output,
            "incremental_write": incremental_write,
            "rebuilt_whole_write": rebuilt_whole_write,
            "versions_restored": versions_restored,
            "versions_rebuilt_whole": versions_rebuilt_whole,
            "after_rebuild_whole": after_rebuild_whole,
            "incremental": incremental,
            "full_refresh": full_refresh,
            "versions_before": versions_before,
            "versions_after": versions_after,
            "schedule_changes": schedule_changes,
            "current_versions": current_versions,
        }
    finally:
        drop_database(url)


def test_incremental_run_after_edits_equals_a_full_refresh(edited_warehouse) -> None:
    incremental, full_refresh = edited_warehouse["incremental"], edited_warehouse["full_refresh"]
    assert len(full_refresh) > 0
    assert incremental == full_refresh
    by_project = {row[0] for row in full_refresh}
    assert md5("jira:E") not in by_project, "a project gone from the register loses its days"
    assert md5("D") not in by_project, "a project left without activity or baseline loses its days"
    f_days = sorted(row[1] for row in full_refresh if row[0] == md5("F"))
    assert f_days[0] == date(2026, 3, 8), "days before F's new baseline start are gone"


def test_a_backfill_rebuilds_the_days_from_its_first_day(edited_warehouse) -> None:
    full_refresh = edited_warehouse["full_refresh"]
    assert edited_warehouse["after_normal_night"] != full_refresh, "a normal night leaves old days as they are"
    assert edited_warehouse["after_backfill"] == full_refresh


def test_incremental_run_rewrites_only_recent_days_of_unchanged_projects(edited_warehouse) -> None:
    before, after = edited_warehouse["versions_before"], edited_warehouse["versions_after"]
    window_start = EDITED_RUN_DATE - timedelta(days=LOOKBACK_DAYS - 1)
    untouched = {day for day, version in after["B"].items() if before["B"].get(day) == version}
    assert untouched == {day for day in before["B"] if day < window_start}
    assert max(after["B"]) == EDITED_RUN_DATE
    # A's inputs changed (a re-estimated item): every one of its days is rewritten.
    assert not {day for day, version in after["A"].items() if before["A"].get(day) == version}
    assert "days to rebuild; at most 1.0 of them, so only those are deleted" in edited_warehouse["incremental_log"]
    assert "delete from" in edited_warehouse["incremental_write"]


def test_incremental_run_rewrites_a_project_from_the_first_month_whose_inputs_changed(edited_warehouse) -> None:
    # H's February item was done in March and H logged late time in March: its February days, built
    # from the same February events, stay as they were; every March day is rewritten.
    before, after = edited_warehouse["versions_before"]["H"], edited_warehouse["versions_after"]["H"]
    untouched = {day for day, version in after.items() if before.get(day) == version}
    assert min(after) == date(2026, 2, 16)
    assert untouched == {day for day in before if day < date(2026, 3, 1)}
    assert untouched, "the days before the changed month are kept"


def test_a_night_outdating_more_than_the_rebuild_share_rebuilds_every_project_with_the_same_rows(
    edited_warehouse,
) -> None:
    assert (
        "days to rebuild; more than 0.5 of them, so every project is rebuilt whole"
        in edited_warehouse["rebuilt_whole_log"]
    )
    assert edited_warehouse["after_rebuild_whole"] == edited_warehouse["full_refresh"]
    # The emptied table gets its rows straight from the model's query: none is looked up to delete.
    assert (
        "its table is empty, so its rows are inserted straight from its query" in edited_warehouse["rebuilt_whole_log"]
    )
    written = edited_warehouse["rebuilt_whole_write"]
    assert written.lstrip().startswith("insert into") and "delete from" not in written
    restored, after = edited_warehouse["versions_restored"], edited_warehouse["versions_rebuilt_whole"]
    # B's inputs did not change, yet its days before the lookback window are written again too.
    assert after["B"] and not {day for day, version in after["B"].items() if restored["B"].get(day) == version}


def test_schedule_changes_come_from_register_versions(edited_warehouse) -> None:
    assert sorted(edited_warehouse["schedule_changes"]) == sorted(
        [
            (md5("A"), "forecast_finish", None, date(2026, 3, 28), None),
            (md5("F"), "baseline_finish", date(2026, 3, 5), date(2026, 3, 12), 7),
        ]
    )
    current = edited_warehouse["current_versions"]
    assert current[md5("jira:E")] is False, "a project gone from dim_project has its version closed"
    assert current[md5("G")] is True
