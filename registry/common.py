"""Small pieces every domain uses: pagination, partial updates, shared field types."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

import msgspec

from registry.text import END, ISTAT_CODE_PATTERN

T = TypeVar("T")

Slug = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*" + END, max_length=32)]
LanguageCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2}" + END, description="ISO 639-1")]
IstatCode = Annotated[
    str, msgspec.Meta(pattern=ISTAT_CODE_PATTERN, description="6-digit ISTAT code")
]
Limit = Annotated[int, msgspec.Meta(ge=1, le=200)]

# Bounded integers: an unbounded one reached PostgreSQL past its column (2^63 is a 500 from
# asyncpg) or SQLite as a misleading conflict. INT32_MAX is the largest value of an Integer
# column; every integer a client sends is bounded, with these or with a tighter range.
INT32_MAX = 2**31 - 1
NonNegativeInt = Annotated[int, msgspec.Meta(ge=0, le=INT32_MAX)]
PositiveInt = Annotated[int, msgspec.Meta(ge=1, le=INT32_MAX)]
Offset = NonNegativeInt


# An instant a client sends: RFC 3339 with its UTC offset. Without one, 10:00 in Italy is
# 09:00 or 08:00 UTC by the season, and comparing it with an instant that has one was a 500.
Moment = Annotated[
    datetime,
    msgspec.Meta(
        tz=True,
        description="RFC 3339 date-time with its UTC offset",
        examples=["2026-03-01T10:00:00+01:00"],
    ),
]


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


async def page_total(found: int, limit: int, offset: int, count: Any) -> int:
    """Total rows of a paged query; a short page already tells it, saving the COUNT query."""
    if found < limit and (found or offset == 0):
        return offset + found
    return await count


def set_fields(patch: msgspec.Struct) -> dict[str, Any]:
    """The fields a PATCH body actually carried (UNSET ones are left alone)."""
    return {
        name: value
        for name in patch.__struct_fields__
        if (value := getattr(patch, name)) is not msgspec.UNSET
    }


def now() -> datetime:
    return datetime.now(UTC)
