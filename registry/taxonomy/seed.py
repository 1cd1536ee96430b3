"""The seeded taxonomy of community resources (two levels: kind of resource, then what).

Top level follows DESIGN.md: time and skills, spaces, goods, services, relationships.
"""

from __future__ import annotations

TAXONOMY: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "tempo-competenze",
        "Tempo e competenze",
        [
            ("compagnia-ascolto", "Compagnia e ascolto"),
            ("sostegno-scolastico", "Sostegno scolastico e doposcuola"),
            ("lingua-italiana", "Insegnamento dell'italiano (L2)"),
            ("supporto-digitale", "Supporto digitale e pratiche online"),
            ("consulenza", "Consulenza legale, fiscale o amministrativa"),
            ("orientamento-lavoro", "Orientamento e accompagnamento al lavoro"),
            ("animazione", "Animazione e attività ricreative"),
        ],
    ),
    (
        "spazi",
        "Spazi",
        [
            ("sala-incontri", "Sala per incontri e attività"),
            ("spazio-sportivo", "Spazio sportivo"),
            ("cucina", "Cucina attrezzata"),
            ("ospitalita-temporanea", "Ospitalità temporanea"),
            ("orto", "Orto e spazi verdi"),
        ],
    ),
    (
        "beni",
        "Beni",
        [
            ("alimentari", "Generi alimentari"),
            ("vestiario", "Vestiario"),
            ("arredi", "Arredi ed elettrodomestici"),
            ("materiale-scolastico", "Materiale scolastico"),
            ("ausili", "Ausili per la mobilità e la cura"),
            ("dispositivi-digitali", "Computer e dispositivi digitali"),
        ],
    ),
    (
        "servizi",
        "Servizi",
        [
            ("trasporto", "Trasporto"),
            ("accompagnamento", "Accompagnamento a visite e uffici"),
            ("consegna-spesa", "Consegna della spesa e dei farmaci"),
            ("piccole-manutenzioni", "Piccole manutenzioni domestiche"),
            ("pasti", "Pasti e mensa"),
            ("sollievo", "Sollievo per chi assiste un familiare"),
        ],
    ),
    (
        "relazioni",
        "Relazioni",
        [
            ("buon-vicinato", "Reti di buon vicinato"),
            ("auto-mutuo-aiuto", "Gruppi di auto mutuo aiuto"),
            ("tutoraggio", "Tutoraggio e mentoring"),
            ("famiglie-solidali", "Famiglie solidali e affido leggero"),
        ],
    ),
]


def seed_rows() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for position, (code, name, children) in enumerate(TAXONOMY):
        rows.append({"code": code, "parent_code": None, "name": name, "position": position})
        for child_position, (child_code, child_name) in enumerate(children):
            rows.append(
                {
                    "code": child_code,
                    "parent_code": code,
                    "name": child_name,
                    "position": child_position,
                }
            )
    return rows
