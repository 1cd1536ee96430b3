"""The public reconfirmation link: JSON under /api/reconfirm, a small page at /reconfirm.

No login: the signed single-use token in the path is the authorisation. GET never changes
anything (see registry/freshness/links.py for why the confirmation is a POST).
"""

from __future__ import annotations

from html import escape
from typing import Annotated, Any

import msgspec
from litestar import Controller, MediaType, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, JSONBody

from registry.api.params import AppSettings, text_path
from registry.errors import DomainError, InvalidInput
from registry.freshness import links
from registry.freshness.schemas import ReconfirmIn, ReconfirmResult, ReconfirmView

Token = Annotated[str, text_path(2000, min_length=20, description="the link's token")]

_PUBLIC = {"public": True}


class ReconfirmController(Controller):
    path = "/api/reconfirm"
    tags = ["reconfirmation"]
    opt = _PUBLIC
    security = []

    @get("/{token:str}", summary="What a reconfirmation link will confirm (changes nothing)")
    async def inspect(self, token: Token, settings: AppSettings) -> ReconfirmView:
        return await links.inspect(settings, token)

    @post("/{token:str}", status_code=200, summary="Confirm (or pause) with a single-use link")
    async def redeem(
        self, token: Token, settings: AppSettings, data: JSONBody[ReconfirmIn]
    ) -> ReconfirmResult:
        return await links.redeem(settings, token, data)


_STYLE = """
body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem} .box{border:1px solid #ccc;border-radius:8px;padding:1rem;margin:1rem 0}
button{font-size:1rem;padding:.6rem 1rem;margin:.3rem .3rem .3rem 0;border-radius:6px;
 border:1px solid #888}
button.primary{background:#1b6e3a;color:#fff;border-color:#1b6e3a} .err{color:#a00}
label{display:block;margin:.5rem 0} input{font-size:1rem;padding:.3rem}
"""


def _page(title: str, body: str, status: int = 200) -> Response[str]:
    html = (
        '<!doctype html><html lang="it"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return Response(
        html,
        status_code=status,
        media_type=MediaType.HTML,
        # The token is in the URL: keep it out of caches and of other sites' Referer logs.
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def _error(error: DomainError) -> Response[str]:
    return _page(
        "Link non utilizzabile", f'<p class="err">{escape(error.message)}</p>', error.status_code
    )


def _view_html(token: str, view: ReconfirmView) -> str:
    windows = "".join(
        f"<li>{escape(w.rrule)} {w.start_time}–{w.end_time}"
        f"{' (terminata)' if w.expired else ''}</li>"
        for w in view.windows
    )
    until = view.valid_until.strftime("%d/%m/%Y") if view.valid_until else "nessuna scadenza"
    return (
        f'<div class="box"><p><strong>{escape(view.title)}</strong><br>'
        f"{escape(view.holder_name)}</p>"
        f"<p>Quantità: {view.capacity} ({escape(view.unit)}) · valida fino a: {until}<br>"
        f"Ultima conferma: {view.confirmed_at:%d/%m/%Y}</p>"
        + (f"<ul>{windows}</ul>" if windows else "<p>Nessuna fascia oraria indicata.</p>")
        + "</div>"
        f'<form method="post" action="/reconfirm/{escape(token)}">'
        f'<label>Quantità disponibile <input name="capacity" type="number" min="0" max="100000" '
        f'value="{view.capacity}"></label>'
        f'<label>Valida fino a (facoltativo) <input name="valid_until" type="date" '
        f'value="{view.valid_until.isoformat() if view.valid_until else ""}"></label>'
        '<button class="primary" name="action" value="confirm">Sì, è ancora disponibile</button>'
        '<button name="action" value="pause">Non è disponibile per ora</button>'
        "</form><p><small>Il link vale una volta sola.</small></p>"
    )


def _form_input(form: dict[str, Any], view: ReconfirmView) -> ReconfirmIn:
    values: dict[str, Any] = {"action": form.get("action") or "confirm"}
    capacity = str(form.get("capacity", "")).strip()
    if capacity and capacity != str(view.capacity):
        values["capacity"] = capacity
    until = str(form.get("valid_until", "")).strip()
    current = view.valid_until.isoformat() if view.valid_until else ""
    if until != current:
        values["valid_until"] = until or None
    try:
        return msgspec.convert(values, ReconfirmIn, strict=False)
    except msgspec.ValidationError as error:
        field = str(error).rpartition("$.")[2].rstrip("`") if "$." in str(error) else None
        raise InvalidInput(f"Valore non valido: {error}", field=field) from error


class ReconfirmPage(Controller):
    """The page the link in the reminder opens, for a person with a browser."""

    path = "/reconfirm"
    include_in_schema = False
    opt = _PUBLIC

    @get("/{token:str}")
    async def show(self, token: Token, settings: AppSettings) -> Response[str]:
        try:
            view = await links.inspect(settings, token)
        except DomainError as error:
            return _error(error)
        return _page("Confermi la disponibilità?", _view_html(token, view))

    @post("/{token:str}", status_code=200)
    async def confirm(
        self,
        token: Token,
        settings: AppSettings,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response[str]:
        try:
            view = await links.inspect(settings, token)
            result = await links.redeem(settings, token, _form_input(data, view))
        except DomainError as error:
            return _error(error)
        until = f" fino al {result.valid_until:%d/%m/%Y}" if result.valid_until else ""
        return _page(
            "Grazie" if result.status == "active" else "Fatto",
            f"<p>{escape(result.message)}</p><p>«{escape(result.title)}»: quantità "
            f"{result.capacity}{until}.</p>",
        )
