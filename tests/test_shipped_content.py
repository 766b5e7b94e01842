"""The toolbox we ship: valid, complete across the taxonomy, and free of invented contact data."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from click.testing import CliRunner

from core.cli import main
from core.content.model import ContentSet


def test_content_check_passes_on_the_shipped_content() -> None:
    result = CliRunner().invoke(
        main,
        ["content", "check"],
        env={"MENTORING40_LOAD_PLUGINS": None, "MENTORING40_CONTENT_DIR": None},
    )
    assert result.exit_code == 0, result.output
    assert re.match(
        r"Content OK: \d+ entries and \d+ questionnaire versions from core, nrw\.", result.output
    )


def test_at_least_30_core_and_5_nrw_entries(shipped_content_set: ContentSet) -> None:
    by_source = Counter(
        entry.source for entry in shipped_content_set.entries if entry.status == "published"
    )
    assert by_source["core"] >= 30
    assert by_source["nrw"] >= 5


@pytest.mark.parametrize("dimension", ["topics", "phases", "audiences", "kinds"])
def test_every_taxonomy_term_has_published_entries(
    shipped_content_set: ContentSet, dimension: str
) -> None:
    used: Counter[str] = Counter()
    for entry in shipped_content_set.entries:
        values = getattr(entry, "kind" if dimension == "kinds" else dimension)
        used.update([values] if isinstance(values, str) else values)
    empty = [t.slug for t in shipped_content_set.terms(dimension) if used[t.slug] == 0]
    assert empty == []


def test_entries_have_the_sections_a_lotse_relies_on(shipped_content_set: ContentSet) -> None:
    required = [
        "## Wozu",
        "## Wann einsetzen",
        "## Ablauf",
        "## Worauf achten",
        "## Variante für Kleinstbetriebe",
    ]
    for entry in shipped_content_set.entries:
        missing = [h for h in required if h not in entry.body_markdown]
        assert missing == [], f"{entry.source_path} lacks {missing}"
        assert entry.duration, f"{entry.source_path} has no duration"
        assert len(entry.body_markdown.split()) >= 250, f"{entry.source_path} is too thin"


# Invented facts are a defect: no web addresses, e-mail addresses or phone numbers.
CONTACT_PATTERNS = {
    "web address": re.compile(r"https?://|www\.", re.IGNORECASE),
    "e-mail address": re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"),
    "phone number": re.compile(r"\b0\d{2,5}[ /-]?\d{3,}"),
}


def test_no_invented_contact_data(shipped_content_set: ContentSet) -> None:
    for entry in shipped_content_set.entries:
        text = entry.title + entry.summary + entry.body_markdown
        for what, pattern in CONTACT_PATTERNS.items():
            assert not pattern.search(text), f"{entry.source_path} contains a {what}"
