"""The questionnaire definition format: what a file in ``content/questionnaires/`` holds.

One engine serves the Quickcheck, the feedback after a run and the tandem profile.
Everything is decoded into Structs with unknown fields forbidden; the loader
(``core.quickcheck.loader``) runs the checks that span fields (references, band
coverage, option codes: ``core.quickcheck.checks`` and ``.conditions``).
``content/README.md`` documents the format in German.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from core.content.model import SLUG_PATTERN

Code = Annotated[str, msgspec.Meta(pattern=SLUG_PATTERN, max_length=80)]
NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]

# A text is German, or a mapping of language codes to texts that includes "de".
Text = NonEmpty | dict[str, NonEmpty]

DEFAULT_LANGUAGE = "de"

# The answer code of "keine Angabe / weiß nicht": excluded from every score.
UNKNOWN_CODE = "keine-angabe"
UNKNOWN_LABEL: dict[str, str] = {"de": "keine Angabe / weiß nicht", "en": "no answer / don't know"}

Status = Literal["draft", "published", "retired"]
ItemType = Literal[
    "single_choice", "multiple_choice", "likert", "yes_no", "number", "text", "ranking"
]
# Types whose answer is one option code.
SINGLE_CODE_TYPES = frozenset({"single_choice", "likert", "yes_no"})
CHOICE_TYPES = frozenset({*SINGLE_CODE_TYPES, "multiple_choice", "ranking"})
SCORED_TYPES = frozenset({*SINGLE_CODE_TYPES, "multiple_choice", "number"})

Ampel = Literal["rot", "gelb", "gruen"]
AMPEL_LABEL: dict[str, str] = {"rot": "Rot", "gelb": "Gelb", "gruen": "Grün"}

# The closed list of condition operators; nothing else is ever evaluated.
OPERATORS: dict[str, str] = {
    "eq": "the answer is value (an option code, number or text)",
    "ne": "the answer is not value (also true when unanswered)",
    "in": "the answer is one of value (a list)",
    "not_in": "the answer is none of value (a list; also true when unanswered)",
    "contains": "the list answer (multiple choice, ranking) includes the code value",
    "gt": "the number answer is greater than value",
    "gte": "the number answer is at least value",
    "lt": "the number answer is less than value",
    "lte": "the number answer is at most value",
    "answered": "the item has an answer other than 'keine Angabe' (value: true or false)",
}


def text_in(text: Text | None, language: str = DEFAULT_LANGUAGE) -> str:
    """``text`` in ``language``, falling back to German."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    return text.get(language) or text.get(DEFAULT_LANGUAGE, "")


class Option(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, omit_defaults=True
):
    code: Code
    label: Text
    # Points for scored items; the item's score runs from its lowest to its highest option.
    score: float | None = None


class Scale(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, omit_defaults=True
):
    """A named answer scale shared by Likert items (e.g. 'trifft zu' ... 'trifft nicht zu')."""

    id: Code
    options: Annotated[list[Option], msgspec.Meta(min_length=2)]


class Condition(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, omit_defaults=True
):
    """``{all: [...]}``, ``{any: [...]}``, ``{not: {...}}`` or ``{item, op, value}``."""

    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = msgspec.field(default=None, name="not")
    item: Code | None = None
    op: str | None = None
    value: Any = None


class Item(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, omit_defaults=True
):
    id: Code
    type: ItemType
    text: Text
    # Per-perspective wording; a perspective not listed gets ``text``.
    wording: dict[str, Text] = {}
    help: Text | None = None
    # Asked only in these perspectives (default: all of the questionnaire's).
    perspectives: list[Code] | None = None
    dimension: Code | None = None
    weight: Annotated[float, msgspec.Meta(ge=0)] = 1.0
    reverse: bool = False
    required: bool = True
    options: list[Option] = []
    # Likert items name a scale instead of listing options.
    scale: Code | None = None
    # Offer "keine Angabe / weiß nicht" (code keine-angabe); never scored, never zero.
    allow_unknown: bool = False
    visible_if: Condition | None = None
    # number: the allowed range; a scored number maps min..max onto 0..100.
    min: float | None = None
    max: float | None = None
    unit: Text | None = None
    # multiple_choice / ranking: how many codes may be chosen or ranked.
    min_choices: Annotated[int, msgspec.Meta(ge=0)] | None = None
    max_choices: Annotated[int, msgspec.Meta(ge=1)] | None = None
    # text: the longest answer accepted.
    max_length: Annotated[int, msgspec.Meta(ge=1, le=5000)] = 1000


class BandWording(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, omit_defaults=True
):
    """What a band says to one perspective instead of its general title, text and
    recommendations (e.g. the management is not told to "win over the management")."""

    title: Text | None = None
    text: Text | None = None
    # None: the band's recommendations; a list (also empty) replaces them.
    recommendations: list[NonEmpty] | None = None


class Band(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, omit_defaults=True
):
    """A score range ``from`` (inclusive) ``to`` (exclusive; the last band includes 100)."""

    from_: float = msgspec.field(name="from")
    to: float
    ampel: Ampel
    title: Text
    text: Text
    # In order of priority: the first ones become the result's next steps.
    recommendations: list[NonEmpty] = []
    # Per perspective id: what differs for that perspective (see BandWording).
    for_perspective: dict[Code, BandWording] = {}

    def title_for(self, perspective: str | None) -> Text:
        wording = self.for_perspective.get(perspective or "")
        return wording.title if wording and wording.title is not None else self.title

    def text_for(self, perspective: str | None) -> Text:
        wording = self.for_perspective.get(perspective or "")
        return wording.text if wording and wording.text is not None else self.text

    def recommendations_for(self, perspective: str | None) -> list[str]:
        wording = self.for_perspective.get(perspective or "")
        if wording and wording.recommendations is not None:
            return list(wording.recommendations)
        return list(self.recommendations)


