"""The minutes and the summary document as text, and their export (HTML, PDF).

The text is what the UdP edits and approves (its hash is what is frozen): plain lines with a
few marks — "# " title, "## " and "### " headings, "- " list items — so it reads well as it
is and renders as a document. No person is named: organisations speak, people are counted
(the approved minutes are published).

Pure functions: the export runs in a worker process (registry.offload), like the report.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from registry import italian
from registry.metrics.report import STYLE
from registry.vocabularies import (
    GUIDING_QUESTION_LABELS,
    SESSION_KIND_LABELS,
    GuidingQuestion,
    SessionKind,
)

NO_ANSWER = "Nessun contributo registrato."


@dataclass(frozen=True, slots=True)
class Answer:
    question: GuidingQuestion
    text: str
    holder: str | None
    resource: str | None


@dataclass(frozen=True, slots=True)
class TableMaterial:
    theme: str
    spokesperson_holder: str | None
    answers: list[Answer]


@dataclass(frozen=True, slots=True)
class SessionMaterial:
    procedure_title: str
    number: int
    kind: SessionKind
    title: str
    theme: str
    starts_at: datetime
    place: str
    agenda: str
    attendance: list[tuple[str, int]]  # (organisation, people)
    tables: list[TableMaterial]


@dataclass(frozen=True, slots=True)
class ApprovedMinutes:
    session_number: int
    session_title: str
    version: int
    approved_at: datetime
    content_hash: str
    content: str


def _people(n: int) -> str:
    return italian.count(n, "persona", "persone")


def minutes_text(s: SessionMaterial) -> str:
    """The draft of a session's minutes from what its tables recorded."""
    lines = [
        f"# Verbale della sessione {s.number} – {s.title}",
        "",
        f"Procedimento: {s.procedure_title}",
        f"{SESSION_KIND_LABELS[s.kind]}" + (f" – tema: {s.theme}" if s.theme else ""),
        f"Data: {italian.long_datetime(s.starts_at)}" + (f" – luogo: {s.place}" if s.place else ""),
    ]
    if s.agenda.strip():
        lines += ["", "## Ordine del giorno", "", s.agenda.strip()]
    people = sum(p for _, p in s.attendance)
    present = italian.count(len(s.attendance), "organizzazione presente", "organizzazioni presenti")
    lines += [
        "",
        "## Partecipanti",
        "",
        f"{present}, {_people(people)} in tutto.",
        "",
    ]
    lines += [f"- {name} ({_people(n)})" for name, n in s.attendance]
    for number, table in enumerate(s.tables, start=1):
        lines += ["", f"## Tavolo {number}: {table.theme}"]
        if table.spokesperson_holder:
            lines += ["", f"Portavoce del tavolo: una persona di {table.spokesperson_holder}."]
        for question in GuidingQuestion:
            answers = [a for a in table.answers if a.question is question]
            lines += ["", f"### {GUIDING_QUESTION_LABELS[question]}", ""]
            if not answers:
                lines.append(f"- {NO_ANSWER}")
            for a in answers:
                who = f" ({a.holder})" if a.holder else ""
                resource = f" [risorsa del registro: {a.resource}]" if a.resource else ""
                lines.append(f"- {' '.join(a.text.split())}{who}{resource}")
    return "\n".join(lines) + "\n"


def summary_text(
    *,
    procedure_title: str,
    piano_period: str,
    minutes: list[ApprovedMinutes],
    objectives: list[tuple[str, str]],
) -> str:
    """The documento istruttorio di sintesi: the approved minutes, in calendar order, each
    with the version and hash it was approved with, then the objectives adopted so far."""
    period = f" – Piano di Zona {piano_period}" if piano_period else ""
    lines = [
        f"# Documento istruttorio di sintesi – {procedure_title}{period}",
        "",
        "Redatto a partire dai verbali approvati delle sessioni di co-programmazione.",
        "",
        "## Verbali considerati",
        "",
    ]
    lines += [
        f"- Sessione {m.session_number} – {m.session_title}: verbale versione {m.version}, "
        f"approvato il {italian.long_datetime(m.approved_at)} (impronta {m.content_hash[:12]})"
        for m in minutes
    ]
    proposals = [(m, theme, item) for m in minutes for theme, item in proposals_of(m.content)]
    if proposals:
        # What the UdP turns into objectives, gathered from every approved minutes.
        lines += ["", "## Proposte emerse", ""]
        lines += [
            f"- {item} – sessione {m.session_number}, {theme}" for m, theme, item in proposals
        ]
    for m in minutes:
        lines += ["", f"## Sessione {m.session_number} – {m.session_title}", ""]
        for line in m.content.strip().splitlines():
            # The minutes' own title becomes this section's; their headings go one level down.
            if line.startswith("# "):
                continue
            lines.append("#" + line if line.startswith("##") else line)
    if objectives:
        lines += ["", "## Obiettivi del Piano emersi", ""]
        lines += [f"- {code + ' – ' if code else ''}{title}" for code, title in objectives]
    return "\n".join(lines) + "\n"


