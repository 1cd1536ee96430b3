"""Score of one (need, resource) pair, with an Italian reason per component.

Every component is a value in [0, 1]; the score is the weighted mean
sum(weight * value) / sum(weights), so it also lies in [0, 1]. The
vectorised batch scorer in `blocking.py` implements the very same formulas
with the same floating-point operations in the same order: tests check that
both give identical scores.

Component definitions (the constants below are the tunable parts):

- category_fit: ANCESTOR_FIT_DECAY ** d, where d is how many taxonomy levels
  the resource's category is above the need's (0 = same category -> 1.0);
  0 if unrelated.
- schedule_overlap: minutes of weekly overlap between need and resource
  windows divided by the minutes needed (the need's quantity per week if set
  and smaller than its windows, else the windows' total), capped at 1.
  NEUTRAL_SCHEDULE if either side gives no windows.
- capacity: min(free places, CAPACITY_SATURATION) / CAPACITY_SATURATION.
- proximity: 1 if the resource is based in the need's comune (or serves only
  that comune and its base is unknown); 0 if it does not serve it. Otherwise,
  when both the need's and the resource's locations are known,
  1 / (1 + km / PROXIMITY_HALF_KM) of the great-circle distance between them
  (half at PROXIMITY_HALF_KM); when either is unknown, PROXIMITY_ELSEWHERE
  (it serves the comune from elsewhere, or the whole ambito).
- language: if the need lists languages, 1 when one is shared, else 0; if it
  lists none (Italian assumed), 1 when the resource declares Italian or no
  language, else LANGUAGE_NO_ITALIAN.
- continuity: 1 if the holder is already engaged in the same plan, else 0.
- load_spread: 1 / (1 + active matches / LOAD_HALF): fewer active matches,
  higher value (use, not consumption: spread the effort).
- new_tie: 1 if the holder has no ties in the network yet, else 0.
- freshness: 1 while the holder's last confirmation is at most `remind_after_days` old
  (or its date is unknown), then falling linearly to 0 at `stale_after_days`, and 0 beyond
  (the freshness job may not have marked the resource stale yet): an unconfirmed resource
  ranks lower, and its reason says how old the confirmation is.
"""

from __future__ import annotations

from functools import lru_cache

from registry.italian import count as _count_it
from registry.italian import number

from .geo import comune_it, distance_km, km_it
from .model import (
    COMPONENT_NAMES,
    Component,
    NeedItem,
    ResourceItem,
    Suggestion,
    Taxonomy,
    Weights,
)
from .schedule import (
    WEEKDAYS_IT,
    hours_it,
    normalise,
    on_day_it,
    overlap_minutes,
    per_day,
    total_minutes,
)

# The shared Italian formatter goes through Babel (~15 µs a call) and every scored pair says
# two or three counts; the same few values recur, so they are formatted once.
count = lru_cache(maxsize=4096)(_count_it)

ANCESTOR_FIT_DECAY = 0.6
NEUTRAL_SCHEDULE = 0.5
CAPACITY_SATURATION = 5
PROXIMITY_ELSEWHERE = 0.5
# Distance at which proximity is one half: about the span between neighbouring comuni of
# a small ambito, so next door still scores well above a comune at the other end.
PROXIMITY_HALF_KM = 10.0
LANGUAGE_NO_ITALIAN = 0.5
LOAD_HALF = 5
DEFAULT_LANGUAGE = "it"

# Order in which weighted values are summed. Floating-point addition is not
# associative, so the scalar and vectorised scorers must share it; terms that
# depend on the resource only come first so the batch scorer can sum them
# once per candidate column instead of once per pair.
ACCUMULATION_ORDER: tuple[str, ...] = (
    "category_fit",
    "capacity",
    "proximity",
    "load_spread",
    "new_tie",
    "freshness",
    "schedule_overlap",
    "language",
    "continuity",
)

LANGUAGE_NAMES_IT: dict[str, str] = {
    "it": "italiano",
    "en": "inglese",
    "fr": "francese",
    "es": "spagnolo",
    "de": "tedesco",
    "pt": "portoghese",
    "ar": "arabo",
    "ro": "rumeno",
    "sq": "albanese",
    "uk": "ucraino",
    "ru": "russo",
    "pl": "polacco",
    "zh": "cinese",
    "ur": "urdu",
    "hi": "hindi",
    "bn": "bengalese",
    "pa": "punjabi",
    "tl": "tagalog",
    "wo": "wolof",
    "so": "somalo",
    "ti": "tigrino",
    "am": "amarico",
    "fa": "persiano",
    "tr": "turco",
    "lis": "lingua dei segni italiana",
}


def category_fit_value(distance: int | None) -> float:
    return 0.0 if distance is None else ANCESTOR_FIT_DECAY**distance


def capacity_value(capacity: int) -> float:
    return min(capacity, CAPACITY_SATURATION) / CAPACITY_SATURATION


def load_spread_value(load: int) -> float:
    return 1 / (1 + load / LOAD_HALF)


