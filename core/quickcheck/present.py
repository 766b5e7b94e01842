"""What the API shows of definitions and results, in one language (falling back to German)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from core.content.markdown import entry_url
from core.db.tables import Entry
from core.quickcheck.engine import DimensionScore, Scores, options_of
from core.quickcheck.model import (
    AMPEL_LABEL,
    UNKNOWN_CODE,
    UNKNOWN_LABEL,
    Band,
    Item,
    Questionnaire,
    Text,
    text_in,
)
from core.quickcheck.next_steps import choose_next_steps
from core.quickcheck.overlay import Overlay


class OptionDoc(msgspec.Struct, frozen=True):
    code: str
    label: str


class PerspectiveDoc(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    label: str
    intro: str | None = None


class DimensionDoc(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    title: str
    description: str | None


class ItemDoc(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    id: str
    type: str
    text: str
    required: bool
    # Without ?perspective=: the wording of each perspective that differs from ``text``.
    wording: dict[str, str] = {}
    help: str | None = None
    perspectives: list[str] | None = None
    dimension: str | None = None
    options: list[OptionDoc] = []
    # The declarative visibility tree ({all|any|not|item,op,value}); evaluate it client-side
    # to hide items, the server checks it again.
    visible_if: dict[str, Any] | None = None
    min: float | None = None
    max: float | None = None
    unit: str | None = None
    min_choices: int | None = None
    max_choices: int | None = None
    max_length: int | None = None


class VersionRef(msgspec.Struct, frozen=True):
    version: int
    status: str


class QuestionnaireDoc(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    version: int
    status: str
    purpose: str
    hash: str
    title: str
    description: str | None
    intro: str | None
    language: str
    perspective: str | None
    perspectives: list[PerspectiveDoc]
    dimensions: list[DimensionDoc]
    items: list[ItemDoc]
    versions: list[VersionRef]
    has_tandem_check: bool


def _opt(text: Text | None, lang: str) -> str | None:
    return text_in(text, lang) if text is not None else None


def perspectives_doc(d: Questionnaire, lang: str) -> list[PerspectiveDoc]:
    return [
        PerspectiveDoc(id=p.id, label=text_in(p.label, lang), intro=_opt(p.intro, lang))
        for p in d.perspectives
    ]


def definition_doc(
    d: Questionnaire,
    hash_: str,
    status: str,
    versions: list[tuple[int, str]],
    lang: str,
    perspective: str | None,
) -> QuestionnaireDoc:
    items = []
    for item in d.items:
        if perspective is not None and item.perspectives and perspective not in item.perspectives:
            continue
        items.append(item_doc(d, item, lang, perspective))
    return QuestionnaireDoc(
        id=d.id,
        version=d.version,
        status=status,
        purpose=d.purpose,
        hash=hash_,
        title=text_in(d.title, lang),
        description=_opt(d.description, lang),
        intro=_opt(d.intro, lang),
        language=lang,
        perspective=perspective,
        perspectives=perspectives_doc(d, lang),
        dimensions=[
            DimensionDoc(
                id=dim.id, title=text_in(dim.title, lang), description=_opt(dim.description, lang)
            )
            for dim in d.dimensions
        ],
        items=items,
        versions=[VersionRef(v, s) for v, s in versions],
        has_tandem_check=d.matching is not None,
    )


def item_doc(d: Questionnaire, item: Item, lang: str, perspective: str | None) -> ItemDoc:
    options = [OptionDoc(o.code, text_in(o.label, lang)) for o in options_of(d, item)]
    if item.allow_unknown:
        options.append(OptionDoc(UNKNOWN_CODE, text_in(UNKNOWN_LABEL, lang)))
    if perspective is not None:
        text = text_in(item.wording.get(perspective, item.text), lang)
        wording = {}
    else:
        text = text_in(item.text, lang)
        wording = {p: text_in(w, lang) for p, w in item.wording.items()}
    return ItemDoc(
        id=item.id,
        type=item.type,
        text=text,
        required=item.required,
        wording=wording,
        help=_opt(item.help, lang),
        perspectives=item.perspectives,
        dimension=item.dimension,
        options=options,
        visible_if=msgspec.to_builtins(item.visible_if) if item.visible_if else None,
        min=item.min,
        max=item.max,
        unit=_opt(item.unit, lang),
        min_choices=item.min_choices,
        max_choices=item.max_choices,
        max_length=item.max_length if item.type == "text" else None,
    )


# -- results ------------------------------------------------------------------------------


class Recommendation(msgspec.Struct, frozen=True, kw_only=True):
    slug: str
    title: str
    summary: str
    url: str


class ScoreDoc(msgspec.Struct, frozen=True, kw_only=True):
    id: str | None
    title: str
    score: float | None
    counted: int
    asked: int
    unknown: int
    ampel: str | None
    ampel_label: str | None
    band_title: str | None
    text: str
    # The score and what it rests on, in words (for people, not for statistics).
    in_words: str
    basis: str
    recommendations: list[Recommendation]
    # The region's own entries for this band, from the overlay of the site the response
    # was submitted on (core.quickcheck.overlay); empty elsewhere.
    regional: list[Recommendation] = []


class NextStepDoc(msgspec.Struct, frozen=True, kw_only=True):
    """One of the result's next steps: an entry and the area whose result suggests it."""

    slug: str
    title: str
    summary: str
    url: str
    dimension: str | None
    dimension_title: str
    ampel: str | None


