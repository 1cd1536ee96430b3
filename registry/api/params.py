"""Parameter types shared by the controllers (Litestar's explicit-style markers)."""

from __future__ import annotations

from typing import Annotated

from litestar.di import NamedDependency
from litestar.params import QueryParameter

from registry.access import Principal
from registry.config import Settings

Actor = NamedDependency[Principal]
AppSettings = NamedDependency[Settings]
Limit = Annotated[int, QueryParameter(ge=1, le=200, description="page size")]
Offset = Annotated[int, QueryParameter(ge=0)]
IstatQuery = Annotated[str | None, QueryParameter(pattern=r"^\d{6}$", description="ISTAT code")]
TextQuery = Annotated[str | None, QueryParameter(max_length=100)]
