"""What a run is made of: the fixed lists, the states and phases, the structs."""

from __future__ import annotations

import datetime as dt

import msgspec

QUICKCHECK_ID = "quickcheck-reverse-mentoring"
FEEDBACK_ID = "feedback-durchlauf"
PROFILE_ID = "tandem-profil"  # the tandem profile of the matching pool (core.runs.pool)
MANAGEMENT = "unternehmen"
EMPLOYEES = "mitarbeitende"
BARRIER_ITEM = "barrieren-rangfolge"

# phase -> questionnaire and the perspectives that get a link in it
PHASES: dict[str, tuple[str, tuple[str, ...]]] = {
    "start": (QUICKCHECK_ID, (MANAGEMENT, EMPLOYEES)),
    "ende": (QUICKCHECK_ID, (MANAGEMENT, EMPLOYEES)),
    "feedback": (FEEDBACK_ID, ("mentor", "mentee")),
    # The matching pool: each answer carries a pseudonym and joins the pool, not the views.
    "profil": (PROFILE_ID, ("mentor", "mentee")),
}
PHASE_LABEL = {
    "start": "Quickcheck zu Beginn",
    "ende": "Wiederholungsmessung am Ende",
    "feedback": "Feedback nach dem Durchlauf",
    "profil": "Tandem-Profile für die Tandembildung",
}
PERSPECTIVE_LABEL = {
    MANAGEMENT: "Geschäftsführung",
    EMPLOYEES: "Beschäftigte",
    "mentor": "Mentorinnen und Mentoren",
    "mentee": "Mentees",
}

STATES = {"laeuft": "läuft", "abgeschlossen": "abgeschlossen"}

# Coarse on purpose: fine lists would make single companies recognisable in the dashboard.
REGIONS = {
    "baden-wuerttemberg": "Baden-Württemberg",
    "bayern": "Bayern",
    "berlin": "Berlin",
    "brandenburg": "Brandenburg",
    "bremen": "Bremen",
    "hamburg": "Hamburg",
    "hessen": "Hessen",
    "mecklenburg-vorpommern": "Mecklenburg-Vorpommern",
    "niedersachsen": "Niedersachsen",
    "nordrhein-westfalen": "Nordrhein-Westfalen",
    "rheinland-pfalz": "Rheinland-Pfalz",
    "saarland": "Saarland",
    "sachsen": "Sachsen",
    "sachsen-anhalt": "Sachsen-Anhalt",
    "schleswig-holstein": "Schleswig-Holstein",
    "thueringen": "Thüringen",
}
SECTORS = {
    "handwerk": "Handwerk",
    "industrie": "Industrie und Produktion",
    "handel": "Handel",
    "dienstleistung": "Dienstleistungen",
    "gesundheit-soziales": "Gesundheit und Soziales",
    "verwaltung": "Öffentliche Verwaltung",
    "sonstige": "Sonstige Branche",
}
# Head-count bands of the EU definition of small and medium-sized enterprises.
SIZE_CLASSES = {
    "kleinst": "unter 10 Beschäftigte",
    "klein": "10 bis 49 Beschäftigte",
    "mittel": "50 bis 249 Beschäftigte",
    "gross": "250 Beschäftigte und mehr",
}


class RunIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A new run, as a Lotse or an API client sends it."""

    company: str
    site: str
    region: str
    sector: str
    size_class: str
    starts_on: dt.date
    ends_on: dt.date


class CodeInfo(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    run_id: int
    questionnaire_id: str
    perspective: str
    phase: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class RunInfo(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    owner_account: int | None
    company: str
    site: str
    region: str
    sector: str
    size_class: str
    starts_on: dt.date
    ends_on: dt.date
    state: str
    created_at: dt.datetime
    closed_at: dt.datetime | None
    codes: list[CodeInfo] = []
    responses: dict[str, int] = {}  # "<phase>/<perspective>" -> count (for the owner only)

    def code_for(self, phase: str, perspective: str) -> CodeInfo | None:
        found = [c for c in self.codes if c.phase == phase and c.perspective == perspective]
        return found[-1] if found else None


def labels() -> dict[str, dict[str, str]]:
    """Every fixed list with its German labels (for forms and the API)."""
    return {
        "regions": dict(REGIONS),
        "sectors": dict(SECTORS),
        "size_classes": dict(SIZE_CLASSES),
        "states": dict(STATES),
        "phases": dict(PHASE_LABEL),
        "perspectives": dict(PERSPECTIVE_LABEL),
    }