class QuestionnaireRef(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    version: int
    title: str
    hash: str


class ResultDoc(msgspec.Struct, frozen=True, kw_only=True):
    token: str
    url: str
    questionnaire: QuestionnaireRef
    perspective: PerspectiveDoc
    mode: str
    submitted_on: str
    engine_version: str
    answers: dict[str, Any]
    dimensions: list[ScoreDoc]
    overall: ScoreDoc | None
    # Three entries to start with, for this perspective, none twice, weakest area first.
    next_steps: list[NextStepDoc]
    # The partner site the response was submitted on, and, when that site recommends its
    # own entries (an overlay), its label: "recommended by" for ``regional``.
    site: str | None = None
    region: str | None = None


NO_SCORE_TEXT = {
    "de": "Zu dieser Dimension liegen keine gezählten Antworten vor (nur „keine Angabe“ oder "
    "übersprungen); eine Einschätzung ist deshalb nicht möglich.",
    "en": "No counted answers for this dimension (only 'no answer' or skipped), so there is "
    "no assessment.",
}
OVERALL_TITLE = {"de": "Gesamtergebnis", "en": "Overall result"}

# A score in words: the upper end (exclusive, the last includes 100) and the phrase.
SCORE_WORDS: list[tuple[float, dict[str, str]]] = [
    (15, {"de": "Hier ist kaum etwas davon erreicht.", "en": "Hardly any of it is in place."}),
    (30, {"de": "Hier ist erst wenig davon erreicht.", "en": "Little of it is in place yet."}),
    (45, {"de": "Hier ist etwa ein Drittel erreicht.", "en": "About a third is in place."}),
    (55, {"de": "Hier ist etwa die Hälfte erreicht.", "en": "About half is in place."}),
    (65, {"de": "Hier ist gut die Hälfte erreicht.", "en": "More than half is in place."}),
    (75, {"de": "Hier sind etwa zwei Drittel erreicht.", "en": "About two thirds are in place."}),
    (90, {"de": "Hier ist das meiste erreicht.", "en": "Most of it is in place."}),
    (101, {"de": "Hier ist fast alles erreicht.", "en": "Nearly all of it is in place."}),
]


def score_in_words(score: float | None, lang: str) -> str:
    """``score`` (0–100) as a plain sentence, e.g. "Hier ist etwa ein Drittel erreicht."."""
    if score is None:
        return ""
    return text_in(next(words for upper, words in SCORE_WORDS if score < upper), lang)


def basis_in_words(s: DimensionScore, lang: str) -> str:
    """How many answers a score rests on, e.g. "Beruht auf 4 von 5 Fragen; eine haben
    Sie mit „keine Angabe“ beantwortet."."""
    if lang != "de":
        unknown = f"; {s.unknown} answered 'no answer'" if s.unknown else ""
        return f"Based on {s.counted} of {s.asked} questions{unknown}."
    if s.asked == 0:
        return "Zu diesem Bereich wurde keine Frage gestellt."
    if s.counted == s.asked:
        return (
            "Beruht auf allen Ihren Antworten zu diesem Bereich."
            if s.asked > 1
            else ("Beruht auf Ihrer Antwort zu diesem Bereich.")
        )
    said = "eine" if s.unknown == 1 else str(s.unknown)
    unknown = (
        f"; {said} haben Sie mit „keine Angabe“ beantwortet, das zählt nicht mit"
        if s.unknown
        else ""
    )
    return f"Beruht auf {s.counted} von {s.asked} Fragen{unknown}."


async def entry_refs(slugs: set[str]) -> dict[str, Recommendation]:
    """Published entries by slug, for recommendations (missing ones are left out)."""
    if not slugs:
        return {}
    rows = await Entry.select(Entry.slug, Entry.title, Entry.summary).where(
        Entry.slug.is_in(sorted(slugs)) & (Entry.status == "published")
    )
    return recommendations((r["slug"], r["title"], r["summary"]) for r in rows)


def recommendations(found: Iterable[tuple[str, str, str]]) -> dict[str, Recommendation]:
    """(slug, title, summary) of published entries as recommendations by slug."""
    return {
        slug: Recommendation(slug=slug, title=title, summary=summary, url=entry_url(slug))
        for slug, title, summary in found
    }


def _band(bands: list[Band], s: DimensionScore) -> Band | None:
    return bands[s.band] if s.band is not None else None


def _recommended(bands: list[Band], s: DimensionScore, perspective: str) -> list[str]:
    band = _band(bands, s)
    return band.recommendations_for(perspective) if band else []


def _regional(
    d: Questionnaire, overlay: Overlay | None, s: DimensionScore, bands: list[Band]
) -> list[str]:
    if overlay is None or s.band is None:
        return []
    return overlay.regional(d.id, s.id, bands[s.band].ampel)


def recommended_slugs(
    d: Questionnaire, scores: Scores, perspective_id: str, overlay: Overlay | None
) -> set[str]:
    """The entries a result of ``scores`` may recommend (the overlay's hidden ones left
    out); ``result_doc`` shows those that are published."""
    dims = {dim.id: dim for dim in d.dimensions}
    scored = [(s, dims[s.id or ""].bands) for s in scores.dimensions]
    if scores.overall is not None:
        scored.append((scores.overall, d.bands))
    wanted = {
        slug
        for s, bands in scored
        for slug in _recommended(bands, s, perspective_id) + _regional(d, overlay, s, bands)
    }
    return wanted - (overlay.hidden if overlay else frozenset())


async def result_doc(
    d: Questionnaire,
    row: dict[str, Any],
    token: str,
    lang: str,
    overlay: Overlay | None = None,
    refs: dict[str, Recommendation] | None = None,
) -> ResultDoc:
    """The stored response ``row`` as the result a user sees, worded for its perspective;
    ``overlay``: the region's recommendations of the site it was submitted on (its hidden
    entries left out). ``refs``: the published ones of its ``recommended_slugs`` if the
    caller has read them already, else they are read here."""
    scores = msgspec.convert(row["result"], Scores)
    perspective_id: str = row["perspective"]
    dims = {dim.id: dim for dim in d.dimensions}
    shown = (
        refs
        if refs is not None
        else await entry_refs(recommended_slugs(d, scores, perspective_id, overlay))
    )

    def regional(s: DimensionScore, bands: list[Band]) -> list[str]:
        return _regional(d, overlay, s, bands)

    def doc(s: DimensionScore, title: Text, bands: list[Band]) -> ScoreDoc:
        band = _band(bands, s)
        own = [shown[slug] for slug in regional(s, bands) if slug in shown]
        return ScoreDoc(
            id=s.id,
            title=text_in(title, lang),
            score=s.score,
            counted=s.counted,
            asked=s.asked,
            unknown=s.unknown,
            ampel=band.ampel if band else None,
            ampel_label=AMPEL_LABEL[band.ampel] if band else None,
            band_title=text_in(band.title_for(perspective_id), lang) if band else None,
            text=text_in(band.text_for(perspective_id), lang)
            if band
            else text_in(NO_SCORE_TEXT, lang),
            in_words=score_in_words(s.score, lang),
            basis=basis_in_words(s, lang),
            recommendations=[
                shown[slug]
                for slug in _recommended(bands, s, perspective_id)
                if slug in shown and shown[slug] not in own
            ],
            regional=own,
        )

    dimensions = [doc(s, dims[s.id or ""].title, dims[s.id or ""].bands) for s in scores.dimensions]
    overall = None if scores.overall is None else doc(scores.overall, OVERALL_TITLE, d.bands)
    by_id = {s.id: s for s in dimensions}
    next_steps = []
    for step in choose_next_steps(d, scores, perspective_id, set(shown)):
        ref = shown[step.slug]
        area = by_id.get(step.dimension) if step.dimension else overall
        next_steps.append(
            NextStepDoc(
                slug=ref.slug,
                title=ref.title,
                summary=ref.summary,
                url=ref.url,
                dimension=step.dimension,
                dimension_title=area.title if area else "",
                ampel=area.ampel if area else None,
            )
        )
    perspective = next(p for p in perspectives_doc(d, lang) if p.id == perspective_id)
    return ResultDoc(
        token=token,
        url=f"/api/v1/results/{token}",
        questionnaire=QuestionnaireRef(
            id=d.id, version=d.version, title=text_in(d.title, lang), hash=row["definition_hash"]
        ),
        perspective=perspective,
        mode=row["mode"],
        submitted_on=str(row["submitted_on"]),
        engine_version=row["engine_version"],
        answers=row["answers"],
        dimensions=dimensions,
        overall=overall,
        next_steps=next_steps,
        site=row.get("site"),
        region=overlay.label if overlay else None,
    )
