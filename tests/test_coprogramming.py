"""A co-programming procedure modelled on seed 002 (Pavia), through the API: the notice, the
organisations applying (one registered on the way), five sessions, tables with spokespersons,
attendance, the four questions, minutes approved and then versioned, the summary document
from approved minutes only, objectives linked to proposals and sessions, the public page.

Dates derive from today; counts and hashes are computed here from their definitions."""

from __future__ import annotations

import hashlib
import io
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

from registry.access import Role
from registry.common import now
from registry.italian import ROME
from registry.users.tables import User
from tests.conftest import Tenant, token_for

U, S, H, V = Role.UDP_ADMIN, Role.SOCIAL_WORKER, Role.HOLDER_MANAGER, Role.VOLUNTEER
P = "/api/coprogramming"
PERSON, CONTACT = "Maria Rossi", "maria.rossi@example.org"


def ok(response, status: int = 200):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    return response.json()


def bad(response, field: str, status: int = 400) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert field in response.text, response.text


async def test_procedure_modelled_on_seed_002(client, tenant: Tenant, other_tenant: Tenant) -> None:
    udp, hm, sw = tenant.headers(U), tenant.headers(H), tenant.headers(S)
    today = now().astimezone(ROME).date()

    # --- the notice: a draft is the UdP's alone until it is published and opened
    procedure = ok(
        await client.post(
            f"{P}/procedures",
            headers=udp,
            json={
                "title": "Co-programmazione del Piano Sociale di Zona",
                "notice_text": "Avviso pubblico di co-programmazione ai sensi dell'art. 55 CTS",
                "piano_period": "2025-2027",
                "notice_url": "https://www.example.it/avviso-coprogrammazione",
            },
        ),
        201,
    )
    pid = procedure["id"]
    assert procedure["status"] == "draft"
    assert (await client.get(f"{P}/procedures/{pid}", headers=hm)).status_code == 404
    assert ok(await client.get(f"{P}/procedures", headers=sw)) == []
    assert (await client.get(f"/api/public/coprogramming/procedures/{pid}")).status_code == 404
    bad(await client.patch(f"{P}/procedures/{pid}", headers=udp, json={"status": "open"}), "status")
    bad(
        await client.patch(
            f"{P}/procedures/{pid}",
            headers=udp,
            json={
                "notice_published_on": today.isoformat(),
                "applications_close_on": (today - timedelta(days=1)).isoformat(),
            },
        ),
        "applications_close_on",
    )
    ok(
        await client.patch(
            f"{P}/procedures/{pid}",
            headers=udp,
            json={
                "notice_published_on": today.isoformat(),
                "applications_close_on": (today + timedelta(days=20)).isoformat(),
                "status": "open",
            },
        )
    )

    # --- applications: the manager for its holder, the UdP enrols one and registers one
    mine = ok(
        await client.post(
            f"{P}/procedures/{pid}/applications",
            headers=hm,
            json={
                "holder_id": str(tenant.holder_id),
                "participants": [
                    {"name": PERSON, "role": "legal_representative", "contact": CONTACT},
                    {"name": "Luca Verdi", "role": "volunteer"},
                ],
            },
        ),
        201,
    )
    assert mine["status"] == "submitted"
    assert mine["people_by_role"] == {"legal_representative": 1, "volunteer": 1}
    bad(
        await client.post(
            f"{P}/procedures/{pid}/applications",
            headers=hm,
            json={"holder_id": str(tenant.holder_id)},
        ),
        "already applied",
        409,
    )
    beta = ok(
        await client.post(
            f"{P}/procedures/{pid}/applications",
            headers=udp,
            json={"holder_id": str(tenant.other_holder_id), "participants": [{"name": "Ada"}]},
        ),
        201,
    )
    assert beta["status"] == "admitted"  # the UdP enrolling an organisation admits it
    new_holder = {"kind": "social_cooperative", "sector": "third_sector", "name": "Coop Gamma"}
    bad(
        await client.post(
            f"{P}/procedures/{pid}/applications",
            headers=udp,
            json={"new_holder": {**new_holder, "codice_fiscale": "XYZ"}},
        ),
        "codice_fiscale",
    )
    gamma = ok(
        await client.post(
            f"{P}/procedures/{pid}/applications",
            headers=udp,
            json={
                "new_holder": {**new_holder, "runts_number": "RUNTS-12345"},
                "participants": [{"name": "Gino", "role": "operator"}] * 3,
            },
        ),
        201,
    )
    assert gamma["runts_number"] == "RUNTS-12345" and gamma["holder_name"] == "Coop Gamma"
    # The manager sees its own application only, with its people; others none at all.
    listed = ok(await client.get(f"{P}/procedures/{pid}/applications", headers=hm))
    assert [a["id"] for a in listed] == [mine["id"]]
    assert (await client.get(f"{P}/procedures/{pid}/applications", headers=sw)).status_code == 403
    bad(
        await client.patch(
            f"{P}/applications/{mine['id']}", headers=hm, json={"status": "admitted"}
        ),
        "withdraw",
        403,
    )
    ok(
        await client.patch(
            f"{P}/applications/{mine['id']}", headers=udp, json={"status": "admitted"}
        )
    )

    async def told(event_type: str) -> list[dict]:
        page = ok(await client.get("/api/notifications/", headers=hm))
        return [n for n in page["items"] if n["event_type"] == event_type]

    [admitted] = await told("coprogramming.application_decided")
    title = "Domanda accolta: «Co-programmazione del Piano Sociale di Zona»"
    assert (admitted["title"], admitted["link"]) == (title, f"#/coprogrammazione/{pid}")
    counted = ok(await client.get(f"{P}/procedures/{pid}", headers=sw))
    assert (counted["organisations"], counted["people"]) == (3, 2 + 1 + 3)

    # --- five sessions: introductory, three thematic, concluding
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    themes = ["", "Anziani e domiciliarità", "Famiglie e minori", "Povertà e inclusione", ""]
    kinds = ["introductory", "thematic", "thematic", "thematic", "concluding"]
    sessions = [
        ok(
            await client.post(
                f"{P}/procedures/{pid}/sessions",
                headers=udp,
                json={
                    "number": n,
                    "kind": kinds[n - 1],
                    "title": f"Sessione {n}",
                    "theme": themes[n - 1],
                    "starts_at": (start + timedelta(weeks=n)).isoformat(),
                    "place": "Sala consiliare",
                },
            ),
            201,
        )
        for n in range(1, 6)
    ]
    bad(
        await client.post(
            f"{P}/procedures/{pid}/sessions",
            headers=udp,
            json={
                "number": 2,
                "kind": "thematic",
                "title": "Doppia",
                "starts_at": start.isoformat(),
            },
        ),
        "number 2",
        409,
    )
    bad(
        await client.post(
            f"{P}/procedures/{pid}/sessions",
            headers=udp,
            json={
                "number": 6,
                "kind": "thematic",
                "title": "X",
                "starts_at": "2027-01-10T10:00:00",
            },
        ),
        "starts_at",
    )
    s2, s3, s5 = sessions[1]["id"], sessions[2]["id"], sessions[4]["id"]

    # --- tables of the thematic session 2, with their spokespersons
    maria = next(p["id"] for p in mine["participants"] if p["name"] == PERSON)
    bad(
        await client.post(
            f"{P}/sessions/{s2}/tables",
            headers=udp,
            json={"theme": "Domiciliarità", "spokesperson_id": str(uuid.uuid4())},
        ),
        "spokesperson_id",
    )
    t1 = ok(
        await client.post(
            f"{P}/sessions/{s2}/tables",
            headers=udp,
            json={"theme": "Domiciliarità", "spokesperson_id": maria},
        ),
        201,
    )
    t2 = ok(
        await client.post(f"{P}/sessions/{s2}/tables", headers=udp, json={"theme": "Solitudine"}),
        201,
    )
    t3 = ok(
        await client.post(f"{P}/sessions/{s3}/tables", headers=udp, json={"theme": "Nidi"}), 201
    )

    # --- attendance: one row per organisation and session (a second PUT corrects it)
    def attend(app: dict, table: dict | None, people: int) -> dict:
        return {
            "application_id": app["id"],
            "table_id": table["id"] if table else None,
            "people": people,
        }

    ok(await client.put(f"{P}/sessions/{s2}/attendance", headers=udp, json=attend(mine, t1, 1)))
    ok(await client.put(f"{P}/sessions/{s2}/attendance", headers=udp, json=attend(mine, t1, 2)))
    ok(await client.put(f"{P}/sessions/{s2}/attendance", headers=udp, json=attend(beta, t2, 1)))
    ok(await client.put(f"{P}/sessions/{s2}/attendance", headers=udp, json=attend(gamma, t1, 3)))
    bad(
        await client.put(f"{P}/sessions/{s2}/attendance", headers=udp, json=attend(mine, t3, 1)),
        "table_id",
    )
    bad(
        await client.put(
            f"{P}/sessions/{s2}/attendance", headers=udp, json={**attend(mine, t1, 0)}
        ),
        "people",
    )
    session_2 = ok(await client.get(f"{P}/sessions/{s2}", headers=udp))
    assert (session_2["organisations"], session_2["people"]) == (3, 2 + 1 + 3)
    by_theme = {t["theme"]: t for t in session_2["tables"]}
    assert (by_theme["Domiciliarità"]["organisations"], by_theme["Domiciliarità"]["people"]) == (
        2,
        5,
    )
    assert by_theme["Domiciliarità"]["spokesperson_name"] == PERSON
    # The organisation edits its people: whoever stays keeps their seat as spokesperson.
    people = [
        {"name": PERSON, "role": "delegate", "contact": CONTACT},
        {"name": "Sara Neri", "role": "operator"},
    ]
    edited = ok(
        await client.patch(
            f"{P}/applications/{mine['id']}", headers=hm, json={"participants": people}
        )
    )
    assert edited["people_by_role"] == {"delegate": 1, "operator": 1}
    assert maria in [p["id"] for p in edited["participants"]]
    tables = ok(await client.get(f"{P}/sessions/{s2}", headers=udp))["tables"]
    assert [t["spokesperson_name"] for t in tables] == [PERSON, None]
    # Outside the UdP the spokesperson is the organisation, never the person.
    seen_by_sw = ok(await client.get(f"{P}/sessions/{s2}", headers=sw))
    assert PERSON not in str(seen_by_sw) and CONTACT not in str(seen_by_sw)

    # --- the four questions at table 1
    def answer(question: str, text: str, **extra: object) -> dict:
        return {"question": question, "text": text, **extra}

    url = f"{P}/tables/{t1['id']}/contributions"
    ok(
        await client.post(url, headers=hm, json=answer("problems", "Anziani soli nelle frazioni")),
        201,
    )
    resource = ok(
        await client.post(
            url,
            headers=hm,
            json=answer("existing_resources", "Trasporto", resource_id=str(tenant.resource_id)),
        ),
        201,
    )
    assert resource["resource_title"] == "Trasporto Associazione Alfa"
    assert resource["holder_name"] == "Associazione Alfa"  # the manager speaks for its holder
    bad(
        await client.post(
            url,
            headers=hm,
            json=answer("existing_resources", "Altrui", resource_id=str(other_tenant.resource_id)),
        ),
        "resource_id",
    )
    bad(
        await client.post(
            url, headers=hm, json=answer("proposals", "X", resource_id=str(tenant.resource_id))
        ),
        "resource_id",
    )
    bad(
        await client.post(url, headers=hm, json=answer("proposals", "X", category_code="zzz")),
        "category_code",
    )
    proposal = ok(
        await client.post(
            url,
            headers=hm,
            json=answer("proposals", "Un punto di ascolto", category_code="trasporto"),
        ),
        201,
    )
    ok(
        await client.post(
            url,
            headers=udp,
            json=answer(
                "network_contribution",
                "Volontari per l'accompagnamento",
                holder_id=str(tenant.other_holder_id),
            ),
        ),
        201,
    )
    problem_3 = ok(
        await client.post(
            f"{P}/tables/{t3['id']}/contributions", headers=udp, json=answer("problems", "Rette")
        ),
        201,
    )
    # The manager's holder is not at session 3: it does not speak at its tables.
    assert (
        await client.post(
            f"{P}/tables/{t3['id']}/contributions", headers=hm, json=answer("problems", "X")
        )
    ).status_code == 403
    proposals = ok(await client.get(f"{P}/procedures/{pid}/proposals", headers=hm))
    assert [p["id"] for p in proposals] == [proposal["id"]]
    # Beside the gap map: the proposals about one category.
    for code, expected in (("trasporto", [proposal["id"]]), ("pasti", [])):
        about = ok(
            await client.get(f"{P}/procedures/{pid}/proposals?category_code={code}", headers=udp)
        )
        assert [p["id"] for p in about] == expected

    # --- minutes: drafted from the tables, approved (frozen), edited as version 2
    draft = ok(await client.post(f"{P}/sessions/{s2}/minutes/draft", headers=udp), 201)
    content = draft["content"]
    assert draft["version"] == 1 and draft["status"] == "draft"
    for expected in (
        "## Tavolo 1: Domiciliarità",
        "## Tavolo 2: Solitudine",
        "### Problemi storici ed emergenti",
        "### Proposte concrete",
        "- Un punto di ascolto (Associazione Alfa)",
        "[risorsa del registro: Trasporto Associazione Alfa]",
        "- Volontari per l'accompagnamento (Associazione Beta)",
        "Portavoce del tavolo: una persona di Associazione Alfa.",
        "3 organizzazioni presenti, 6 persone in tutto.",
        "- Coop Gamma (3 persone)",
    ):
        assert expected in content, expected
    assert PERSON not in content and CONTACT not in content
    assert ok(await client.get(f"{P}/sessions/{s2}/minutes", headers=sw)) == []  # drafts: UdP
    approved = ok(await client.post(f"{P}/minutes/{draft['id']}/approve", headers=udp))
    assert approved["content_hash"] == hashlib.sha256(content.encode()).hexdigest()
    assert approved["approved_by"] == str(tenant.users[U])
    assert approved["status"] == "approved" and approved["approved_at"]
    bad(await client.post(f"{P}/minutes/{draft['id']}/approve", headers=udp), "frozen", 409)
    # The organisations present hear that the minutes are final (once).
    [final_minutes] = await told("coprogramming.minutes_approved")
    assert final_minutes["link"] == f"#/coprogrammazione/{pid}/sessioni/{s2}"
    assert final_minutes["title"] == "Verbale approvato: sessione 2 – Sessione 2"
    second = ok(
        await client.put(
            f"{P}/sessions/{s2}/minutes", headers=udp, json={"content": content + "Rettifica.\n"}
        )
    )
    assert (second["version"], second["status"]) == (2, "draft")
    first_again = ok(await client.get(f"{P}/minutes/{draft['id']}", headers=sw))
    assert first_again["content"] == content and first_again["status"] == "approved"
    assert [
        m["version"] for m in ok(await client.get(f"{P}/sessions/{s2}/minutes", headers=sw))
    ] == [1]
    redraft = ok(await client.post(f"{P}/sessions/{s2}/minutes/draft", headers=udp), 201)
    assert redraft["id"] == second["id"] and redraft["content"] == content  # the draft, again
    # Session 3 has minutes only as a draft: the summary leaves them out.
    ok(await client.post(f"{P}/sessions/{s3}/minutes/draft", headers=udp), 201)

    # --- objectives linked to a proposal and to the concluding session
    bad(
        await client.post(
            f"{P}/procedures/{pid}/objectives",
            headers=udp,
            json={"title": "X", "proposal_ids": [problem_3["id"]]},
        ),
        "proposal_ids",
    )
    objective = ok(
        await client.post(
            f"{P}/procedures/{pid}/objectives",
            headers=udp,
            json={
                "code": "OB1",
                "title": "Rafforzare la domiciliarità",
                "area": "anziani",
                "proposal_ids": [proposal["id"]],
                "session_ids": [s5],
            },
        ),
        201,
    )
    assert objective["proposal_ids"] == [proposal["id"]] and objective["session_ids"] == [s5]
    # Naming only the sessions leaves the proposals linked; a session named twice links once.
    patched = ok(
        await client.patch(
            f"{P}/objectives/{objective['id']}", headers=udp, json={"session_ids": [s5, s5]}
        )
    )
    assert (patched["proposal_ids"], patched["session_ids"]) == ([proposal["id"]], [s5])

    # --- the summary document: from the approved minutes only; it closes the procedure
    closing = {"status": "closed"}
    bad(await client.patch(f"{P}/procedures/{pid}", headers=udp, json=closing), "summary", 409)
    bad(
        await client.patch(f"{P}/procedures/{pid}", headers=udp, json={"status": "draft"}),
        "draft",
        409,
    )
    summary = ok(await client.post(f"{P}/procedures/{pid}/summary/draft", headers=udp), 201)
    assert summary["sources"] == [draft["id"]]
    assert "verbale versione 1" in summary["content"]
    assert "Rettifica." not in summary["content"] and "Rette" not in summary["content"]
    assert "- OB1 – Rafforzare la domiciliarità" in summary["content"]
    gathered = "\n## Proposte emerse\n\n- Un punto di ascolto (Associazione Alfa) – sessione 2, "
    assert gathered + "Tavolo 1: Domiciliarità\n\n## Sessione 2" in summary["content"]
    final = ok(await client.post(f"{P}/summary/{summary['id']}/approve", headers=udp))
    assert final["content_hash"] == hashlib.sha256(summary["content"].encode()).hexdigest()
    edited = ok(
        await client.put(f"{P}/procedures/{pid}/summary", headers=udp, json={"content": "Nota"})
    )
    assert (edited["version"], edited["sources"]) == (2, [draft["id"]])  # provenance kept
    again = ok(await client.post(f"{P}/procedures/{pid}/summary/draft", headers=udp), 201)
    assert (again["id"], again["content"]) == (edited["id"], summary["content"])
    assert again["sources"] == [draft["id"]]
    assert (
        ok(await client.patch(f"{P}/procedures/{pid}", headers=udp, json=closing))["status"]
        == "closed"
    )

    # --- what a social worker reads in one call: public parts only
    overview = ok(await client.get(f"{P}/procedures/{pid}/overview", headers=sw))
    assert overview["applications"] == [] and overview["contributions"] == []
    assert [m["version"] for m in overview["minutes"]] == [1]
    assert len(overview["sessions"]) == 5 and overview["summary"]["id"] == summary["id"]
    full = ok(await client.get(f"{P}/procedures/{pid}/overview", headers=udp))
    assert len(full["applications"]) == 3 and len(full["contributions"]) == 5
    assert sorted(m["version"] for m in full["minutes"]) == [1, 2]  # s3 v1 draft, s2 v2 draft
    # The manager: its own application and presence, the answers, approved minutes only.
    own = ok(await client.get(f"{P}/procedures/{pid}/overview", headers=hm))
    assert [a["id"] for a in own["applications"]] == [mine["id"]]
    assert [a["application_id"] for a in own["attendance"]] == [mine["id"]]
    assert len(own["contributions"]) == 5 and [m["version"] for m in own["minutes"]] == [1]
    assert "Ada" not in str(own) and "Gino" not in str(own)

    # --- the public page: no login, no person
    page = await client.get(f"/api/public/coprogramming/procedures/{pid}")
    public = ok(page)
    assert PERSON not in page.text and CONTACT not in page.text and "Luca" not in page.text
    assert [(o["name"], o["people"]) for o in public["organisations"]] == [
        ("Associazione Alfa", 2),
        ("Associazione Beta", 1),
        ("Coop Gamma", 3),
    ]
    assert public["organisations_by_sector"] == {"third_sector": 3} and public["people"] == 6
    assert [m["id"] for m in public["minutes"]] == [draft["id"]]
    assert public["summary"]["id"] == summary["id"]
    assert public["objectives"][0]["sessions"] == [2, 5]
    assert [s["number"] for s in public["sessions"]] == [1, 2, 3, 4, 5]
    assert [(t["theme"], t["people"]) for t in public["sessions"][1]["tables"]] == [
        ("Domiciliarità", 5),
        ("Solitudine", 1),
    ]

    # --- export: the approved minutes as a PDF, the summary as HTML
    pdf = await client.get(f"{P}/minutes/{draft['id']}/document?format=pdf", headers=sw)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    html = await client.get(f"{P}/summary/{summary['id']}/document", headers=hm)
    assert "<h1>Documento istruttorio di sintesi" in html.text
    assert "<h3>Tavolo 1: Domiciliarità</h3>" in html.text  # the minutes' headings, one down
    assert "<h4>Proposte concrete</h4>" in html.text
    # ... and as an editable OpenDocument text: the media type first, stored, then the text.
    odt = await client.get(f"{P}/summary/{summary['id']}/document?format=odt", headers=udp)
    assert odt.headers["content-type"] == "application/vnd.oasis.opendocument.text"
    with zipfile.ZipFile(io.BytesIO(odt.content)) as archive:
        first = archive.infolist()[0]
        assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
        assert archive.read("mimetype") == odt.headers["content-type"].encode()
        text = ElementTree.fromstring(archive.read("content.xml"))
        styles = archive.read("styles.xml").decode()
    ns = {"text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0"}
    headings = [
        (h.get(f"{{{ns['text']}}}outline-level"), h.text) for h in text.iterfind(".//text:h", ns)
    ]
    # Each heading in a «Heading N» style the document's own styles define (what a word
    # processor's navigator and table of contents use).
    used = {h.get(f"{{{ns['text']}}}style-name") for h in text.iterfind(".//text:h", ns)}
    assert used and all(f'style:name="{name}"' in styles for name in used), used
    assert headings[:3] == [
        ("1", summary["content"].splitlines()[0][2:]),
        ("2", "Verbali considerati"),
        ("2", "Proposte emerse"),
    ]
    assert ("4", "Proposte concrete") in headings
    assert final["content_hash"] in html.text


