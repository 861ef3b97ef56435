"""The subset of JQL the Jira simulator understands, parsed and evaluated the way Jira Cloud does.

Supported: clauses joined by `AND` on `project`, `key`/`issuekey`, `id`, `created`/`createdDate` and
`updated`/`updatedDate`, then an optional `ORDER BY` on `created`, `updated`, `key` or `id`.

Date literals follow Jira's rules, which connectors most often get wrong: `"yyyy-MM-dd HH:mm"`,
`"yyyy/MM/dd HH:mm"`, `yyyy-MM-dd` or `yyyy/MM/dd` (no seconds: minute precision), read as wall time
in the time zone of the user who owns the API token; relative periods such as `-5d` or `"-1w 2d"`
count back from now. A date-only literal means that day's 00:00, so `updated <= "2026-01-31"` leaves
out everything updated later on the 31st.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from simulators.world import JiraIssue

UNBOUNDED_MESSAGE = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
VALID_OPERATORS = (
    "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'."
)
DATE_FORMATS_HINT = (
    "Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', "
    "or a period format e.g. '-5d', '4w 2d'."
)

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>>=|<=|!=|!~|=|>|<|~)
      | (?P<punct>[(),])
      | (?P<word>[^\s"'(),=<>!~]+)
    )""",
    re.VERBOSE,
)
_ABSOLUTE_DATE = re.compile(r"^(\d{4})([-/])(\d{1,2})\2(\d{1,2})(?: (\d{1,2}):(\d{2}))?$")
_PERIOD_PART = re.compile(r"^([-+]?)(\d+)([wdhm])$")
_FIELD_ALIASES = {
    "project": "project",
    "key": "key",
    "issuekey": "key",
    "id": "id",
    "created": "created",
    "createddate": "created",
    "updated": "updated",
    "updateddate": "updated",
}
_DATE_FIELDS = frozenset({"created", "updated"})
_DEFAULT_DESCENDING = frozenset({"created", "updated"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class JqlError(ValueError):
    """A query Jira would refuse with HTTP 400; `str(error)` is Jira's error message."""


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    position: int

    @property
    def value(self) -> str:
        if self.kind == "string":
            return re.sub(r"\\(.)", r"\1", self.text[1:-1])
        return self.text


@dataclass(frozen=True)
class Clause:
    field: str
    operator: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class OrderTerm:
    field: str
    descending: bool


@dataclass(frozen=True)
class JqlQuery:
    clauses: tuple[Clause, ...]
    order: tuple[OrderTerm, ...]


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            remainder = text[position:].lstrip()
            raise JqlError(
                f"Error in the JQL Query: The character '{remainder[:1]}' is a reserved JQL character. "
                f"You must enclose it in a string or use the escape '\\u{ord(remainder[:1]):04x}' instead. "
                f"(line 1, character {len(text) - len(remainder) + 1})"
            )
        kind = match.lastgroup or "word"
        tokens.append(_Token(kind, match.group(kind), match.start(kind) + 1))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Token | None:
        token = self.peek()
        self.index += 1
        return token

    def word_is(self, token: _Token | None, word: str) -> bool:
        return token is not None and token.kind == "word" and token.text.lower() == word

    def unexpected(self, expecting: str, token: _Token | None) -> JqlError:
        if token is None:
            return JqlError(f"Error in the JQL Query: Expecting {expecting} but reached the end of the query.")
        return JqlError(
            f"Error in the JQL Query: Expecting {expecting} but got '{token.value}'. "
            f"(line 1, character {token.position})"
        )

    def parse(self) -> JqlQuery:
        clauses: list[Clause] = []
        order: list[OrderTerm] = []
        if self.peek() is not None and not self.word_is(self.peek(), "order"):
            clauses.append(self.clause())
            while self.peek() is not None and not self.word_is(self.peek(), "order"):
                token = self.take()
                if self.word_is(token, "and"):
                    clauses.append(self.clause())
                elif self.word_is(token, "or") or self.word_is(token, "not"):
                    raise JqlError(
                        f"Error in the JQL Query: '{token.value}' is not supported by this simulator; "  # type: ignore[union-attr]
                        "join clauses with AND."
                    )
                else:
                    raise self.unexpected("either 'OR' or 'AND'", token)
        if self.word_is(self.peek(), "order"):
            self.take()
            if not self.word_is(self.take(), "by"):
                raise self.unexpected("'BY'", self.tokens[self.index - 1] if self.index <= len(self.tokens) else None)
            order.append(self.order_term())
            while self.peek() is not None:
                token = self.take()
                if token is not None and token.kind == "punct" and token.text == ",":
                    order.append(self.order_term())
                else:
                    raise self.unexpected("',' or the end of the query", token)
        return JqlQuery(tuple(clauses), tuple(order))

    def field_name(self, token: _Token | None) -> str:
        if token is None or token.kind not in ("word", "string"):
            raise self.unexpected("a field name", token)
        name = _FIELD_ALIASES.get(token.value.lower())
        if name is None:
            raise JqlError(f"Field '{token.value}' does not exist or you do not have permission to view it.")
        return name

    def clause(self) -> Clause:
        field = self.field_name(self.take())
        token = self.take()
        if token is not None and token.kind == "op":
            operator = token.text
            value = self.take()
            if value is None or value.kind not in ("word", "string"):
                raise self.unexpected("either a value, an empty value or a function", value)
            return Clause(field, operator, (value.value,))
        if self.word_is(token, "in") or self.word_is(token, "not"):
            operator = "in"
            if self.word_is(token, "not"):
                if not self.word_is(self.take(), "in"):
                    raise self.unexpected(
                        "'IN'", self.tokens[self.index - 1] if self.index <= len(self.tokens) else None
                    )
                operator = "not in"
            opening = self.take()
            if opening is None or opening.text != "(":
                raise self.unexpected("'('", opening)
            values = []
            while True:
                value = self.take()
                if value is None or value.kind not in ("word", "string"):
                    raise self.unexpected("a value", value)
                values.append(value.value)
                separator = self.take()
                if separator is not None and separator.text == ")":
                    break
                if separator is None or separator.text != ",":
                    raise self.unexpected("',' or ')'", separator)
            return Clause(field, operator, tuple(values))
        if token is None:
            raise JqlError(
                f"Error in the JQL Query: Expecting operator but reached the end of the query. {VALID_OPERATORS}"
            )
        raise JqlError(
            f"Error in the JQL Query: Expecting operator but got '{token.value}'. {VALID_OPERATORS} "
            f"(line 1, character {token.position})"
        )

    def order_term(self) -> OrderTerm:
        token = self.take()
        field = self.field_name(token)
        if field == "project":
            field = "key"
        descending = field in _DEFAULT_DESCENDING
        if self.word_is(self.peek(), "asc") or self.word_is(self.peek(), "desc"):
            descending = self.take().text.lower() == "desc"  # type: ignore[union-attr]
        return OrderTerm(field, descending)


def parse_jql(text: str) -> JqlQuery:
    """Parse a query of the supported subset; raise `JqlError` with Jira's wording when it is invalid."""
    return _Parser(text or "").parse()


def parse_date_literal(text: str, field: str, zone: tzinfo, now: datetime) -> datetime:
    """The UTC instant a JQL date literal denotes for a user in `zone`."""
    stripped = text.strip()
    absolute = _ABSOLUTE_DATE.match(stripped)
    if absolute:
        year, _, month, day, hour, minute = absolute.groups()
        try:
            local = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), tzinfo=zone)
        except ValueError:
            raise JqlError(f"Date value '{text}' for field '{field}' is invalid. {DATE_FORMATS_HINT}") from None
        return local.astimezone(UTC)
    parts = stripped.split()
    offset = timedelta()
    sign = ""
    units = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}
    for index, part in enumerate(parts):
        period = _PERIOD_PART.match(part)
        if period is None or (index > 0 and period.group(1)):
            raise JqlError(f"Date value '{text}' for field '{field}' is invalid. {DATE_FORMATS_HINT}")
        if index == 0:
            sign = period.group(1)
        offset += int(period.group(2)) * units[period.group(3)]
    if not parts:
        raise JqlError(f"Date value '{text}' for field '{field}' is invalid. {DATE_FORMATS_HINT}")
    return now - offset if sign == "-" else now + offset


