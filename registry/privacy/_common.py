"""Helpers shared by the privacy modules (requests, the DPO's records)."""

from __future__ import annotations

import json
from typing import Any


def _decoded(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return dict(json.loads(value or "{}"))
    return dict(value or {})
