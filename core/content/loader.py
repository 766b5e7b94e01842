"""Read content packs from disk, validate them, and report every problem at once.

``load_content`` never stops at the first mistake: an editor fixing content
wants the whole list, each with file, field, line and what is expected.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

import msgspec

from core.content.facets import DIMENSION_FIELD, DIMENSIONS
from core.content.files import read_content_file
from core.content.markdown import entry_links, render_markdown
from core.content.model import (
    CORE_SOURCE,
    SLUG_RE,
    ContentPack,
    ContentSet,
    Entry,
    FrontMatter,
    Problem,
    TaxonomyFile,
    TaxonomyTerm,
)
from core.content.yamlfile import decode, line_of, parse_yaml, read_yaml_file

FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?$\n?", re.DOTALL | re.MULTILINE)


def display_path(path: Path) -> str:
    """A path as an editor would want it: relative to the working directory if inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def load_content(packs: Iterable[ContentPack]) -> tuple[ContentSet, list[Problem]]:
    """Load and validate all packs; the content set is only usable if problems is empty."""
    packs = list(packs)
    problems: list[Problem] = []
    taxonomy: list[TaxonomyTerm] = []
    entries: list[Entry] = []
    drafts: list[tuple[Entry, FrontMatterLines]] = []

    # A broken taxonomy file is reported once; checking entries against the partial
    # taxonomy would bury that one problem under a flood of "unknown topic" lines.
    taxonomy_ok = True
    seen_packs: dict[str, ContentPack] = {}
    for pack in packs:
        if pack.name in seen_packs:
            problems.append(
                Problem(
                    file=display_path(pack.path),
                    message=f"content pack name {pack.name!r} is already used by "
                    f"{display_path(seen_packs[pack.name].path)}; each pack needs its own name",
                )
            )
            continue
        seen_packs[pack.name] = pack
        if not pack.path.is_dir():
            problems.append(
                Problem(
                    file=display_path(pack.path),
                    message=f"content pack {pack.name!r} points to a folder that does not exist",
                )
            )
            continue
        before = len(problems)
        taxonomy.extend(_load_taxonomy(pack, taxonomy, problems))
        taxonomy_ok = taxonomy_ok and len(problems) == before
        drafts.extend(_load_entries(pack, problems))

    if not any(t.dimension == "topics" for t in taxonomy) and not problems:
        problems.append(
            Problem(
                file="taxonomy.yaml",
                message="no content pack defines a taxonomy; the core pack needs taxonomy.yaml",
            )
        )

    known = (
        {dim: {t.slug for t in taxonomy if t.dimension == dim} for dim in DIMENSIONS}
        if taxonomy_ok
        else None
    )
    slugs: dict[str, Entry] = {}
    for entry, _ in drafts:
        if entry.slug in slugs:
            problems.append(
                Problem(
                    file=entry.source_path,
                    message=f"slug {entry.slug!r} is already used by "
                    f"{slugs[entry.slug].source_path}; "
                    "slugs must be unique across all content packs (rename one file)",
                )
            )
        else:
            slugs[entry.slug] = entry
    for entry, lines in drafts:
        problems.extend(check_references(entry, lines, known, slugs))
        entries.append(entry)

    return ContentSet(packs=packs, taxonomy=taxonomy, entries=entries), problems


# -- taxonomy -----------------------------------------------------------------------------


