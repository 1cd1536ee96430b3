"""Versioned documents (the minutes and the summary document): a draft is edited in place,
an approved version is frozen and a later edit opens the next version."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from registry.access import Principal
from registry.coprogramming.access import content_hash
from registry.coprogramming.schemas import DocumentOut
from registry.db import unit_of_work
from registry.errors import Conflict
from registry.vocabularies import DocumentStatus


def _json_list(value: Any) -> list[Any]:
    # Piccolo hands JSON columns back as text unless the query asked to load them.
    return json.loads(value) if isinstance(value, str) else list(value or [])


def _document_out(row: dict[str, Any], procedure_id: uuid.UUID) -> DocumentOut:
    return DocumentOut(
        id=row["id"],
        procedure_id=procedure_id,
        session_id=row.get("session"),
        version=row["version"],
        status=DocumentStatus(row["status"]),
        content=row["content"],
        content_hash=row["content_hash"],
        approved_at=row["approved_at"],
        approved_by=row["approved_by"],
        sources=[uuid.UUID(str(s)) for s in _json_list(row.get("sources"))],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def _write_version(
    table: Any,
    parent: Any,
    parent_id: uuid.UUID,
    actor: Principal,
    content: str,
    at: datetime,
    **extra: Any,
) -> dict[str, Any]:
    """Edit the latest draft, or open version n+1 as a draft when n is approved: an approved
    version is never written again."""
    async with unit_of_work():
        latest = (
            await table.select()
            .where(parent == parent_id)
            .order_by(table.version, ascending=False)
            .first()
        )
        if latest is not None and latest["status"] == DocumentStatus.DRAFT:
            await table.update(
                {
                    table.content: content,
                    table.updated_at: at,
                    **{getattr(table, k): v for k, v in extra.items()},
                }
            ).where(table.id == latest["id"])
            row_id = latest["id"]
        else:
            row = table(
                ambito=actor.ambito_id,
                version=(latest["version"] + 1) if latest else 1,
                status=DocumentStatus.DRAFT.value,
                content=content,
                created_at=at,
                updated_at=at,
                **{parent._meta.name: parent_id},
                **extra,
            )
            await row.save()
            row_id = row.id
    return await table.select().where(table.id == row_id).first()


async def _approve(
    table: Any, parent: Any, row: dict[str, Any], actor: Principal, at: datetime
) -> None:
    async with unit_of_work():
        latest = (
            await table.select(table.id, table.status)
            .where(parent == row[parent._meta.name])
            .order_by(table.version, ascending=False)
            .first()
        )
        if row["status"] == DocumentStatus.APPROVED:
            raise Conflict(f"version {row['version']} is already approved (it is frozen)")
        if latest["id"] != row["id"]:
            raise Conflict("only the latest version can be approved")
        await table.update(
            {
                table.status: DocumentStatus.APPROVED.value,
                table.content_hash: content_hash(row["content"]),
                table.approved_at: at,
                table.approved_by: actor.user_id,
                table.updated_at: at,
            }
        ).where((table.id == row["id"]) & (table.status == DocumentStatus.DRAFT.value))