async def test_bad_input_is_a_4xx_naming_the_field(client, tenant: Tenant) -> None:
    udp = tenant.headers(U)
    bad(await client.post(f"{P}/procedures", headers=udp, json={"title": ""}), "title")
    bad(await client.post(f"{P}/procedures", headers=udp, json={"title": "A\x00"}), "title")
    bad(await client.post(f"{P}/procedures", headers=udp, json={"title": "A", "x": 1}), "x")
    bad(await client.post(f"{P}/procedures", headers=udp, json={"title": "A", "kind": "z"}), "kind")
    for url in ("javascript:alert(1)", "https://a.example/x y", "https://a.example/\x00"):
        bad(
            await client.post(
                f"{P}/procedures", headers=udp, json={"title": "A", "notice_url": url}
            ),
            "notice_url",
        )
    pid = ok(await client.post(f"{P}/procedures", headers=udp, json={"title": "A"}), 201)["id"]
    bad(
        await client.post(f"{P}/procedures/{pid}/applications", headers=udp, json={}),
        "holder_id",
    )
    bad(
        await client.post(
            f"{P}/procedures/{pid}/applications",
            headers=udp,
            json={"holder_id": str(uuid.uuid4())},
        ),
        "holder_id",
    )
    bad(
        await client.post(
            f"{P}/procedures/{pid}/applications",
            headers=udp,
            json={"holder_id": str(tenant.holder_id), "participants": [{"name": "A\nB"}]},
        ),
        "participants",
    )
    bad(
        await client.post(
            f"{P}/procedures/{pid}/sessions",
            headers=udp,
            json={
                "number": 0,
                "kind": "thematic",
                "title": "X",
                "starts_at": "2027-01-10T10:00:00Z",
            },
        ),
        "number",
    )
    # Nothing to summarise before any minutes are approved.
    bad(await client.post(f"{P}/procedures/{pid}/summary/draft", headers=udp), "approve", 409)
    # Minutes approved while the procedure is still a draft are not published.
    session = ok(
        await client.post(
            f"{P}/procedures/{pid}/sessions",
            headers=udp,
            json={
                "number": 1,
                "kind": "introductory",
                "title": "X",
                "starts_at": "2027-01-10T10:00:00Z",
            },
        ),
        201,
    )
    minutes = ok(await client.post(f"{P}/sessions/{session['id']}/minutes/draft", headers=udp), 201)
    ok(await client.post(f"{P}/minutes/{minutes['id']}/approve", headers=udp))
    public = f"/api/public/coprogramming/minutes/{minutes['id']}/document"
    assert (await client.get(public)).status_code == 404
    assert (await client.get(f"{P}/procedures/{uuid.uuid4()}", headers=udp)).status_code == 404


