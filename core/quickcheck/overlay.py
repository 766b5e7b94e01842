"""A region's recommendation overlay on a published questionnaire.

A region's site may name its own entries for a Quickcheck band (by dimension and Ampel,
or for the overall result). The overlay is applied when a result is shown: the
questionnaire's definition, version and hash stay as published, and the stored answers
and scores are the same as anywhere else. The response records the site it was
submitted on, so its result shows that site's overlay wherever it is opened, and the
statistics can be read per site (``store.responses(..., sites=...)``).
"""

from __future__ import annotations

import msgspec

from core.quickcheck.model import Ampel

# Ampel -> slugs of the region's entries recommended in a band of that colour.
BandEntries = dict[Ampel, list[str]]


class QuestionnaireOverlay(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a site's file says under ``recommendations.<questionnaire id>``."""

    overall: BandEntries = msgspec.field(default_factory=dict)
    dimensions: dict[str, BandEntries] = msgspec.field(default_factory=dict)


class Overlay(msgspec.Struct, frozen=True, kw_only=True):
    """The overlays of one site, ready to apply to its results."""

    site: str
    # Who recommends: the site's label, shown above the region's recommendations.
    label: str
    questionnaires: dict[str, QuestionnaireOverlay]
    # Entries the site hides: never recommended there, neither by the core nor the region.
    hidden: frozenset[str] = frozenset()

    def regional(
        self, questionnaire_id: str, dimension: str | None, ampel: str | None
    ) -> list[str]:
        """The region's entries for a band (``dimension`` None: the overall result)."""
        found = self.questionnaires.get(questionnaire_id)
        if found is None or ampel is None:
            return []
        bands = found.overall if dimension is None else found.dimensions.get(dimension, {})
        return list(bands.get(ampel, []))  # type: ignore[call-overload]
