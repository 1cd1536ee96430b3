from __future__ import annotations

import uuid
from typing import Annotated

import msgspec

from registry.common import IstatCode


class ComuneOut(msgspec.Struct):
    istat_code: str
    name: str
    population: int | None


class ComuneIn(msgspec.Struct, forbid_unknown_fields=True):
    istat_code: IstatCode
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    population: Annotated[int, msgspec.Meta(ge=0)] | None = None


class AmbitoOut(msgspec.Struct):
    id: uuid.UUID
    code: str
    name: str
    region: str
    comuni: list[ComuneOut]


class AmbitoPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