def _load_taxonomy(
    pack: ContentPack, earlier: list[TaxonomyTerm], problems: list[Problem]
) -> list[TaxonomyTerm]:
    path = pack.path / "taxonomy.yaml"
    if not os.path.lexists(path):  # a broken link is reported, not taken for "no file"
        return []
    shown = display_path(path)
    read = read_yaml_file(path, pack.path, shown, TaxonomyFile, problems)
    if read is None:
        return []
    decoded, root = read
    terms: list[TaxonomyTerm] = []
    defined = {(t.dimension, t.slug): t for t in earlier}
    for dimension in DIMENSIONS:
        for position, term in enumerate(getattr(decoded, dimension)):
            key = (dimension, term.slug)
            if key in defined:
                problems.append(
                    Problem(
                        file=shown,
                        field=f"{dimension}[{position}].slug",
                        line=line_of(root, [dimension, position, "slug"], 0),
                        message=f"{term.slug!r} is already defined by content pack "
                        f"{defined[key].source!r}; a pack may add terms but not redefine them",
                    )
                )
                continue
            offset = sum(1 for t in earlier if t.dimension == dimension)
            defined[key] = TaxonomyTerm(
                dimension=dimension,
                slug=term.slug,
                label=term.label.strip(),
                description=term.description.strip(),
                position=offset + position,
                source=pack.name,
            )
            terms.append(defined[key])
    return terms


# -- entries ------------------------------------------------------------------------------


class FrontMatterLines(msgspec.Struct, frozen=True):
    """Where things are in one entry file, to point problems at a line."""

    root: Any  # the YAML node tree of the front matter, or None
    body_line: int  # file line on which the Markdown body starts
    body_links: list[tuple[str, int | None]]


def _load_entries(
    pack: ContentPack, problems: list[Problem]
) -> list[tuple[Entry, FrontMatterLines]]:
    folder = pack.path / "entries"
    if not folder.is_dir():
        problems.append(
            Problem(
                file=display_path(pack.path),
                message=f"content pack {pack.name!r} has no entries/ folder",
            )
        )
        return []
    loaded = []
    for path in sorted(folder.glob("*.md")):
        result = _load_entry(pack, path, problems)
        if result is not None:
            loaded.append(result)
    return loaded


def _load_entry(
    pack: ContentPack, path: Path, problems: list[Problem]
) -> tuple[Entry, FrontMatterLines] | None:
    shown = display_path(path)
    slug = path.stem
    if not SLUG_RE.match(slug):
        problems.append(
            Problem(
                file=shown,
                message=f"file name {path.name!r} is not a valid slug; use lower-case letters a-z, "
                "digits and single hyphens (e.g. tandem-steckbrief.md)",
            )
        )
        return None
    text = read_content_file(path, pack.path, shown, problems)
    if text is None:
        return None
    return parse_entry_text(pack.name, slug, text, shown, problems)


def parse_entry_text(
    source: str, slug: str, text: str, shown: str, problems: list[Problem]
) -> tuple[Entry, FrontMatterLines] | None:
    """An entry file's text decoded and checked on its own (references are checked later,
    by ``check_references``); the editor checks a revision through this very function, so
    the browser shows exactly the rules and messages of ``content check``."""
    match = FRONT_MATTER_RE.match(text)
    if not match:
        problems.append(
            Problem(
                file=shown,
                line=1,
                message="has no front matter; the file must start with a line '---', then YAML "
                "fields, then a closing line '---'",
            )
        )
        return None
    # Line numbers: the front matter's first YAML line is line 2 of the file.
    parsed = parse_yaml(match.group(1), shown, problems, line_offset=1)
    if parsed is None:
        return None
    data, root = parsed
    front = decode(data, FrontMatter, root, shown, problems, line_offset=1)
    if front is None:
        return None
    problems.extend(_search_term_problems(front, root, shown))
    rest = text[match.end() :]
    body = rest.strip("\n") + "\n"
    # The file line of the body's first line: after the front matter and any blank lines.
    body_line = text[: match.end()].count("\n") + 1 + len(rest) - len(rest.lstrip("\n"))
    if not body.strip():
        problems.append(Problem(file=shown, field="body", message="the Markdown body is empty"))
    body_links = [
        (target, None if line is None else line + body_line - 1)
        for target, line in entry_links(body)
    ]
    links = list(dict.fromkeys([*front.related, *(target for target, _ in body_links)]))
    fields = msgspec.structs.asdict(front)
    entry = Entry(
        slug=slug,
        source=source,
        source_path=shown,
        body_markdown=body,
        body_html=render_markdown(body),
        links=links,
        content_hash=_content_hash(source, slug, front, body),
        **{**fields, "title": front.title.strip(), "summary": " ".join(front.summary.split())},
    )
    return entry, FrontMatterLines(root=root, body_line=body_line, body_links=body_links)