async def test_a_new_organisation_registers_on_the_way_and_withdraws(
    client, tenant: Tenant
) -> None:
    """A manager account with no holder yet applies by registering its holder (the holders'
    own rules: consent for an informal network); the procedure must be open and not past its
    closing date; it can withdraw but not admit itself."""
    udp = tenant.headers(U)
    newcomer = User(
        username=f"nuova-{uuid.uuid4().hex[:8]}",
        password_hash="x",
        role=H.value,
        ambito=tenant.ambito_id,
    )
    await newcomer.save()
    headers = {"Authorization": f"Bearer {token_for(newcomer.id, H, tenant.code)}"}
    today = now().astimezone(ROME).date()
    pid = ok(
        await client.post(
            f"{P}/procedures",
            headers=udp,
            json={"title": "Avviso", "notice_published_on": today.isoformat()},
        ),
        201,
    )["id"]
    group = {"kind": "informal_network", "sector": "informal", "name": "Gruppo di vicinato"}
    body = {"new_holder": group, "participants": [{"name": "Pia", "role": "volunteer"}]}
    url = f"{P}/procedures/{pid}/applications"
    # A draft is not there for the organisation; a closed window refuses.
    assert (await client.post(url, headers=headers, json=body)).status_code == 404
    yesterday = (today - timedelta(days=1)).isoformat()
    patch = {"status": "open", "notice_published_on": yesterday, "applications_close_on": yesterday}
    ok(await client.patch(f"{P}/procedures/{pid}", headers=udp, json=patch))
    bad(await client.post(url, headers=headers, json=body), "closed", 409)
    ok(
        await client.patch(
            f"{P}/procedures/{pid}", headers=udp, json={"applications_close_on": today.isoformat()}
        )
    )
    bad(await client.post(url, headers=headers, json=body), "consent")
    consent = {"given_by": "Pia", "given_at": now().isoformat(), "text_version": "v1"}
    applied = ok(
        await client.post(
            url, headers=headers, json={**body, "new_holder": {**group, "consent": consent}}
        ),
        201,
    )
    assert (applied["holder_name"], applied["status"]) == ("Gruppo di vicinato", "submitted")
    linked = await User.select(User.holder).where(User.id == newcomer.id).first()
    assert linked == {"holder": uuid.UUID(applied["holder_id"])}
    # The account now manages the new holder, and so its application.
    withdrawn = ok(
        await client.patch(
            f"{P}/applications/{applied['id']}", headers=headers, json={"status": "withdrawn"}
        )
    )
    assert withdrawn["status"] == "withdrawn"
    assert ok(await client.get(f"{P}/procedures/{pid}", headers=udp))["organisations"] == 0