def freshness_value(days: int | None, remind_after: int, stale_after: int) -> float:
    if days is None or days <= remind_after:
        return 1.0
    if days >= stale_after:
        return 0.0
    return 1 - (days - remind_after) / (stale_after - remind_after)


def days_ago_it(days: int) -> str:
    if days <= 0:
        return "oggi"
    if days == 1:
        return "ieri"
    return f"{count(days, 'giorno', 'giorni')} fa"


def proximity_value(km: float) -> float:
    return 1 / (1 + km / PROXIMITY_HALF_KM)


def language_names(codes: frozenset[str]) -> str:
    return ", ".join(sorted(LANGUAGE_NAMES_IT.get(c, c) for c in codes))


def _category(need: NeedItem, resource: ResourceItem, taxonomy: Taxonomy) -> tuple[float, str]:
    d = taxonomy.distance(need.category, resource.category)
    value = category_fit_value(d)
    if d == 0:
        return value, f"Stessa categoria: {taxonomy.label(need.category)}"
    if d is None:
        return value, (
            f"Categoria non compatibile: {taxonomy.label(resource.category)} "
            f"invece di {taxonomy.label(need.category)}"
        )
    return value, (
        f"Categoria più generale: {taxonomy.label(resource.category)} "
        f"(comprende {taxonomy.label(need.category)})"
    )


def hours_count(minutes: int, one: str = "ora", many: str = "ore") -> str:
    """«1 ora», «1,5 ore», «3 ore»: hours with the noun that agrees (only exactly 1 is singular)."""
    return f"{number(minutes / 60)} {one if minutes == 60 else many}"


def _of_hours(available: int, needed: int, weekly: bool = False) -> str:
    """«0,5 di 1 ora richiesta», «2 delle 3 ore settimanali richieste»."""
    if needed == 60:
        asked = "1 ora settimanale" if weekly else "1 ora"
        return f"{hours_it(available)} di {asked} richiesta"
    asked = f"{hours_it(needed)} ore settimanali" if weekly else f"{hours_it(needed)} ore"
    return f"{hours_it(available)} delle {asked} richieste"


def _schedule(need: NeedItem, resource: ResourceItem) -> tuple[float, str]:
    if not need.windows and not resource.windows:
        return NEUTRAL_SCHEDULE, "Orari non indicati né dal bisogno né dalla risorsa: da concordare"
    if not need.windows:
        return NEUTRAL_SCHEDULE, "Il bisogno non indica orari: compatibilità da verificare"
    if not resource.windows:
        return NEUTRAL_SCHEDULE, "La risorsa non indica orari: disponibilità da concordare"
    asked = normalise(need.windows)
    offered = normalise(resource.windows)
    window_total = total_minutes(asked)
    quantity = need.quantity_per_week_minutes
    required = min(quantity, window_total) if quantity > 0 else window_total
    overlap = overlap_minutes(asked, offered)
    value = min(overlap / required, 1.0)
    if overlap == 0:
        return value, "Nessuna disponibilità negli orari richiesti"
    if required < window_total:
        # The need asks for fewer hours than its windows span: any part fits.
        if overlap >= required:
            asked_for = (
                "l'ora settimanale richiesta"
                if required == 60
                else f"le {hours_it(required)} ore settimanali richieste"
            )
            available = hours_count(overlap, "ora disponibile", "ore disponibili")
            return value, f"Copre {asked_for} ({available} negli orari indicati)"
        return value, (
            f"Disponibile {_of_hours(overlap, required, weekly=True)}, negli orari indicati"
        )
    days = per_day(asked, offered)
    if len(days) == 1:
        day, got, wanted = days[0]
        if got >= wanted:
            asked_for = (
                "tutta l'ora richiesta"
                if wanted == 60
                else f"tutte le {hours_it(wanted)} ore richieste"
            )
            return value, f"Disponibile per {asked_for} {on_day_it(day)}"
        return value, f"Disponibile {_of_hours(got, wanted)} {on_day_it(day)}"
    detail = ", ".join(f"{WEEKDAYS_IT[d]} {hours_it(g)} su {hours_it(w)}" for d, g, w in days)
    return value, f"Disponibile {_of_hours(overlap, window_total)} ({detail})"


def _capacity(resource: ResourceItem) -> tuple[float, str]:
    value = capacity_value(resource.capacity)
    if resource.capacity <= 0:
        return value, "Nessun posto disponibile"
    return value, count(resource.capacity, "posto disponibile", "posti disponibili")


def _home_it(resource: ResourceItem) -> str:
    """Where the resource is based, by name (by code when the name is not known)."""
    return comune_it(resource.home_comune or "", resource.home_comune_name)


