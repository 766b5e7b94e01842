"""Markdown to sanitised HTML, and the links between entries found in a body.

Links to other entries are written as relative file links (``[Text](slug.md)``),
which also work when the content is read on a code host. They are rendered as
links to the entry's API resource with a ``data-entry`` attribute, so a theme
or partner site can point them at its own page for that entry.

Links to a questionnaire are written the same way, as the relative path of its file
(``[Feedback](../questionnaires/feedback-durchlauf.yaml)``); they are rendered as links
to the questionnaire's API resource with a ``data-questionnaire`` attribute, and the pages
point them at the questionnaire's form.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

ENTRY_LINK_RE = re.compile(r"^(?:\.{1,2}/|[\w.-]+/)*([a-z0-9]+(?:-[a-z0-9]+)*)\.md(#[\w-]*)?$")
QUESTIONNAIRE_LINK_RE = re.compile(
    r"^(?:\.{1,2}/|[\w.-]+/)*questionnaires/([a-z0-9]+(?:-[a-z0-9]+)*)\.yaml$"
)

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "data-entry", "data-questionnaire"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}


def entry_url(slug: str, base: str = "/api/v1") -> str:
    """The address of an entry below ``base``: by default its API path, which rendered
    links carry; pages pass their own base (``""`` for the workspace, ``/embed/<site>``
    for a partner site, with our origin in front for fragments)."""
    return f"{base}/entries/{slug}"


def questionnaire_url(questionnaire_id: str) -> str:
    """The API path of a questionnaire, used in rendered links."""
    return f"/api/v1/questionnaires/{questionnaire_id}"


def _parser() -> MarkdownIt:
    # html=False: raw HTML in a content file is shown as text, never passed through.
    md = MarkdownIt("commonmark", {"html": False}).enable("table")

    def link_open(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        href = str(token.attrGet("href") or "")
        if match := ENTRY_LINK_RE.match(href):
            token.attrSet("href", entry_url(match.group(1)) + (match.group(2) or ""))
            token.attrSet("data-entry", match.group(1))
        elif match := QUESTIONNAIRE_LINK_RE.match(href):
            token.attrSet("href", questionnaire_url(match.group(1)))
            token.attrSet("data-questionnaire", match.group(1))
        return str(self.renderToken(tokens, idx, options, env))

    md.add_render_rule("link_open", link_open)
    return md


_MD = _parser()


def render_markdown(text: str) -> str:
    """Render Markdown to HTML that is safe to embed in any page."""
    html = _MD.render(text)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        filter_style_properties={"text-align"},
    )


def entry_links(text: str) -> Iterator[tuple[str, int | None]]:
    """Yield ``(slug, line within text, 1-based)`` for every link to another entry."""
    return _links(text, ENTRY_LINK_RE)


def questionnaire_links(text: str) -> Iterator[tuple[str, int | None]]:
    """Yield ``(questionnaire id, line within text, 1-based)`` for every questionnaire link."""
    return _links(text, QUESTIONNAIRE_LINK_RE)


def _links(text: str, pattern: re.Pattern[str]) -> Iterator[tuple[str, int | None]]:
    for token in _MD.parse(text):
        if token.type != "inline" or not token.children:
            continue
        line = token.map[0] + 1 if token.map else None
        for child in token.children:
            if child.type == "link_open":
                match = pattern.match(str(child.attrGet("href") or ""))
                if match:
                    yield match.group(1), line
