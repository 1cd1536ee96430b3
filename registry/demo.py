"""A realistic demo ambito: the Olgiatese (province of Como, Lombardy).

Comuni are real, with their ISTAT codes (registry/data/demo_comuni.json). Holders and
resources are invented but typical of the field; identifiers have valid check digits.
The twelve months of activity up to today (volunteers, plans, matches, the ledger,
activities, funded interventions, interactions) are in registry/demo_activity/.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from registry import demo_activity
from registry.access import Role
from registry.ambiti import service as ambiti
from registry.ambiti.schemas import ComuneIn
from registry.ambiti.tables import Ambito
from registry.common import now
from registry.config import ConfigError, Settings, load_settings
from registry.coprogramming import demo as coprogramming_demo
from registry.holders.tables import Holder
from registry.outcomes import demo as outcomes_demo
from registry.resources.tables import AvailabilityWindow, Resource
from registry.security import hash_password
from registry.taxonomy.service import ensure_seeded
from registry.users.tables import User

DATA = Path(__file__).resolve().parent / "data" / "demo_comuni.json"
DEMO_PASSWORD = "demo-password"


def refuse_in_production(settings: Settings) -> None:
    """The demo creates an administrator and dozens of accounts whose password is public."""
    if settings.is_production:
        raise ConfigError(
            "the demo data (user 'udp' and every demo account share the public password "
            f"'{DEMO_PASSWORD}') is refused when REGISTRY_ENV=production: load it only in "
            "development"
        )


# name, kind, sector, codice fiscale (organisations: 11 digits), comuni served (names), areas
HOLDERS = [
    (
        "Auser Olgiate Comasco",
        "association",
        "third_sector",
        "80012000826",
        ["Olgiate Comasco", "Albiolo", "Solbiate con Cagno"],
        ["anziani"],
    ),
    (
        "Caritas parrocchiale San Gerardo",
        "parish",
        "third_sector",
        None,
        ["Olgiate Comasco", "Lurate Caccivio"],
        ["poverta-disagio-adulti", "immigrati"],
    ),
    (
        "Cooperativa sociale Il Sentiero",
        "social_cooperative",
        "third_sector",
        None,
        ["Appiano Gentile", "Lurago Marinone", "Veniano", "Castelnuovo Bozzente"],
        ["disabili"],
    ),
    (
        "Banco di solidarietà dell'Olgiatese",
        "association",
        "third_sector",
        None,
        ["Olgiate Comasco", "Faloppio", "Uggiate con Ronago"],
        ["poverta-disagio-adulti"],
    ),
    (
        "Oratorio di Villa Guardia",
        "parish",
        "third_sector",
        None,
        ["Villa Guardia"],
        ["famiglie-minori"],
    ),
    (
        "Rete di vicinato di Binago",
        "informal_network",
        "informal",
        None,
        ["Binago", "Beregazzo con Figliaro"],
        ["anziani", "famiglie-minori"],
    ),
    (
        "Istituto comprensivo di Lurate Caccivio",
        "school",
        "public",
        None,
        ["Lurate Caccivio", "Oltrona di San Mamette"],
        ["famiglie-minori"],
    ),
    (
        "Falegnameria Bernasconi srl",
        "company",
        "business",
        None,
        ["Appiano Gentile", "Olgiate Comasco", "Lurate Caccivio", "Guanzate"],
        ["multiutenza"],
    ),
    (
        "Scuola di italiano Parole in cammino",
        "association",
        "third_sector",
        None,
        ["Olgiate Comasco", "Appiano Gentile", "Guanzate"],
        ["immigrati"],
    ),
    (
        "Protezione civile Colverde",
        "public_office",
        "public",
        None,
        ["Colverde", "Faloppio"],
        ["multiutenza"],
    ),
    (
        "Gruppo volontari trasporto amico",
        "association",
        "third_sector",
        None,
        ["Guanzate", "Cirimido", "Fenegrò", "Limido Comasco"],
        ["anziani", "disabili"],
    ),
    (
        "Maria R. (volontaria)",
        "individual_volunteer",
        "informal",
        None,
        ["Valmorea", "Rodero", "Bizzarone"],
        ["famiglie-minori"],
    ),
]

# holder index, title, category, unit, capacity, target groups, languages, requirements,
# windows: (freq, by_day, start, end, capacity)
RESOURCES = [
    (
        0,
        "Compagnia telefonica e a domicilio per anziani soli",
        "compagnia-ascolto",
        "hours",
        6,
        ["anziani"],
        ["it"],
        [],
        [("WEEKLY", ["MO", "WE", "FR"], "09:00", "12:00", 3)],
    ),
    (
        0,
        "Accompagnamento a visite mediche",
        "accompagnamento",
        "trips",
        4,
        ["anziani", "disabili"],
        ["it"],
        [],
        [("WEEKLY", ["TU", "TH"], "08:00", "13:00", 2)],
    ),
    (
        1,
        "Distribuzione pacchi alimentari",
        "alimentari",
        "items",
        40,
        ["poverta-disagio-adulti", "famiglie-minori", "immigrati", "anziani", "disabili"],
        ["it", "fr", "ar"],
        [],
        [("WEEKLY", ["SA"], "09:00", "11:30", 40)],
    ),
    (
        1,
        "Centro di ascolto",
        "compagnia-ascolto",
        "hours",
        8,
        ["poverta-disagio-adulti", "immigrati"],
        ["it", "fr"],
        [],
        [("WEEKLY", ["TU"], "15:00", "18:00", 4)],
    ),
    (
        2,
        "Laboratorio di autonomie per giovani con disabilità",
        "animazione",
        "places",
        8,
        ["disabili"],
        ["it"],
        [],
        [("WEEKLY", ["WE"], "14:00", "17:00", 8)],
    ),
    (
        3,
        "Raccolta e consegna di arredi usati",
        "arredi",
        "items",
        10,
        ["poverta-disagio-adulti", "immigrati", "famiglie-minori", "anziani"],
        ["it"],
        [],
        [("MONTHLY", ["1SA"], "09:00", "12:00", 5)],
    ),
    (
        4,
        "Doposcuola in oratorio",
        "sostegno-scolastico",
        "places",
        15,
        ["famiglie-minori", "immigrati"],
        ["it", "en"],
        ["minori"],
        [("WEEKLY", ["MO", "TH"], "14:30", "16:30", 15)],
    ),
    (
        4,
        "Salone dell'oratorio per incontri",
        "sala-incontri",
        "room_hours",
        1,
        ["multiutenza"],
        [],
        [],
        [("WEEKLY", ["TU", "FR"], "18:00", "22:00", 1)],
    ),
    (
        5,
        "Spesa e farmaci a domicilio tra vicini",
        "consegna-spesa",
        "trips",
        6,
        ["anziani"],
        ["it"],
        [],
        [("DAILY", [], "10:00", "12:00", 2)],
    ),
    (
        6,
        "Aula informatica aperta alle famiglie",
        "supporto-digitale",
        "room_hours",
        1,
        ["famiglie-minori", "immigrati", "anziani", "poverta-disagio-adulti"],
        ["it"],
        [],
        [("WEEKLY", ["SA"], "09:00", "12:00", 1)],
    ),
    (
        7,
        "Piccole riparazioni domestiche",
        "piccole-manutenzioni",
        "hours",
        4,
        ["anziani", "disabili", "poverta-disagio-adulti", "immigrati"],
        ["it"],
        [],
        [("WEEKLY", ["FR"], "14:00", "18:00", 2)],
    ),
    (
        8,
        "Corso di italiano per donne straniere",
        "lingua-italiana",
        "places",
        12,
        ["immigrati"],
        ["it", "ar", "en"],
        [],
        [("WEEKLY", ["TU", "TH"], "09:30", "11:30", 12)],
    ),
    (
        9,
        "Furgone per traslochi solidali",
        "trasporto",
        "trips",
        2,
        ["poverta-disagio-adulti", "multiutenza", "anziani", "disabili"],
        ["it"],
        [],
        [("MONTHLY", ["2SA", "4SA"], "08:00", "12:00", 1)],
    ),
    (
        10,
        "Trasporto sociale con auto attrezzata",
        "trasporto",
        "trips",
        6,
        ["anziani", "disabili"],
        ["it"],
        [],
        [("WEEKLY", ["MO", "TU", "WE", "TH", "FR"], "08:00", "12:00", 2)],
    ),
    (
        11,
        "Aiuto compiti a domicilio",
        "sostegno-scolastico",
        "hours",
        3,
        ["famiglie-minori"],
        ["it", "es"],
        ["minori"],
        [("WEEKLY", ["WE"], "15:00", "17:00", 1)],
    ),
    (
        6,
        "Aiuto compiti con i ragazzi delle medie",
        "sostegno-scolastico",
        "places",
        10,
        ["famiglie-minori", "immigrati"],
        ["it", "en"],
        ["minori"],
        [("WEEKLY", ["TU", "TH"], "14:30", "16:30", 10)],
    ),
]

# Days before today each holder registered (same order as HOLDERS): most were there long
# before the year of activity the demo shows (registry/demo_activity/); the individual
# volunteer joined during it, so the cohesion network gains a node.
REGISTERED_DAYS_AGO = [1400, 1300, 1200, 1100, 1000, 380, 900, 420, 800, 850, 950, 300]


async def load_demo(reset_passwords: bool = True) -> dict[str, str]:
    """Create the demo ambito with a year of activity if missing (nothing otherwise);
    returns the demo logins (username -> role)."""
    refuse_in_production(load_settings())
    await ensure_seeded()
    spec = json.loads(DATA.read_text(encoding="utf-8"))
    logins = {
        "udp": Role.UDP_ADMIN,
        "assistente": Role.SOCIAL_WORKER,
        "auser": Role.HOLDER_MANAGER,
        "volontario": Role.VOLUNTEER,
    }
    existing = await Ambito.select(Ambito.id).where(Ambito.code == spec["ambito"]["code"]).first()
    if existing:
        return {name: role.value for name, role in logins.items()}

    ambito_id = await ambiti.create_ambito(**spec["ambito"])
    await ambiti.add_comuni(
        ambito_id,
        [
            ComuneIn(istat_code=c["istat_code"], name=c["name"], population=c["population_2011"])
            for c in spec["comuni"]
        ],
    )
    code_of = {c["name"]: c["istat_code"] for c in spec["comuni"]}
    moment = now()
    holders = []
    for (name, kind, sector, cf, comuni, areas), days_ago in zip(
        HOLDERS, REGISTERED_DAYS_AGO, strict=True
    ):
        person = kind in {"individual_volunteer", "informal_network"}
        registered = moment - timedelta(days=days_ago)
        holders.append(
            Holder(
                ambito=ambito_id,
                kind=kind,
                sector=sector,
                name=name,
                codice_fiscale=cf,
                comuni=[code_of[c] for c in comuni],
                areas=areas,
                seat_comune=code_of[comuni[0]],
                contacts=json.dumps(
                    # A hostname has no "_": info@social_cooperative... is not an address.
                    [
                        {
                            "kind": "email",
                            "value": f"info@{kind.replace('_', '-')}.example.org",
                            "label": "segreteria",
                        }
                    ]
                ),
                consent_given_by=name if person else None,
                consent_given_at=registered if person else None,
                consent_text_version="2026-01" if person else None,
                created_at=registered,
                updated_at=registered,
            )
        )
    await Holder.insert(*holders)

    for index, (
        h,
        title,
        category,
        unit,
        capacity,
        groups,
        languages,
        requirements,
        windows,
    ) in enumerate(RESOURCES):
        # Offered since shortly after the holder registered (the demo's year of activity
        # uses them); confirmations spread over time so freshness has something to show.
        created = holders[h].created_at + timedelta(days=3)
        start = created.date()
        confirmed = max(created, moment - timedelta(days=(index * 9) % 120))
        resource = Resource(
            ambito=ambito_id,
            holder=holders[h].id,
            title=title,
            category_code=category,
            unit=unit,
            capacity=capacity,
            comuni=holders[h].comuni,
            target_groups=groups,
            languages=languages,
            requirements=requirements,
            valid_from=start,
            created_at=created,
            updated_at=confirmed,
            confirmed_at=confirmed,
        )
        await resource.save()
        await AvailabilityWindow.insert(
            *[
                AvailabilityWindow(
                    resource=resource.id,
                    freq=freq,
                    by_day=by_day,
                    start_time=datetime.strptime(s, "%H:%M").time(),
                    end_time=datetime.strptime(e, "%H:%M").time(),
                    valid_from=start,
                    capacity=cap,
                    exceptions=[],
                    created_at=created,
                    updated_at=created,
                )
                for freq, by_day, s, e, cap in windows
            ]
        )

    password = hash_password(DEMO_PASSWORD)
    for username, role in logins.items():
        await User(
            username=username,
            password_hash=password,
            role=role.value,
            ambito=ambito_id,
            holder=holders[0].id if role is Role.HOLDER_MANAGER else None,
            created_at=moment - timedelta(days=420),
        ).save()

    # A year of life in the ambito: volunteers, plans, matches, the ledger, activities,
    # funded interventions, interactions; then the nightly metrics snapshot.
    await demo_activity.build(ambito_id, password_hash=password, moment=moment)
    await outcomes_demo.build(ambito_id, moment)  # issue 15: goals, reviews, closures
    await coprogramming_demo.build(ambito_id, moment)  # issue 16: a procedure like seed 002
    await demo_activity.snapshot(ambito_id, moment)
    return {name: role.value for name, role in logins.items()}
