"""dbt's Jinja templates compiled once and loaded by later commands: the same output, an edited
template compiled anew, each environment its own code, bad files and folders survived, and a real
dbt command that compiles nothing the one before it compiled."""

from __future__ import annotations

import datetime
import marshal
import os
from pathlib import Path

import jinja2
import pytest

from tests.conftest import run_operation, write_macro_project
from warehouse.dbt_templates import (
    CACHE_FILE_SUFFIX,
    TEMPLATE_CACHE_VARIABLE,
    CompiledTemplates,
    cache_compiled_templates,
    template_cache_dir,
)


@pytest.fixture
def compiling_as_dbt_ships(monkeypatch: pytest.MonkeyPatch) -> None:
    """dbt's environments compiling with Jinja's own method, the cache's switch unset; both restored after."""
    from dbt_common.clients.jinja import MacroFuzzEnvironment

    monkeypatch.setattr(MacroFuzzEnvironment, "compile", jinja2.Environment.compile)
    monkeypatch.delenv(TEMPLATE_CACHE_VARIABLE, raising=False)


@pytest.fixture
def cache_dir(tmp_path: Path, compiling_as_dbt_ships: None) -> Path:
    """dbt's environments compiling through a cache in a folder of the test's own."""
    directory = tmp_path / "templates" / "these-versions"
    assert cache_compiled_templates(directory)
    return directory


def rendered(text: str, context: dict | None = None, *, native: bool = False):
    from dbt_common.clients.jinja import get_template

    return get_template(text, context or {}, native=native).render(context or {})


def kept_files(directory: Path) -> list[Path]:
    return sorted(directory.glob(f"*{CACHE_FILE_SUFFIX}"))


def no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any template dbt compiles from its text from now on fails."""
    from dbt_common.clients.jinja import MacroFuzzEnvironment

    def parse(self, source, name, filename):
        raise AssertionError(f"compiled again: {source!r}")

    monkeypatch.setattr(MacroFuzzEnvironment, "_parse", parse)


def test_a_template_compiled_once_is_loaded_and_not_compiled_again(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = "{% for project in projects %}{{ project | upper }};{% endfor %}"
    assert rendered(template, {"projects": ["apollo", "gemini"]}) == "APOLLO;GEMINI;"
    assert len(kept_files(cache_dir)) == 1

    no_parsing(monkeypatch)

    assert rendered(template, {"projects": ["mercury"]}) == "MERCURY;"
    with pytest.raises(Exception, match="compiled again"):
        rendered("{{ 'a template never compiled' }}")


def test_an_edited_template_is_compiled_anew(cache_dir: Path) -> None:
    assert rendered("select {{ column }} from projects", {"column": "budget"}) == "select budget from projects"
    assert rendered("select {{ column }} from programs", {"column": "budget"}) == "select budget from programs"
    assert len(kept_files(cache_dir)) == 2


def test_dbt_s_native_and_text_environments_keep_code_of_their_own(cache_dir: Path) -> None:
    day = datetime.date(2026, 12, 7)

    assert rendered("{{ day }}", {"day": day}) == "2026-12-07"
    assert rendered("{{ day }}", {"day": day}, native=True) == day
    assert len(kept_files(cache_dir)) == 2


def test_a_template_that_does_not_parse_fails_as_before_and_keeps_nothing(cache_dir: Path) -> None:
    from dbt_common.exceptions import CompilationError

    with pytest.raises(CompilationError, match="Expected an expression"):
        rendered("{% if %}never{% endif %}")

    assert list(cache_dir.iterdir()) == []


def test_an_unreadable_file_is_compiled_again_and_rewritten(cache_dir: Path) -> None:
    assert rendered("{{ 40 + 2 }}") == "42"
    [kept] = kept_files(cache_dir)
    kept.write_bytes(b"not marshalled code")

    assert rendered("{{ 40 + 2 }}") == "42"
    assert marshal.loads(kept.read_bytes()).co_filename == "<template>"


def test_with_dbt_s_macro_debugging_templates_are_compiled_as_usual(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dbt_common.clients import jinja

    monkeypatch.setattr(jinja, "MACRO_DEBUGGING", True)

    assert rendered("{{ 'debugged' }}") == "debugged"
    assert kept_files(cache_dir) == []


def test_switched_off_dbt_compiles_as_it_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compiling_as_dbt_ships: None
) -> None:
    from dbt_common.clients.jinja import MacroFuzzEnvironment

    monkeypatch.setenv(TEMPLATE_CACHE_VARIABLE, "off")

    assert not cache_compiled_templates(tmp_path / "templates")
    assert MacroFuzzEnvironment.compile is jinja2.Environment.compile
    assert not (tmp_path / "templates").exists()


def test_a_folder_that_cannot_be_made_leaves_dbt_compiling(tmp_path: Path, compiling_as_dbt_ships: None) -> None:
    (tmp_path / "a-file").write_text("not a folder")

    assert not cache_compiled_templates(tmp_path / "a-file" / "templates")
    assert rendered("{{ 'still' }} works") == "still works"


def test_the_cache_lives_in_the_local_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMO_LOCAL_DIR", str(tmp_path))

    assert template_cache_dir().parent == tmp_path / "dbt-templates"


def test_other_versions_folders_are_removed(tmp_path: Path) -> None:
    older = tmp_path / "dbt-templates" / "older-versions"
    older.mkdir(parents=True)
    (older / f"abc{CACHE_FILE_SUFFIX}").write_bytes(b"")
    current = CompiledTemplates(tmp_path / "dbt-templates" / "these-versions")

    assert current.ready()
    assert [folder.name for folder in (tmp_path / "dbt-templates").iterdir()] == ["these-versions"]


def test_beyond_the_limit_the_oldest_files_are_removed(tmp_path: Path) -> None:
    templates = CompiledTemplates(tmp_path)
    for number in range(10):
        kept = templates.path(f"template{number}")
        kept.write_bytes(b"")
        os.utime(kept, (1_000_000 + number, 1_000_000 + number))

    assert templates.prune(limit=10) == 0
    assert templates.prune(limit=6) == 7
    assert [path.stem for path in kept_files(tmp_path)] == ["template7", "template8", "template9"]


MACRO = """{% macro say(words) %}{{ print('SAID ' ~ words ~ ' ' ~ (words | length)) }}{% endmacro %}"""


def said(directory: Path, local_dir: Path, words: str) -> list[str]:
    output = run_operation(directory, "say", {"words": words}, {"PMO_LOCAL_DIR": str(local_dir)})
    return [line.split("SAID ", 1)[1] for line in output.splitlines() if "SAID " in line]


def test_a_dbt_command_loads_what_the_one_before_it_compiled(warehouse_url: str, tmp_path: Path) -> None:
    project = tmp_path / "project"
    write_macro_project(project, warehouse_url, "cached", {"say": MACRO})
    local_dir = tmp_path / "local"

    assert said(project, local_dir, "portfolio") == ["portfolio 9"]
    [folder] = (local_dir / "dbt-templates").iterdir()
    compiled_first = {path.name for path in kept_files(folder)}
    assert len(compiled_first) > 1  # dbt's own macros the command called, and the project's

    assert said(project, local_dir, "program") == ["program 7"]
    assert {path.name for path in kept_files(folder)} == compiled_first

    (project / "macros" / "say.sql").write_text(MACRO.replace("SAID ", "SAID again "))
    assert said(project, local_dir, "project") == ["again project 7"]
    assert len(kept_files(folder)) == len(compiled_first) + 1
