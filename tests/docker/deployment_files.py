"""Readers for the deployment files under docker/: Dockerfile instructions, compose variables, SQL statements.

Small and strict on purpose: they understand the forms these files use, and the tests fail loudly on
anything else rather than guess.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DOCKER_DIR = PROJECT_ROOT / "docker"
DOCKERFILE = DOCKER_DIR / "Dockerfile"
COMPOSE_FILE = DOCKER_DIR / "docker-compose.yml"
ENV_EXAMPLE = DOCKER_DIR / ".env.example"
WAREHOUSE_INIT_DIR = DOCKER_DIR / "warehouse-init"
IMAGE_REQUIREMENTS = DOCKER_DIR / "requirements.txt"
# The base image's AIRFLOW_HOME is /opt/airflow, and Airflow's default DAG folder is its dags/.
IMAGE_DAGS_FOLDER = PurePosixPath("/opt/airflow/dags")

# `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?message}`, `${NAME?message}`
COMPOSE_VARIABLE = re.compile(r"(?<!\$)\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<operator>:?[-?+])(?P<rest>[^}]*))?\}")


def pinned_airflow_version() -> str:
    """The `apache-airflow==X.Y.Z` pin of pyproject.toml."""
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        match = re.fullmatch(r"apache-airflow==(\d+\.\d+\.\d+)", requirement.replace(" ", ""))
        if match:
            return match.group(1)
    raise AssertionError("pyproject.toml pins no apache-airflow==X.Y.Z")


def pinned_python_minor() -> str:
    """The one Python minor version pyproject.toml allows, as `3.N`."""
    requires = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    match = re.fullmatch(r">=(3\.\d+),<3\.(\d+)", requires.replace(" ", ""))
    assert match and int(match.group(1).split(".")[1]) + 1 == int(match.group(2)), requires
    return match.group(1)


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str
    line_number: int

    def words(self) -> list[str]:
        return shlex.split(self.arguments)


def dockerfile_instructions(text: str) -> list[Instruction]:
    """The instructions of a Dockerfile, continuation lines joined, comments and parser directives dropped."""
    instructions: list[Instruction] = []
    pending: list[str] = []
    start_line = 0
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if not pending:
            start_line = number
        if line.endswith("\\"):
            pending.append(line[:-1].strip())
            continue
        pending.append(line)
        joined = " ".join(part for part in pending if part)
        keyword, _, arguments = joined.partition(" ")
        instructions.append(Instruction(keyword.upper(), arguments.strip(), start_line))
        pending = []
    assert not pending, "the Dockerfile ends inside a continued instruction"
    return instructions


@dataclass(frozen=True)
class CopyInstruction:
    sources: tuple[str, ...]
    destination: str
    chown: str | None


def copy_instructions(instructions: list[Instruction]) -> list[CopyInstruction]:
    copies = []
    for instruction in instructions:
        if instruction.keyword != "COPY":
            continue
        words = instruction.words()
        flags = {word.split("=", 1)[0]: word.split("=", 1)[1] for word in words if word.startswith("--")}
        paths = [word for word in words if not word.startswith("--")]
        assert "--from" not in flags, f"line {instruction.line_number}: COPY --from is not expected here"
        copies.append(CopyInstruction(tuple(paths[:-1]), paths[-1], flags.get("--chown")))
    return copies


def env_instruction_values(instructions: list[Instruction]) -> dict[str, str]:
    """Every `ENV KEY=value` of the Dockerfile (the legacy `ENV KEY value` form is rejected)."""
    values: dict[str, str] = {}
    for instruction in instructions:
        if instruction.keyword != "ENV":
            continue
        for word in instruction.words():
            assert "=" in word, f"line {instruction.line_number}: use ENV KEY=value, got {word!r}"
            key, value = word.split("=", 1)
            values[key] = value
    return values


def working_directory_at(instructions: list[Instruction], index: int) -> str:
    """The WORKDIR in force for the instruction at `index` (the base image's is taken as /)."""
    directory = "/"
    for instruction in instructions[:index]:
        if instruction.keyword == "WORKDIR":
            target = instruction.arguments.strip()
            directory = target if target.startswith("/") else f"{directory.rstrip('/')}/{target}"
    return directory


@dataclass(frozen=True)
class CopiedPath:
    source: str
    target: PurePosixPath
    instruction_index: int


def copied_paths(instructions: list[Instruction]) -> list[CopiedPath]:
    """Every repository path the COPY instructions take, and where it lands in the image.

    A folder's contents land in the target folder; a file lands inside a target written with a
    trailing slash, or at the target itself.
    """
    copied = []
    for index, instruction in enumerate(instructions):
        if instruction.keyword != "COPY":
            continue
        (copy,) = copy_instructions([instruction])
        destination = copy.destination
        if not destination.startswith("/"):
            destination = f"{working_directory_at(instructions, index)}/{destination}"
        for source in copy.sources:
            target = PurePosixPath(destination)
            if copy.destination.endswith("/") and (PROJECT_ROOT / source).is_file():
                target = target / PurePosixPath(source).name
            copied.append(CopiedPath(source.rstrip("/"), target, index))
    return copied


def first_run_with(instructions: list[Instruction], needle: str) -> tuple[int, Instruction]:
    """The first RUN whose command contains `needle`, with its index."""
    for index, instruction in enumerate(instructions):
        if instruction.keyword == "RUN" and needle in instruction.arguments:
            return index, instruction
    raise AssertionError(f"docker/Dockerfile has no RUN with {needle!r}")


def install_files(run: Instruction) -> tuple[str, str]:
    """The `--constraint` and `--requirement` files of a `pip install` RUN."""
    words = run.words()
    assert "--constraint" in words and "--requirement" in words, f"line {run.line_number}: {run.arguments}"
    return words[words.index("--constraint") + 1], words[words.index("--requirement") + 1]


def compose_variables(text: str) -> dict[str, set[str | None]]:
    """Each `${NAME...}` the compose file interpolates, with the operators it is used with."""
    variables: dict[str, set[str | None]] = {}
    for match in COMPOSE_VARIABLE.finditer(text):
        variables.setdefault(match.group("name"), set()).add(match.group("operator"))
    return variables


def env_file_entries(text: str) -> dict[str, str]:
    """`NAME=value` lines of an env file; comments and blank lines skipped."""
    entries = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        name, separator, value = stripped.partition("=")
        assert separator, f"not a NAME=value line: {line!r}"
        entries[name.strip()] = value.strip()
    return entries


def sql_statements(text: str) -> list[str]:
    """The SQL statements of a psql script: lowercased, whitespace collapsed, comments and `\\` meta-commands out.

    Enough for the plain DDL of the init scripts; it does not understand dollar quoting.
    """
    lines = []
    for line in text.splitlines():
        code = line.split("--", 1)[0].strip()
        if code.startswith("\\"):
            continue
        lines.append(code)
    statements = " ".join(lines).split(";")
    return [re.sub(r"\s+", " ", statement).strip().lower() for statement in statements if statement.strip()]