_COMPARE: dict[str, Callable[[datetime, datetime], bool]] = {
    "=": lambda left, right: left == right,
    "!=": lambda left, right: left != right,
    ">": lambda left, right: left > right,
    ">=": lambda left, right: left >= right,
    "<": lambda left, right: left < right,
    "<=": lambda left, right: left <= right,
}


@dataclass(frozen=True)
class SearchContext:
    """What evaluating a query depends on: the token user's zone, now, and the site's names."""

    zone: tzinfo
    now: datetime
    project_keys_by_alias: dict[str, str]
    issue_keys: frozenset[str]


def compile_query(query: JqlQuery, context: SearchContext) -> Callable[[JiraIssue], bool]:
    """A predicate for the query's clauses; raise `JqlError` for values Jira would reject."""
    tests: list[Callable[[JiraIssue], bool]] = []
    for clause in query.clauses:
        tests.append(_compile_clause(clause, context))

    def matches(issue: JiraIssue) -> bool:
        return all(test(issue) for test in tests)

    return matches


def _compile_clause(clause: Clause, context: SearchContext) -> Callable[[JiraIssue], bool]:
    field, operator, values = clause.field, clause.operator, clause.values
    if field in _DATE_FIELDS:
        if operator not in _COMPARE:
            raise JqlError(f"The operator '{operator.upper()}' is not supported by the '{field}' field.")
        instant = parse_date_literal(values[0], field, context.zone, context.now)
        compare = _COMPARE[operator]
        attribute = "created_at" if field == "created" else "updated_at"
        return lambda issue: compare(getattr(issue, attribute), instant)
    if operator not in ("=", "!=", "in", "not in"):
        raise JqlError(f"The operator '{operator.upper()}' is not supported by the '{field}' field.")
    negate = operator in ("!=", "not in")
    if field == "project":
        keys = set()
        for value in values:
            key = context.project_keys_by_alias.get(value.lower())
            if key is None:
                raise JqlError(f"The value '{value}' does not exist for the field 'project'.")
            keys.add(key)
        return lambda issue: (issue.project_key in keys) != negate
    if field == "key":
        wanted = set()
        for value in values:
            if value.upper() not in context.issue_keys:
                raise JqlError(f"An issue with key '{value}' does not exist for field 'key'.")
            wanted.add(value.upper())
        return lambda issue: (issue.key in wanted) != negate
    ids = set()
    for value in values:
        if not value.isdigit():
            raise JqlError(f"The issue id '{value}' for field 'id' is invalid.")
        ids.add(str(int(value)))
    return lambda issue: (issue.id in ids) != negate


