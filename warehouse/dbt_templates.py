"""dbt's Jinja templates compiled once for every dbt command on the machine, not once per command.

dbt renders every macro it calls and every node's SQL through a Jinja template, and compiles each
template from its text when first used in the process: the text parsed, Python source generated
from it, and that source compiled. A large night's `dbt build` compiles about 740 templates, about
1 s of its process's time, and every dbt command starts from nothing again. The compiled code
depends only on the template's text, the Jinja environment that compiles it and the versions of
Python, Jinja and dbt; so `cache_compiled_templates` keeps each compiled template in a file
(Python's `marshal`, as Jinja's own bytecode cache does), named by a hash of all of those, and a
later command loads the file instead of compiling again. A template whose text changed has another
name, so an edited macro or model is compiled anew.

The files live in `<PMO_LOCAL_DIR>/dbt-templates/<versions>/`. Files of other versions are removed,
and the oldest files once there are more than `MAX_TEMPLATE_FILES`. A file that cannot be read
back is compiled again and rewritten; a folder that cannot be written leaves dbt compiling as
before. With dbt's macro debugging on (`DBT_MACRO_DEBUGGING`, which places each template's code in
Python's line cache), templates are compiled as usual.

`PMO_DBT_TEMPLATE_CACHE=0` leaves dbt as it is.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import logging
import marshal
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import CodeType
from typing import Any

from warehouse import settings

log = logging.getLogger(__name__)

TEMPLATE_CACHE_VARIABLE = "PMO_DBT_TEMPLATE_CACHE"
MAX_TEMPLATE_FILES = 20_000
CACHE_FILE_SUFFIX = ".code"
# What of a Jinja environment, besides its class, shapes the code it compiles a template's text into.
ENVIRONMENT_SETTINGS = (
    "block_start_string",
    "block_end_string",
    "variable_start_string",
    "variable_end_string",
    "comment_start_string",
    "comment_end_string",
    "line_statement_prefix",
    "line_comment_prefix",
    "trim_blocks",
    "lstrip_blocks",
    "newline_sequence",
    "keep_trailing_newline",
    "optimized",
    "is_async",
    "sandboxed",
)


def template_cache_wanted(environ: dict[str, str] | None = None) -> bool:
    """Whether `PMO_DBT_TEMPLATE_CACHE` leaves the cache on (anything but 0, false, no, off)."""
    return settings.switched_on(TEMPLATE_CACHE_VARIABLE, environ)


def versions_folder_name() -> str:
    """The name of the folder for this Python's, Jinja's and dbt's versions."""
    versions = "|".join(
        (
            importlib.util.MAGIC_NUMBER.hex(),
            sys.implementation.cache_tag or "",
            importlib.metadata.version("jinja2"),
            importlib.metadata.version("dbt-common"),
            importlib.metadata.version("dbt-core"),
        )
    )
    return hashlib.blake2b(versions.encode(), digest_size=8).hexdigest()


def template_cache_dir() -> Path:
    return settings.local_dir() / "dbt-templates" / versions_folder_name()


