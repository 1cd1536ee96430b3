"""Ambiti, their comuni, the taxonomy and users: the reference data of a tenant."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from litestar import Controller, Response, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from registry.access import Role
from registry.ambiti import service as ambiti
from registry.ambiti.schemas import AmbitoOut, AmbitoPatch, ComuneIn
from registry.api.params import Actor, AppSettings, CodeQuery, PathText
from registry.taxonomy import service as taxonomy
from registry.users import service as users
from registry.users.schemas import LoginFailureOut, ResetLinkOut, UserCreate, UserOut, UserPatch


class TermOut(msgspec.Struct):
    code: str
    parent_code: str | None
    name: str
    description: str


class AmbitoController(Controller):
    path = "/api/ambiti"
    tags = ["ambiti"]

    @get("/", summary="The caller's ambito with its comuni")
    async def list_ambiti(self, actor: Actor) -> list[AmbitoOut]:
        return await ambiti.list_ambiti(actor)

    @get("/{code:str}")
    async def get_ambito(self, actor: Actor, code: PathText) -> AmbitoOut:
        return await ambiti.get_ambito(actor, code)

    @patch("/{code:str}")
    async def update_ambito(
        self, actor: Actor, code: PathText, data: JSONBody[AmbitoPatch]
    ) -> AmbitoOut:
        return await ambiti.update_ambito(actor, code, data)

    @post("/{code:str}/comuni")
    async def add_comune(self, actor: Actor, code: PathText, data: JSONBody[ComuneIn]) -> AmbitoOut:
        return await ambiti.add_comune(actor, code, data)


class TaxonomyController(Controller):
    path = "/api/taxonomy"
    tags = ["taxonomy"]

    @get("/", summary="Resource categories (parent/child terms)")
    async def list_terms(
        self,
        actor: Actor,
        parent: CodeQuery = None,
    ) -> list[TermOut]:
        return [TermOut(**row) for row in await taxonomy.list_terms(parent)]

    @get("/{code:str}")
    async def get_term(self, actor: Actor, code: PathText) -> TermOut:
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

    @patch("/{user_id:uuid}", summary="Activate, deactivate or change the role of a user")
    async def update_user(
        self, actor: Actor, user_id: FromPath[uuid.UUID], data: JSONBody[UserPatch]
    ) -> UserOut:
        return await users.update_user(actor, user_id, data)

    @post(
        "/{user_id:uuid}/password-reset",
        status_code=201,
        summary="A one-time password reset link for the UdP to hand over (valid 1 hour)",
    )
    async def password_reset_link(
        self, actor: Actor, user_id: FromPath[uuid.UUID], settings: AppSettings
    ) -> Response[ResetLinkOut]:
        link = await users.issue_reset_link(actor, user_id, settings)
        # The link is a credential: no cache may keep it.
        return Response(link, status_code=201, headers={"Cache-Control": "no-store"})

    @get("/login-failures", summary="Recent failed logins of the ambito's users, newest first")
    async def login_failures(
        self, actor: Actor, limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100
    ) -> list[LoginFailureOut]:
        return await users.login_failures(actor, limit)
