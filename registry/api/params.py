"""Parameter types shared by the controllers (Litestar's explicit-style markers).

Every integer parameter is bounded and every free-text one refuses control characters
(registry/text.py): tests/test_bad_input.py walks the routes to keep it so.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar.di import NamedDependency
from litestar.params import ParameterKwarg, PathParameter, QueryParameter

from registry.access import Principal
from registry.common import INT32_MAX
from registry.config import Settings
from registry.text import ISTAT_CODE_PATTERN, ONE_LINE_PATTERN

Actor = NamedDependency[Principal]
AppSettings = NamedDependency[Settings]


def text_query(max_length: int = 100, **kwargs: Any) -> ParameterKwarg:
    """A free-text query parameter: one line, no control character (NUL was a 500)."""
    return QueryParameter(max_length=max_length, pattern=ONE_LINE_PATTERN, **kwargs)


def text_path(max_length: int = 200, min_length: int = 1, **kwargs: Any) -> ParameterKwarg:
    """A text path segment (codes, external ids, tokens, file names)."""
    return PathParameter(
        min_length=min_length, max_length=max_length, pattern=ONE_LINE_PATTERN, **kwargs
    )


Limit = Annotated[int, QueryParameter(ge=1, le=200, description="page size")]
Offset = Annotated[int, QueryParameter(ge=0, le=INT32_MAX)]
PageNumber = Annotated[int, QueryParameter(ge=1, le=INT32_MAX, description="page number, from 1")]
IstatQuery = Annotated[
    str | None, QueryParameter(pattern=ISTAT_CODE_PATTERN, description="ISTAT code")
]
TextQuery = Annotated[str | None, text_query()]
# A code or an external identifier given as a filter (taxonomy codes, HSDS ids).
CodeQuery = Annotated[str | None, text_query(64)]
PathText = Annotated[str, text_path()]
PathToken = Annotated[str, text_path(4000)]