def cache_compiled_templates(directory: Path | None = None) -> bool:
    """Make dbt's Jinja environments load compiled templates from `directory` (by default
    `template_cache_dir()`) and store those they compile there, once per process; returns whether the
    cache is on."""
    from dbt_common.clients.jinja import MacroFuzzEnvironment

    if not template_cache_wanted():
        return False
    if getattr(MacroFuzzEnvironment.compile, "compiled_templates", None) is not None:
        return True
    cache = CompiledTemplates(directory or template_cache_dir())
    if not cache.ready():
        return False
    compile_text = MacroFuzzEnvironment.compile

    def compile_or_load(
        self: Any,
        source: Any,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        if raw or not isinstance(source, str) or macro_debugging():
            return compile_text(self, source, name, filename, raw, defer_init)
        key = template_key(self, source, name, filename, defer_init)
        code = cache.load(key)
        if code is None:
            code = compile_text(self, source, name, filename, raw, defer_init)
            cache.store(key, code)
        return code

    compile_or_load.compiled_templates = cache  # type: ignore[attr-defined]
    MacroFuzzEnvironment.compile = compile_or_load  # type: ignore[method-assign]
    return True


def macro_debugging() -> bool:
    from dbt_common.clients import jinja

    return bool(getattr(jinja, "MACRO_DEBUGGING", False))


def template_key(environment: Any, source: str, name: str | None, filename: str | None, defer_init: bool) -> str:
    """The file name of `source` compiled by `environment` (as `name`, from `filename`)."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(repr(environment_fingerprint(environment)).encode())
    digest.update(repr((name, filename, defer_init)).encode())
    digest.update(source.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def environment_fingerprint(environment: Any) -> tuple:
    """What of `environment` shapes a template's compiled code: its class and code generator, its
    syntax and options, its extensions, and the filters and tests that constant expressions are
    folded with when compiled."""
    return (
        qualified_name(type(environment)),
        qualified_name(environment.code_generator_class),
        tuple(getattr(environment, setting) for setting in ENVIRONMENT_SETTINGS),
        qualified_name(environment.finalize) if environment.finalize is not None else None,
        environment.autoescape if isinstance(environment.autoescape, bool) else qualified_name(environment.autoescape),
        tuple(sorted(environment.extensions)),
        tuple(sorted(getattr(environment, "intercepted_binops", ()))),
        tuple(sorted(getattr(environment, "intercepted_unops", ()))),
        tuple(sorted((name, qualified_name(function)) for name, function in environment.filters.items())),
        tuple(sorted((name, qualified_name(function)) for name, function in environment.tests.items())),
    )


def qualified_name(thing: Any) -> str:
    return f"{getattr(thing, '__module__', '')}.{getattr(thing, '__qualname__', type(thing).__qualname__)}"


class CompiledTemplates:
    """A folder of compiled templates, one `marshal` file each, shared by the machine's dbt commands."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def ready(self) -> bool:
        """Makes the folder, drops other versions' folders and the oldest files beyond
        `MAX_TEMPLATE_FILES`; whether templates can be kept in it."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            for other in self.directory.parent.iterdir():
                if other.is_dir() and other != self.directory:
                    shutil.rmtree(other, ignore_errors=True)
            self.prune()
        except OSError as error:
            log.warning("dbt's templates are compiled in each command: %s is not usable (%s)", self.directory, error)
            return False
        if not os.access(self.directory, os.W_OK):
            log.warning("dbt's templates are compiled in each command: %s is not writable", self.directory)
            return False
        return True

    def prune(self, limit: int = MAX_TEMPLATE_FILES) -> int:
        """Removes the oldest files until half of `limit` remain, once there are more than `limit`;
        returns how many it removed."""
        entries = [entry for entry in os.scandir(self.directory) if entry.name.endswith(CACHE_FILE_SUFFIX)]
        if len(entries) <= limit:
            return 0
        entries.sort(key=lambda entry: entry.stat().st_mtime)
        removed = entries[: len(entries) - limit // 2]
        for entry in removed:
            Path(entry.path).unlink(missing_ok=True)
        return len(removed)

    def path(self, key: str) -> Path:
        return self.directory / f"{key}{CACHE_FILE_SUFFIX}"

    def load(self, key: str) -> CodeType | None:
        """The code stored under `key`, or None when there is none or it cannot be read back."""
        try:
            code = marshal.loads(self.path(key).read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EOFError, TypeError) as error:
            log.debug("compiled template %s unreadable, compiled again: %s", key, error)
            return None
        return code if isinstance(code, CodeType) else None

    def store(self, key: str, code: CodeType) -> None:
        """Writes `code` under `key` whole or not at all: other threads and processes may be reading
        and writing the same template."""
        try:
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=f".{key}.", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as output:
                    output.write(marshal.dumps(code))
                os.replace(temporary, self.path(key))
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as error:
            log.debug("compiled template %s not kept: %s", key, error)
