"""Jinja2 rendering per theme, page links, and the headers every HTML answer carries."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from litestar import Response
from markupsafe import Markup

from core import __version__
from core.content.markdown import entry_url
from core.quickcheck.model import AMPEL_LABEL
from core.web import Web
from core.web.sites import Site
from core.web.themes import Theme

# Litestar appends "; charset=utf-8" to text/* types itself.
HTML = "text/html"
# Entry links as the content pipeline writes them (core.content.markdown.entry_url).
_API_ENTRIES = re.escape(entry_url(""))
_API_ENTRY_LINK = re.compile(rf'href="{_API_ENTRIES}([a-z0-9-]+)((?:#[^"]*)?)"')
_API_QUESTIONNAIRE_LINK = re.compile(r'href="/api/v1/questionnaires/([a-z0-9-]+)"')


@dataclass
class Renderer:
    """One Jinja2 environment per theme (its template folders, nearest first)."""

    web: Web
    _envs: dict[str, jinja2.Environment] = field(default_factory=dict)
    _file_hashes: dict[Path, str] = field(default_factory=dict)
    # Small per-app caches of database reads that change only on a content sync.
    cache: dict[str, tuple[float, Any]] = field(default_factory=dict)

    def env(self, theme: Theme) -> jinja2.Environment:
        if theme.name not in self._envs:
            env = jinja2.Environment(
                loader=jinja2.FileSystemLoader([str(d) for d in theme.template_dirs]),
                autoescape=True,
                undefined=jinja2.StrictUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
            )
            env.filters["entry_links"] = entry_links_filter
            env.filters["german_number"] = german_number
            env.filters["demote_headings"] = demote_headings
            env.globals["ampel_label"] = AMPEL_LABEL
            env.globals["version"] = __version__
            self._envs[theme.name] = env
        return self._envs[theme.name]

    def file_hash(self, path: Path) -> str:
        if path not in self._file_hashes:
            self._file_hashes[path] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        return self._file_hashes[path]

    def render(self, page: Page, template: str, **context: Any) -> str:
        return self.env(page.theme).get_template(template).render(page=page, **context)


@dataclass
class Page:
    """Where a page is rendered: theme, site (None in the workspace) and its links."""

    renderer: Renderer
    theme: Theme
    site: Site | None = None
    lang: str = "de"
    # Fragments are included in a partner's page: their links carry our origin.
    origin: str = ""

    @property
    def embed(self) -> bool:
        return self.site is not None

    @cached_property
    def base(self) -> str:
        return f"{self.origin}/embed/{self.site.id}" if self.site else self.origin

    # -- links ---------------------------------------------------------------------------

    def home(self) -> str:
        return f"{self.base}/"

    def search(self, **params: Any) -> str:
        path = f"{self.base}/search" if self.site else "/"
        query = _query(params)
        return f"{path}?{query}" if query else path

    def entry(self, slug: str) -> str:
        return entry_url(slug, self.base)

    def topic(self, slug: str) -> str:
        return f"{self.base}/topics/{slug}" if self.site else self.search(topic=slug)

    def quickchecks(self) -> str:
        return f"{self.base}/quickcheck"

    def quickcheck(
        self, questionnaire_id: str, perspective: str | None = None, trial: bool = False
    ) -> str:
        path = f"{self.base}/quickcheck/{questionnaire_id}"
        query = _query({"perspective": perspective, "probelauf": "1" if trial else None})
        return f"{path}?{query}" if query else path

    def result(self, token: str) -> str:
        return f"{self.base}/results/{token}"

    def static(self, path: str) -> str:
        found = self.theme.static_file(path)
        version = self.renderer.file_hash(found) if found else "missing"
        return f"{self.origin}/static/{self.theme.name}/{path}?v={version}"

    def tokens_css(self) -> str:
        return f"{self.origin}/themes/{self.theme.name}/tokens.css?v={self.theme.tokens_hash()}"

    def logo(self) -> str | None:
        return self.static(self.theme.logo) if self.theme.logo else None

    def own_logo(self) -> str | None:
        """The logo of a region's theme (not one inherited from ``default``): embedded
        pages show it in their slim header bar."""
        if not self.theme.logo or self.theme.name == "default":
            return None
        found = self.theme.static_file(self.theme.logo)
        if found is None or not found.is_relative_to(self.theme.folder):
            return None
        return self.static(self.theme.logo)


def _query(params: dict[str, Any]) -> str:
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None or value == "" or value == []:
            continue
        for v in value if isinstance(value, list | tuple) else [value]:
            pairs.append((key, str(v)))
    return urlencode(pairs)


def entry_links_filter(html: str, page: Page) -> Markup:
    """Point the API links in sanitised entry HTML at this page's entry pages (and put its
    tables in boxes that scroll, see ``scrollable_tables``).

    ``html`` comes from the content pipeline (markdown-it without raw HTML, cleaned by
    nh3); only the href of entry links is rewritten."""
    html = _API_ENTRY_LINK.sub(lambda m: f'href="{page.entry(m[1])}{m[2]}"', html)
    html = _API_QUESTIONNAIRE_LINK.sub(lambda m: f'href="{page.quickcheck(m[1])}"', html)
    return Markup(scrollable_tables(html))


# A table wider than a phone scrolls inside its own box instead of the whole page; the box
# takes keyboard focus so that it can be scrolled without a mouse.
_TABLE_OPEN = '<div class="table-scroll" role="region" tabindex="0" aria-label="Tabelle">'


def scrollable_tables(html: str) -> str:
    """Put every table of sanitised entry HTML (nh3 leaves ``<table>`` bare) in a box
    that scrolls sideways on its own."""
    return html.replace("<table>", _TABLE_OPEN + "<table>").replace("</table>", "</table></div>")


_API_ENTRY_ANCHOR = re.compile(
    rf'<a href="{_API_ENTRIES}([a-z0-9-]+)(?:#[^"]*)?"[^>]*>(.*?)</a>', re.DOTALL
)


def unlink_entries(html: str, slugs: set[str]) -> str:
    """Replace the links to these entries in sanitised entry HTML by their text (entries a
    site does not show: the link would lead to a "not found" page)."""
    if not slugs:
        return html
    return _API_ENTRY_ANCHOR.sub(lambda m: m[2] if m[1] in slugs else m[0], html)


_API_QUESTIONNAIRE_ANCHOR = re.compile(
    r'<a href="/api/v1/questionnaires/([a-z0-9-]+)"[^>]*>(.*?)</a>', re.DOTALL
)


def linked_questionnaires(html: str) -> set[str]:
    """The questionnaire ids sanitised entry HTML links to."""
    return {m[1] for m in _API_QUESTIONNAIRE_ANCHOR.finditer(html)}


def unlink_questionnaires(html: str, ids: set[str]) -> str:
    """Replace the links to these questionnaires by their text (ones a page does not offer)."""
    if not ids:
        return html
    return _API_QUESTIONNAIRE_ANCHOR.sub(lambda m: m[2] if m[1] in ids else m[0], html)


_HEADING = re.compile(r"<(/?)h([1-6])>")


def demote_headings(html: str, levels: int) -> Markup:
    """Move the headings of sanitised entry HTML ``levels`` down (at most to h6), so an
    entry placed under an h3 keeps a correct outline. nh3 leaves headings without
    attributes, so the tags are exactly ``<hN>`` and ``</hN>``."""
    return Markup(_HEADING.sub(lambda m: f"<{m[1]}h{min(6, int(m[2]) + levels)}>", str(html)))


def german_number(value: float | None) -> str:
    if value is None:
        return "–"
    text = f"{value:.1f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    return text.replace(".", ",")


# -- headers ------------------------------------------------------------------------------


def csp(frame_ancestors: list[str] | None) -> str:
    """The Content-Security-Policy of an HTML page. ``frame_ancestors`` None: the page is
    never framed; a list: the page may be framed by itself and those origins."""
    ancestors = "'none'" if frame_ancestors is None else " ".join(["'self'", *frame_ancestors])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            # Table cells from Markdown may carry text-align; attributes cannot run code.
            "style-src-attr 'unsafe-inline'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            "object-src 'none'",
            f"frame-ancestors {ancestors}",
        ]
    )


def html_response(
    body: str,
    *,
    status: int = 200,
    frame_ancestors: list[str] | None = None,
    cache: str = "no-cache",
    headers: dict[str, str] | None = None,
) -> Response[str]:
    all_headers = {
        "Content-Security-Policy": csp(frame_ancestors),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Cache-Control": cache,
        **(headers or {}),
    }
    if frame_ancestors is None:
        all_headers["X-Frame-Options"] = "DENY"
    return Response(body, status_code=status, media_type=HTML, headers=all_headers)