def _proximity(need: NeedItem, resource: ResourceItem) -> tuple[float, str]:
    if resource.home_comune == need.comune:
        return 1.0, "Ha sede nel comune del bisogno"
    if resource.home_comune is None and resource.comuni == frozenset({need.comune}):
        return 1.0, "Opera solo nel comune del bisogno"
    serves = not resource.comuni or need.comune in resource.comuni
    if serves and need.location is not None and resource.home_location is not None:
        km = distance_km(need.location, resource.home_location)
        where = "" if resource.home_comune is None else f" (sede: {_home_it(resource)})"
        if not resource.comuni:
            return proximity_value(km), (
                f"Opera in tutto l'ambito, con sede a {km_it(km)} dal comune del bisogno{where}"
            )
        return proximity_value(km), f"Ha sede a {km_it(km)} dal comune del bisogno{where}"
    if not resource.comuni:
        return PROXIMITY_ELSEWHERE, "Opera in tutto l'ambito"
    if need.comune in resource.comuni:
        if resource.home_comune is not None:
            return PROXIMITY_ELSEWHERE, (
                f"Serve il comune del bisogno da un altro comune (sede: {_home_it(resource)})"
            )
        others = len(resource.comuni) - 1
        if others == 1:
            return PROXIMITY_ELSEWHERE, "Serve il comune del bisogno insieme a un altro comune"
        return PROXIMITY_ELSEWHERE, (
            f"Serve il comune del bisogno insieme ad altri {number(others, 0)} comuni"
        )
    return 0.0, "Non serve il comune del bisogno"


def _language(need: NeedItem, resource: ResourceItem) -> tuple[float, str]:
    if need.languages:
        shared = need.languages & resource.languages
        if shared:
            return 1.0, f"Lingua in comune: {language_names(shared)}"
        return 0.0, f"Nessuna lingua in comune (richieste: {language_names(need.languages)})"
    if not resource.languages or DEFAULT_LANGUAGE in resource.languages:
        return 1.0, "Nessuna lingua particolare richiesta"
    return LANGUAGE_NO_ITALIAN, (
        f"Nessuna lingua richiesta, ma la risorsa indica solo: {language_names(resource.languages)}"
    )


def _continuity(need: NeedItem, resource: ResourceItem) -> tuple[float, str]:
    if resource.holder_id in need.plan_holder_ids:
        return 1.0, "Già attivo in questo piano"
    return 0.0, "Non ancora coinvolto in questo piano"


def _load_spread(resource: ResourceItem) -> tuple[float, str]:
    value = load_spread_value(resource.holder_load)
    if resource.holder_load == 0:
        return value, "Nessun abbinamento attivo: impegno ben distribuito"
    active = count(resource.holder_load, "abbinamento attivo", "abbinamenti attivi")
    return value, f"Il titolare ha già {active}"


def _new_tie(resource: ResourceItem) -> tuple[float, str]:
    if resource.holder_is_new:
        return 1.0, "Realtà nuova nella rete: rafforza la coesione"
    return 0.0, "Già presente nella rete"


def _freshness(resource: ResourceItem) -> tuple[float, str]:
    days = resource.confirmed_days
    value = freshness_value(days, resource.remind_after_days, resource.stale_after_days)
    if days is None:
        return value, "Data dell'ultima conferma non nota"
    if days <= resource.remind_after_days:
        return value, f"Disponibilità confermata dal titolare {days_ago_it(days)}"
    if days < resource.stale_after_days:
        return value, (
            f"Disponibilità confermata {days_ago_it(days)}: conferma richiesta al titolare, "
            "verificare che sia ancora valida"
        )
    return value, (
        # stale_after_days > remind_after_days > 0: always plural.
        f"Disponibilità non confermata da {count(days, 'giorno', 'giorni')} (oltre i "
        f"{number(resource.stale_after_days, 0)} previsti): verificare con il titolare prima di "
        "proporla"
    )


def score(
    need: NeedItem, resource: ResourceItem, weights: Weights, taxonomy: Taxonomy
) -> Suggestion:
    """Score one pair and explain every component in Italian.

    It does not check compatibility (see `is_compatible`): an incompatible
    pair simply gets low component values where the definitions say so.
    """
    parts = {
        "category_fit": _category(need, resource, taxonomy),
        "schedule_overlap": _schedule(need, resource),
        "capacity": _capacity(resource),
        "proximity": _proximity(need, resource),
        "language": _language(need, resource),
        "continuity": _continuity(need, resource),
        "load_spread": _load_spread(resource),
        "new_tie": _new_tie(resource),
        "freshness": _freshness(resource),
    }
    components = tuple(
        Component(name=name, value=parts[name][0], weight=weight, reason=parts[name][1])
        for name, weight in weights.items()
    )
    acc = 0.0
    # Same order as the vectorised scorer, so that floats agree bit for bit.
    for name in ACCUMULATION_ORDER:
        acc += getattr(weights, name) * parts[name][0]
    return Suggestion(
        need_id=need.id,
        resource_id=resource.id,
        holder_id=resource.holder_id,
        score=acc / weights.total,
        components=components,
    )


assert set(ACCUMULATION_ORDER) == set(COMPONENT_NAMES), "every component is summed once"