def compile_sql(query: JqlQuery, context: SearchContext) -> tuple[str, list[object]]:
    """The query's clauses as one SQL condition on a stored site's issue columns (`id`, `key`, `project_key`,
    `created_ms`, `updated_ms`: epoch milliseconds), with its parameters: what `compile_query` tests, for a site
    kept on disk, whose index on `updated_ms` then answers a watermark query. Validate with `compile_query` first."""
    conditions: list[str] = []
    params: list[object] = []
    for clause in query.clauses:
        field, operator, values = clause.field, clause.operator, clause.values
        if field in _DATE_FIELDS:
            instant = parse_date_literal(values[0], field, context.zone, context.now)
            floor_ms, sub_ms = divmod((instant - _EPOCH) // timedelta(microseconds=1), 1000)
            ceil_ms = floor_ms + (sub_ms > 0)
            column = f"{field}_ms"
            if operator in ("=", "!="):
                if sub_ms:
                    conditions.append("0" if operator == "=" else "1")
                    continue
                conditions.append(f"{column} {operator} ?")
                params.append(floor_ms)
            else:
                conditions.append(f"{column} {operator} ?")
                params.append(ceil_ms if operator in (">=", "<") else floor_ms)
            continue
        if field == "project":
            wanted: list[object] = sorted({context.project_keys_by_alias[value.lower()] for value in values})
            column = "project_key"
        elif field == "key":
            wanted = sorted({value.upper() for value in values})
            column = "key"
        else:
            wanted = sorted({int(value) for value in values})
            column = "id"
        negate = "not " if operator in ("!=", "not in") else ""
        conditions.append(f"{column} {negate}in ({', '.join('?' * len(wanted))})")
        params.extend(wanted)
    return " and ".join(conditions) or "1", params


def order_issues(issues: Iterable[JiraIssue], order: tuple[OrderTerm, ...]) -> list[JiraIssue]:
    """Sort as the query asks; ties (and a query with no ORDER BY) fall back to ascending id."""
    ordered = sorted(issues, key=lambda issue: int(issue.id))
    for term in reversed(order):
        ordered.sort(key=_sort_key(term.field), reverse=term.descending)
    return ordered


def _sort_key(field: str) -> Callable[[JiraIssue], object]:
    if field == "created":
        return lambda issue: issue.created_at
    if field == "updated":
        return lambda issue: issue.updated_at
    if field == "id":
        return lambda issue: int(issue.id)
    return lambda issue: (issue.project_key, int(issue.key.rsplit("-", 1)[1]))