def proposals_of(content: str) -> list[tuple[str, str]]:
    """(table heading, proposal) of a minutes text, read from its marks: the items under
    the proposals heading of each table (a heading edited away by hand is simply not found)."""
    heading = f"### {GUIDING_QUESTION_LABELS[GuidingQuestion.PROPOSALS]}"
    found: list[tuple[str, str]] = []
    table, inside = "", False
    for raw in content.splitlines():
        line = raw.rstrip()
        if line.startswith("## "):
            table, inside = line[3:], False
        elif line.startswith("### "):
            inside = line == heading
        elif inside and line.startswith("- ") and line[2:] != NO_ANSWER:
            found.append((table, line[2:]))
    return found


def with_footer(row: dict[str, Any]) -> str:
    """The text as exported: approved versions say when and with which hash."""
    status = (
        f"Versione {row['version']} approvata il {italian.long_datetime(row['approved_at'])}; "
        f"impronta SHA-256 {row['content_hash']}."
        if row["status"] == "approved"
        else f"Versione {row['version']}: BOZZA non approvata."
    )
    return row["content"].rstrip() + "\n\n---\n" + status + "\n"


@dataclass(frozen=True)
class Block:
    """One block of the text: a heading (level 1-6), a paragraph, a list or a rule."""

    kind: str  # heading | paragraph | list | rule
    text: str = ""
    level: int = 0
    items: tuple[str, ...] = ()


def blocks(content: str) -> list[Block]:
    """The text's blocks, read from its few marks (the one reading every export shares)."""
    out: list[Block] = []
    items: list[str] = []

    def close_list() -> None:
        if items:
            out.append(Block("list", items=tuple(items)))
            items.clear()

    for raw in content.splitlines():
        line = raw.rstrip()
        if line.startswith("- "):
            items.append(line[2:])
            continue
        close_list()
        if not line:
            continue
        marks = len(line) - len(line.lstrip("#"))
        if line == "---":
            out.append(Block("rule"))
        elif 1 <= marks <= 6 and line[marks : marks + 1] == " ":
            # The summary moves the minutes' headings one level down (#### and below).
            out.append(Block("heading", line[marks + 1 :], marks))
        else:
            out.append(Block("paragraph", line))
    close_list()
    return out


def render_html(title: str, content: str) -> str:
    body: list[str] = []
    for block in blocks(content):
        if block.kind == "list":
            body.append("<ul>" + "".join(f"<li>{escape(i)}</li>" for i in block.items) + "</ul>")
        elif block.kind == "rule":
            body.append("<hr>")
        elif block.kind == "heading":
            body.append(f"<h{block.level}>{escape(block.text)}</h{block.level}>")
        else:
            body.append(f"<p>{escape(block.text)}</p>")
    return (
        "<!doctype html><html lang='it'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        + "".join(body)
        + "</body></html>"
    )


def render_pdf(title: str, content: str) -> bytes:
    from weasyprint import HTML  # imported in the worker process only: it is heavy

    return HTML(string=render_html(title, content)).write_pdf()


# --- ODT: an editable document the UdP can carry into the Piano (LibreOffice, Word) ---------

ODT_MEDIA_TYPE = "application/vnd.oasis.opendocument.text"


def render_odt(title: str, content: str) -> bytes:
    """The same text as an OpenDocument text file (odfdo, on LibreOffice's own template):
    headings as outline headings in the template's «Heading N» styles (so the word
    processor's navigator and table of contents see them), «- » lines as lists."""
    from odfdo import Document, Header, List, ListItem, Paragraph

    document = Document("text")
    body = document.body
    body.clear()
    for block in blocks(content):
        if block.kind == "list":
            listing = List()
            for item in block.items:
                listing.append(ListItem(Paragraph(item, style="Text_20_body")))
            body.append(listing)
        elif block.kind == "heading":
            heading = Header(block.level, block.text)
            heading.style = f"Heading_20_{block.level}"  # odfdo 3.27 drops style= of Header
            body.append(heading)
        elif block.kind == "paragraph":
            body.append(Paragraph(block.text, style="Text_20_body"))
        # The rule before the approval line is the HTML's: a word processor does not need it.
    document.meta.set_title(title)
    document.meta.set_language("it-IT")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
