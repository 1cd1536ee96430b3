"""Ambiti, their comuni, the taxonomy and users: the reference data of a tenant."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from registry.access import Role
from registry.ambiti import service as ambiti
from registry.ambiti.schemas import AmbitoOut, AmbitoPatch, ComuneIn
from registry.api.params import Actor
from registry.taxonomy import service as taxonomy
from registry.users import service as users
from registry.users.schemas import UserCreate, UserOut


class TermOut(msgspec.Struct):
    code: str
    parent_code: str | None
    name: str
    description: str


class UserPatch(msgspec.Struct, forbid_unknown_fields=True):
    active: bool


class AmbitoController(Controller):
    path = "/api/ambiti"
    tags = ["ambiti"]

    @get("/", summary="The caller's ambito with its comuni")
    async def list_ambiti(self, actor: Actor) -> list[AmbitoOut]:
        return await ambiti.list_ambiti(actor)

    @get("/{code:str}")
    async def get_ambito(self, actor: Actor, code: FromPath[str]) -> AmbitoOut:
        return await ambiti.get_ambito(actor, code)

    @patch("/{code:str}")
    async def update_ambito(
        self, actor: Actor, code: FromPath[str], data: JSONBody[AmbitoPatch]
    ) -> AmbitoOut:
        return await ambiti.update_ambito(actor, code, data)

    @post("/{code:str}/comuni")
    async def add_comune(
        self, actor: Actor, code: FromPath[str], data: JSONBody[ComuneIn]
    ) -> AmbitoOut:
        return await ambiti.add_comune(actor, code, data)


class TaxonomyController(Controller):
    path = "/api/taxonomy"
    tags = ["taxonomy"]

    @get("/", summary="Resource categories (parent/child terms)")
    async def list_terms(
        self,
        actor: Actor,
        parent: Annotated[str | None, QueryParameter(max_length=64)] = None,
    ) -> list[TermOut]:
        return [TermOut(**row) for row in await taxonomy.list_terms(parent)]

    @get("/{code:str}")
    async def get_term(self, actor: Actor, code: FromPath[str]) -> TermOut:
        return TermOut(**await taxonomy.get_term(code))


class UserController(Controller):
    path = "/api/users"
    tags = ["users"]

    @get("/me")
    async def me(self, actor: Actor) -> UserOut:
        return await users.get_user(actor.ambito_id, actor.user_id)

    @get("/")
    async def list_users(self, actor: Actor) -> list[UserOut]:
        return await users.list_users(actor)

    @post("/")
    async def create_user(self, actor: Actor, data: JSONBody[UserCreate]) -> UserOut:
        actor.require(Role.UDP_ADMIN)
        return await users.create_user(actor.ambito_id, data)

    @patch("/{user_id:uuid}", summary="Activate or deactivate a user")
    async def update_user(
        self, actor: Actor, user_id: FromPath[uuid.UUID], data: JSONBody[UserPatch]
    ) -> UserOut:
        return await users.set_active(actor, user_id, data.active)
