"""How numbers and dates read on the report: money without decimals, ratios to two places, dates in ISO."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

MISSING = "\u2013"  # an en dash: what an empty figure shows


def money(value: Decimal | float | None) -> str:
    return MISSING if value is None else f"{value:,.0f}"


def hours(value: Decimal | float | None) -> str:
    return MISSING if value is None else f"{value:,.1f}"


def ratio(value: Decimal | float | None) -> str:
    return MISSING if value is None else f"{value:.2f}"


def percent(value: Decimal | float | None) -> str:
    return MISSING if value is None else f"{value:.0%}"


def day(value: date | datetime | None) -> str:
    """A date as YYYY-MM-DD; an instant as its UTC calendar date."""
    if value is None:
        return MISSING
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.utcoffset() is not None else value).date().isoformat()
    return value.isoformat()


def instant(value: datetime | None) -> str:
    """An instant as YYYY-MM-DD HH:MM UTC."""
    if value is None:
        return MISSING
    return (value.astimezone(UTC) if value.utcoffset() is not None else value).strftime("%Y-%m-%d %H:%M UTC")
