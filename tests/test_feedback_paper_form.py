"""The paper form in the toolbox (entry feedbackbogen-durchlauf) is the print version of
the shipped feedback questionnaire: the same items in the same order, with the same
scale and options, so answers on paper and online can be evaluated together."""

from __future__ import annotations

import re

import pytest

from core.content.collect import load_all
from core.content.model import ContentSet, Entry
from core.plugins import build_registry
from core.quickcheck.engine import options_of
from core.quickcheck.model import UNKNOWN_LABEL, Item, Questionnaire, text_in
from core.settings import Settings
from tests.conftest import SHIPPED_CONTENT

PAPER_FORM = "feedbackbogen-durchlauf"
QUESTIONNAIRE = "feedback-durchlauf"
# How the paper form names the perspectives when an item has a wording per role.
ROLE_LABELS = {"mentee": "**Mentee:**", "mentor": "**Mentorin oder Mentor:**"}

# An item is a table row "| 3 | text | ☐ | ..." or a paragraph "**16.** text" whose next
# line lists the options.
ROW = re.compile(r"^\| (\d+) \| (.+?) \|", re.MULTILINE)
PARAGRAPH = re.compile(r"^\*\*(\d+)\.\*\* (.+)\n(.+)$", re.MULTILINE)
HEADER = re.compile(r"^\| Nr\. \| Aussage \|(.+)\|$", re.MULTILINE)


@pytest.fixture(scope="module")
def shipped() -> tuple[ContentSet, Questionnaire]:
    settings = Settings(content_dir=SHIPPED_CONTENT)
    loaded, problems = load_all(build_registry(settings), settings)
    assert problems == [], "\n".join(map(str, problems))
    feedback = next(q for q in loaded.questionnaires if q.definition.id == QUESTIONNAIRE)
    return loaded, feedback.definition


def _form(content: ContentSet) -> str:
    entry: Entry = next(e for e in content.entries if e.slug == PAPER_FORM)
    match = re.search(r"^## Vorlage\n(.*?)(?=^## )", entry.body_markdown, re.MULTILINE | re.DOTALL)
    assert match, f"{entry.source_path} has no section „## Vorlage“"
    return match.group(1)


def _paper_items(form: str) -> dict[int, tuple[str, str | None]]:
    """Number -> (text, options line or None for a table row)."""
    items: dict[int, tuple[str, str | None]] = {int(m[1]): (m[2], None) for m in ROW.finditer(form)}
    for m in PARAGRAPH.finditer(form):
        items[int(m[1])] = (m[2], m[3])
    return dict(sorted(items.items()))


def _texts(q: Questionnaire, item: Item) -> list[str]:
    """What the paper must say for the item: one text, or each role's own wording."""
    if not item.wording:
        return [text_in(item.text)]
    return [
        f"{ROLE_LABELS[p.id]} {text_in(item.wording.get(p.id, item.text))}" for p in q.perspectives
    ]


def _labels(q: Questionnaire, item: Item) -> list[str]:
    labels = [text_in(o.label) for o in options_of(q, item)]
    return labels + [UNKNOWN_LABEL["de"]] * item.allow_unknown


def test_the_paper_form_asks_every_item_in_the_questionnaires_order(
    shipped: tuple[ContentSet, Questionnaire],
) -> None:
    content, q = shipped
    paper = _paper_items(_form(content))
    assert list(paper) == list(range(1, len(q.items) + 1)), (
        f"the paper form numbers {list(paper)}; the questionnaire has {len(q.items)} items"
    )
    for number, item in enumerate(q.items, start=1):
        text, _ = paper[number]
        for expected in _texts(q, item):
            assert expected in text, f"paper item {number} should read „{expected}“ ({item.id})"


def test_the_paper_form_offers_the_questionnaires_scale_and_options(
    shipped: tuple[ContentSet, Questionnaire],
) -> None:
    content, q = shipped
    form = _form(content)
    paper = _paper_items(form)
    headers = [[c.strip() for c in m[1].split("|")] for m in HEADER.finditer(form)]
    likert = [i for i in q.items if i.type == "likert"]
    # One table per dimension, each with the questionnaire's scale in its order.
    assert headers, "the paper form has no scale table"
    for header in headers:
        assert header == _labels(q, likert[0]), f"scale on paper {header}"
    for number, item in enumerate(q.items, start=1):
        _, options = paper[number]
        if item.type == "likert":
            assert options is None, f"paper item {number} ({item.id}) belongs in a scale table"
            assert _labels(q, item) == headers[0]
        elif item.type == "text":
            assert options is not None, f"paper item {number} ({item.id}) has no answer line"
            assert "☐" not in options, f"paper item {number} ({item.id}) is free text"
        else:
            assert options is not None, f"paper item {number} ({item.id}) lists no options"
            boxes = [o.strip() for o in options.split("☐") if o.strip()]
            assert boxes == _labels(q, item), f"paper item {number} ({item.id}): {boxes}"


def test_the_paper_form_links_to_the_questionnaire(
    shipped: tuple[ContentSet, Questionnaire],
) -> None:
    content, _ = shipped
    entry = next(e for e in content.entries if e.slug == PAPER_FORM)
    assert f'data-questionnaire="{QUESTIONNAIRE}"' in entry.body_html
