"""Writing a planned HSDS import: holders, resources, windows, foreign addresses and the
links to the source's identifiers."""

from __future__ import annotations

import uuid
from datetime import datetime

from registry.common import now
from registry.db import unit_of_work
from registry.holders.tables import Holder
from registry.interop.hsds_plan import _CHUNK, OrgPlan, _ImporterBase
from registry.interop.tables import ExternalLink, ForeignAddress
from registry.resources.tables import AvailabilityWindow, Resource


class _Writing(_ImporterBase):
    # -- writing

    async def apply(self) -> None:
        moment = now()
        ambito_id = self.existing.ambito_id
        new_holders = [p for p in self.orgs.values() if p.item.action == "create"]
        updated_holders = [p for p in self.orgs.values() if p.item.action == "update"]
        new_resources = [p for p in self.services if p.item.action == "create"]
        updated_resources = [p for p in self.services if p.item.action == "update"]
        total = (
            len(new_holders) + len(updated_holders) + len(new_resources) + len(updated_resources)
        )
        done = 0

        def step(count: int = 1) -> None:
            nonlocal done
            done += count
            self.progress("writing", done, total)

        links: list[tuple[str, str, uuid.UUID]] = []
        async with unit_of_work():
            for lo in range(0, len(new_holders), _CHUNK):
                chunk = new_holders[lo : lo + _CHUNK]
                await Holder.insert(
                    *[
                        Holder(
                            id=p.holder_id,
                            **p.values,
                            ambito=ambito_id,
                            created_at=moment,
                            updated_at=moment,
                        )
                        for p in chunk
                    ]
                )
                step(len(chunk))
            for p in updated_holders:
                await Holder.update({**p.values, "updated_at": moment}).where(
                    Holder.id == p.holder_id
                )
                step()
            for p in self.orgs.values():
                if p.item.action in ("create", "update", "unchanged") and p.holder_id:
                    links.append(("organization", p.item.external_id, p.holder_id))
                    if p.address_given:
                        await self._write_foreign(p, moment)
            for lo in range(0, len(new_resources), _CHUNK):
                chunk = new_resources[lo : lo + _CHUNK]
                rows = []
                for p in chunk:
                    values = dict(p.values)
                    confirmed = values.pop("confirmed_at", None) or moment
                    rows.append(
                        Resource(
                            id=p.resource_id,
                            **values,
                            ambito=ambito_id,
                            holder=p.org.holder_id,  # type: ignore[union-attr]
                            created_at=moment,
                            updated_at=moment,
                            confirmed_at=confirmed,
                        )
                    )
                await Resource.insert(*rows)
                step(len(chunk))
            for p in updated_resources:
                if p.values:
                    await Resource.update({**p.values, "updated_at": moment}).where(
                        Resource.id == p.resource_id
                    )
                step()
            new_windows = []
            for p in self.services:
                if p.item.action not in ("create", "update", "unchanged") or p.resource_id is None:
                    continue
                links.append(("service", p.item.external_id, p.resource_id))
                if p.delete_windows:
                    await AvailabilityWindow.delete().where(
                        AvailabilityWindow.id.is_in(p.delete_windows)
                    )
                for w in p.windows or []:
                    if w.action == "create":
                        w.window_id = uuid.uuid4()
                        new_windows.append(
                            AvailabilityWindow(
                                id=w.window_id,
                                **w.values,
                                resource=p.resource_id,
                                created_at=moment,
                                updated_at=moment,
                            )
                        )
                    elif w.action == "update":
                        await AvailabilityWindow.update({**w.values, "updated_at": moment}).where(
                            AvailabilityWindow.id == w.window_id
                        )
                    links.append(("schedule", w.external_id, w.window_id))  # type: ignore[arg-type]
            for lo in range(0, len(new_windows), _CHUNK):
                await AvailabilityWindow.insert(*new_windows[lo : lo + _CHUNK])
            await self._write_links(links, moment)

    async def _write_foreign(self, plan: OrgPlan, moment: datetime) -> None:
        """The holder's foreign address parts: replaced by what the data says now."""
        await ForeignAddress.delete().where(ForeignAddress.holder == plan.holder_id)
        if plan.foreign:
            await ForeignAddress(holder=plan.holder_id, **plan.foreign, updated_at=moment).save()

    async def _write_links(self, links: list[tuple[str, str, uuid.UUID]], moment: datetime) -> None:
        fresh = []
        for entity, external_id, local_id in links:
            if not external_id or external_id == str(local_id):
                continue  # our own id: found again without a link
            current = self.existing.links.get((entity, external_id))
            if current is None:
                fresh.append(
                    ExternalLink(
                        ambito=self.existing.ambito_id,
                        entity=entity,
                        external_id=external_id[:200],
                        local_id=local_id,
                        source=self.source[:300],
                        created_at=moment,
                        updated_at=moment,
                    )
                )
            elif current["local_id"] != local_id:
                await ExternalLink.update(
                    {ExternalLink.local_id: local_id, ExternalLink.updated_at: moment}
                ).where(ExternalLink.id == current["id"])
        for lo in range(0, len(fresh), _CHUNK):
            await ExternalLink.insert(*fresh[lo : lo + _CHUNK])