class Dimension(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, omit_defaults=True
):
    id: Code
    title: Text
    description: Text | None = None
    weight: Annotated[float, msgspec.Meta(ge=0)] = 1.0
    bands: list[Band] = []


class Perspective(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, omit_defaults=True
):
    id: Code
    label: Text
    # Shown above the questions, e.g. "Beantworten Sie die Fragen aus Sicht ...".
    intro: Text | None = None


# What the Lotse notes about a pair in a pool (never asked in a profile): the two work in
# the same team, one is the other's direct supervisor, or they should not form a tandem.
MarkingKind = Literal["gleiches-team", "berichtslinie", "nicht-mit"]


class CriterionTexts(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, omit_defaults=True
):
    """Explanations of a fit criterion. Placeholders: {gemeinsam}, {mentor}, {mentee}; rule
    ``windows`` also {tage}, {mentor_tage}, {mentee_tage}."""

    match: Text
    partial: Text | None = None
    none: Text
    # rule windows: added when either person works in a rotating pattern (``rotating``).
    rotating: Text | None = None


class CriterionNote(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, omit_defaults=True
):
    """A sentence added to a criterion's explanation when either profile's answer to
    ``item`` names one of ``codes`` (e.g. block release at the vocational school)."""

    item: Code
    codes: Annotated[list[Code], msgspec.Meta(min_length=1)]
    text: Text


class Criterion(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, omit_defaults=True
):
    """One fit criterion of the tandem check, computed from the two profiles' answers.

    rule ``overlap``: the codes the mentor chose in ``mentor_item`` against those the mentee
    chose in ``mentee_item`` (share of the mentee's codes the mentor covers).
    rule ``same``: both chose the same code in ``item``; ``compatible`` pairs count half.
    rule ``similarity``: Likert ``items`` answered alike (1 - mean distance on the scale).
    rule ``reverse_overlap``: as ``overlap`` in the other direction, the share of the
    mentor's codes (e.g. what she wants to learn) that the mentee chose (what he can pass on).
    rule ``windows``: time in the company at the same time: ``item`` (one code per person,
    e.g. the working time or shift) maps through ``windows`` to ``slots`` of the day;
    ``days_item`` (multiple choice) lists the weekdays the person is away (e.g. vocational
    school days), its options being all weekdays. Two common slots on two common days count
    fully, one half; a code in ``rotating`` (alternating shifts) halves the score.
    rule ``different``: 1 for different codes in ``item`` (another part of the company),
    0.5 for the same; 0 when the Lotse marked the pair with ``marking``.
    """

    id: Code
    title: Text
    rule: Literal["overlap", "same", "similarity", "reverse_overlap", "windows", "different"]
    weight: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    item: Code | None = None
    mentor_item: Code | None = None
    mentee_item: Code | None = None
    items: list[Code] = []
    compatible: list[Annotated[list[Code], msgspec.Meta(min_length=2, max_length=2)]] = []
    # rule windows
    days_item: Code | None = None
    slots: list[Option] = []
    windows: dict[Code, list[Code]] = {}
    rotating: list[Code] = []
    notes: list[CriterionNote] = []
    # rule different: the pair marking that scores the criterion 0
    marking: MarkingKind | None = None
    texts: CriterionTexts


class Exclusion(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, omit_defaults=True
):
    """Rules a pair out whatever the score: either profile's answer meets ``when``."""

    id: Code
    title: Text
    text: Text
    item: Code
    # The codes that exclude (e.g. [ja]); checked in both profiles.
    codes: Annotated[list[Code], msgspec.Meta(min_length=1)]


class Matching(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, omit_defaults=True
):
    """The tandem fit check of a profile questionnaire with perspectives mentor and mentee."""

    mentor: Code
    mentee: Code
    criteria: Annotated[list[Criterion], msgspec.Meta(min_length=1)]
    exclusions: list[Exclusion] = []
    bands: Annotated[list[Band], msgspec.Meta(min_length=1)]


class Questionnaire(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, omit_defaults=True
):
    id: Code
    version: Annotated[int, msgspec.Meta(ge=1)]
    status: Status
    # assessment: a Quickcheck with bands; feedback: evaluation after a run;
    # profile: answers compared by the tandem check (``matching``).
    purpose: Literal["assessment", "feedback", "profile"]
    title: Text
    description: Text | None = None
    # Said before the first question (anonymity, how long it takes).
    intro: Text | None = None
    perspectives: Annotated[list[Perspective], msgspec.Meta(min_length=1)]
    scales: list[Scale] = []
    dimensions: list[Dimension] = []
    items: Annotated[list[Item], msgspec.Meta(min_length=1)]
    # Bands of the overall score (the weighted mean of the dimension scores).
    bands: list[Band] = []
    matching: Matching | None = None


class LoadedQuestionnaire(msgspec.Struct, frozen=True, kw_only=True):
    """A validated definition with where it came from and its canonical hash."""

    definition: Questionnaire
    source: str  # the plugin that contributed it
    source_path: str
    hash: str


def canonical_hash(definition: Questionnaire) -> str:
    """The SHA-256 of the definition without its status, with keys in a fixed order.

    Status is left out so that retiring a published version is not a content change.
    Fields at their default are left out too, so a later engine that adds an optional
    field does not change the hash of what was published before.
    """
    import hashlib

    data = msgspec.to_builtins(msgspec.structs.replace(definition, status="published"))
    encoded = msgspec.json.encode(data, order="sorted")
    return hashlib.sha256(encoded).hexdigest()