def _search_term_problems(front: FrontMatter, root: Any, shown: str) -> list[Problem]:
    """What msgspec cannot say about ``search_terms`` (types, lengths and the number of
    terms it checks itself): a term of spaces only, and a term listed twice."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, term in enumerate(front.search_terms):
        key = " ".join(term.split()).casefold()
        if key and key not in seen:
            seen[key] = index
            continue
        problems.append(
            Problem(
                file=shown,
                field=f"search_terms[{index}]",
                line=line_of(root, ["search_terms", index], 1),
                message=f"{term!r} is already search_terms[{seen[key]}]; list each term once "
                "(upper and lower case count as the same)"
                if key
                else "a search term cannot be empty",
            )
        )
    return problems


def _content_hash(source: str, slug: str, front: FrontMatter, body: str) -> str:
    fields = msgspec.structs.asdict(front)
    if not front.search_terms:
        # Left out when empty: an entry without search terms keeps the hash it had before
        # the field existed, so adding the field changes no stored or editorial hash.
        del fields["search_terms"]
    payload = msgspec.json.encode({"source": source, "slug": slug, "front": fields, "body": body})
    return hashlib.sha256(payload).hexdigest()


class Linkable(Protocol):
    """What a reference check needs of the entry linked to (a loaded Entry or a stored row)."""

    @property
    def slug(self) -> str: ...
    @property
    def source(self) -> str: ...


def check_references(
    entry: Entry,
    lines: FrontMatterLines,
    known: dict[str, set[str]] | None,
    slugs: Mapping[str, Linkable],
) -> list[Problem]:
    """Problems with what ``entry`` refers to; ``known`` None skips taxonomy values."""
    problems: list[Problem] = []

    def problem(field: str, line: int | None, message: str) -> None:
        problems.append(Problem(file=entry.source_path, field=field, line=line, message=message))

    for dimension, valid in (known or {}).items():
        name = DIMENSION_FIELD[dimension]
        value = getattr(entry, name)
        single = isinstance(value, str)
        for index, item in enumerate([value] if single else value):
            if item not in valid:
                path: list[str | int] = [name] if single else [name, index]
                allowed = ", ".join(sorted(valid)) or "(none defined)"
                problem(
                    name if single else f"{name}[{index}]",
                    line_of(lines.root, path, 1),
                    f"unknown {dimension[:-1]} {item!r}; expected one of: {allowed}",
                )
    for index, target in enumerate(entry.related):
        line = line_of(lines.root, ["related", index], 1)
        if target == entry.slug:
            problem(f"related[{index}]", line, "an entry cannot be related to itself")
        elif target not in slugs:
            problem(
                f"related[{index}]",
                line,
                f"no entry has the slug {target!r}; related must name existing entries "
                "(the file name without .md)",
            )
        elif not _may_link(entry, slugs[target]):
            problem(f"related[{index}]", line, _foreign_link(slugs[target]))
    for target, line in lines.body_links:
        if target not in slugs:
            problem("body", line, f"link to {target}.md, but no entry has the slug {target!r}")
        elif not _may_link(entry, slugs[target]):
            problem("body", line, _foreign_link(slugs[target]))
    return problems


def _may_link(entry: Entry, target: Linkable) -> bool:
    # Plugins are optional: content may rely on its own pack and on the core, nothing else,
    # or disabling one plugin would break another pack's links.
    return target.source in {entry.source, CORE_SOURCE}


def _foreign_link(target: Linkable) -> str:
    return (
        f"links to {target.slug!r} from content pack {target.source!r}; an entry may link only "
        f"to entries of its own pack and of {CORE_SOURCE!r}, because other packs are optional"
    )
