"""The editorial workflow (docs/EDITING.md): drafts, review, publishing, history, restore,
slug renames — stored as revisions beside the entries that ``content sync`` writes.

Every operation that changes what is live (publish, unpublish, rename, taking a file's
version) writes the ``entry`` row and a ``search_outbox`` row in one transaction, so the
API, the pages, the fragments and, through the indexer, search follow within seconds.

An entry is checked with the loader's own functions (``parse_entry_text`` and
``check_references``) on the very text ``content export`` would write for it, so the
editor applies exactly the rules and messages of ``content check``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from core.content import rendered
from core.content.files import MAX_FILE_BYTES, too_large
from core.content.loader import check_references, parse_entry_text
from core.content.markdown import render_markdown
from core.content.model import SLUG_RE, Entry, Problem
from core.content.sync import store_entry
from core.db.engine import write_transaction
from core.db.tables import (
    EditorialEntry,
    EditorialRevision,
    EditorialSlugRedirect,
    QuestionnaireVersion,
    SearchOutbox,
    TaxonomyTerm,
)
from core.db.tables import Entry as EntryRow
from core.editing import slugs as slug_rules
from core.editing.diff import field_diff
from core.editing.model import (
    DRAFT,
    FIELDS,
    LIST_FIELDS,
    PUBLISHED,
    RETURNED,
    REVIEW,
    SUPERSEDED,
    UNPUBLISHED,
    Actor,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    SlugTaken,
    WrongState,
)
from core.ops.export import entry_file

FILE_AUTHOR = "Datei"  # the author shown for the baseline revision taken from a pack file


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _db() -> Any:
    return EntryRow._meta.db


# -- entries as data ----------------------------------------------------------------------


def data_of(row: dict[str, Any] | Entry) -> dict[str, Any]:
    """The editable fields of a stored row or a loaded entry (lists decoded, date as text)."""
    values = msgspec.structs.asdict(row) if isinstance(row, Entry) else dict(row)
    data: dict[str, Any] = {}
    for name in FIELDS:
        value = values["body_markdown"] if name == "body" else values[name]
        if name in LIST_FIELDS and isinstance(value, str | bytes):
            value = msgspec.json.decode(value)
        if name == "updated_at" and value is not None:
            value = str(value)
        data[name] = value
    return data


def entry_text(data: dict[str, Any], status: str = PUBLISHED) -> str:
    """The entry file ``content export`` writes for ``data``."""
    row = {k: v for k, v in data.items() if k in FIELDS and k != "body"}
    row["status"] = status
    row["body_markdown"] = data.get("body", "")
    return entry_file(row)


def shown_path(source: str, slug: str) -> str:
    """Where the entry's file lives in an export of its pack (names it in messages)."""
    return f"{source}/entries/{slug}.md"


async def check_entry(
    source: str, slug: str, data: dict[str, Any], status: str = PUBLISHED
) -> Entry:
    """The entry ``data`` makes, checked like ``content check`` checks a file against the
    stored taxonomy and entries; raises Invalid with every problem."""
    shown = shown_path(source, slug)
    unknown = sorted(set(data) - set(FIELDS))
    problems: list[Problem] = [
        Problem(
            file=shown,
            field=name,
            message=f"unknown field; allowed fields are: {', '.join(FIELDS)}",
        )
        for name in unknown
    ]
    text = entry_text(data, status)
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        problems.append(
            Problem(file=shown, field="body", message=f"the entry file {too_large(size)}")
        )
        raise Invalid(problems)
    parsed = parse_entry_text(source, slug, text, shown, problems)
    if parsed is None or problems:
        raise Invalid(problems)
    entry, lines = parsed
    known: dict[str, set[str]] = {}
    for term in await TaxonomyTerm.select(TaxonomyTerm.dimension, TaxonomyTerm.slug):
        known.setdefault(term["dimension"], set()).add(term["slug"])
    for dimension in ("topics", "phases", "audiences", "kinds"):
        known.setdefault(dimension, set())
    linkable = {
        row["slug"]: _Ref(slug=row["slug"], source=row["source"])
        for row in await EntryRow.select(EntryRow.slug, EntryRow.source)
    }
    linkable[slug] = _Ref(slug=slug, source=source)
    problems.extend(check_references(entry, lines, known, linkable))
    if problems:
        raise Invalid(problems)
    return entry


class _Ref(msgspec.Struct, frozen=True):
    slug: str
    source: str


def preview(body: str) -> str:
    """The body as the pages and the API would serve it: the same Markdown + sanitiser."""
    return render_markdown(body)


# -- reading ----------------------------------------------------------------------------


class EditorialView(msgspec.Struct, kw_only=True):
    """An entry as the editor shows it: its newest version and where it stands."""

    slug: str
    source: str
    state: str  # draft | review | published | unpublished, or "file" (never edited)
    head: int  # the newest revision's number; 0: the file, no revision yet
    published: int | None
    data: dict[str, Any]
    comment: str = ""
    conflict: dict[str, Any] | None = None
    live: bool = False  # served by the read API right now


async def _editorial(slug: str) -> dict[str, Any] | None:
    row: dict[str, Any] | None = (
        await EditorialEntry.select()
        .where(EditorialEntry.slug == slug)
        .output(load_json=True)
        .first()
    )
    if row is not None and row["conflict"]:
        _complete(row["conflict"]["data"])
    return row


def _complete(data: dict[str, Any]) -> dict[str, Any]:
    """Revisions (and sync conflicts) stored before ``search_terms`` existed lack it: an
    empty list, as a file without the field (so a diff shows no change that was not made)."""
    data.setdefault("search_terms", [])
    return data


async def _live(slug: str) -> dict[str, Any] | None:
    row: dict[str, Any] | None = (
        await EntryRow.select().where(EntryRow.slug == slug).output(load_json=True).first()
    )
    return row


async def _revision(slug: str, number: int) -> dict[str, Any] | None:
    row: dict[str, Any] | None = (
        await EditorialRevision.select()
        .where((EditorialRevision.entry_slug == slug) & (EditorialRevision.number == number))
        .output(load_json=True)
        .first()
    )
    if row is not None:
        _complete(row["data"])
    return row


async def view(slug: str, actor: Actor | None = None) -> EditorialView:
    """The entry ``slug`` for editing; NotFound if neither a file nor a revision has it."""
    ed = await _editorial(slug)
    live = await _live(slug)
    if ed is None and live is None:
        raise NotFound(f"there is no entry with the slug {slug!r}")
    source = ed["source"] if ed else live["source"]  # type: ignore[index]
    if actor is not None and not actor.may_edit(source):
        raise Forbidden(f"this account may not edit entries of the pack {source!r}")
    if ed is None or ed["head"] == 0:
        assert live is not None
        return EditorialView(
            slug=slug,
            source=source,
            state=ed["state"] if ed else "file",
            head=0,
            published=None,
            data=data_of(live),
            conflict=ed["conflict"] if ed else None,
            live=live["status"] == PUBLISHED,
        )
    head = await _revision(slug, ed["head"])
    assert head is not None
    return EditorialView(
        slug=slug,
        source=source,
        state=ed["state"],
        head=ed["head"],
        published=ed["published"],
        data=head["data"],
        comment=ed["comment"],
        conflict=ed["conflict"],
        live=live is not None and live["status"] == PUBLISHED,
    )


async def list_entries(packs: frozenset[str] | None) -> list[dict[str, Any]]:
    """Every entry of ``packs`` (None: all) with its state, by title; new entries that are
    not live yet are listed too."""
    rows = await EntryRow.select(
        EntryRow.slug, EntryRow.title, EntryRow.title_sort, EntryRow.source, EntryRow.status
    )
    editorial = {r["slug"]: r for r in await EditorialEntry.select()}
    listed: dict[str, dict[str, Any]] = {}
    for row in rows:
        ed = editorial.get(row["slug"])
        listed[row["slug"]] = {
            "slug": row["slug"],
            "title": row["title"],
            "sort": row["title_sort"],
            "source": row["source"],
            "state": ed["state"]
            if ed
            else ("file" if row["status"] == PUBLISHED else row["status"]),
            "head": ed["head"] if ed else 0,
            "conflict": bool(ed and ed["conflict"]),
        }
    for slug, ed in editorial.items():
        if slug in listed:
            continue
        head = await _revision(slug, ed["head"])
        title = str(head["data"].get("title", slug)) if head else slug
        listed[slug] = {
            "slug": slug,
            "title": title,
            "sort": title.casefold(),
            "source": ed["source"],
            "state": ed["state"],
            "head": ed["head"],
            "conflict": bool(ed["conflict"]),
        }
    chosen = [e for e in listed.values() if packs is None or e["source"] in packs]
    chosen.sort(key=lambda e: (e["sort"], e["slug"]))
    for e in chosen:
        del e["sort"]
    return chosen


async def history(slug: str) -> list[dict[str, Any]]:
    """The revisions of ``slug``, newest first (without their data)."""
    rows = await (
        EditorialRevision.select(
            EditorialRevision.number,
            EditorialRevision.state,
            EditorialRevision.based_on,
            EditorialRevision.author,
            EditorialRevision.comment,
            EditorialRevision.created_at,
        )
        .where(EditorialRevision.entry_slug == slug)
        .order_by(EditorialRevision.number, ascending=False)
    )
    return list(rows)


async def revision_data(slug: str, number: int) -> dict[str, Any]:
    """The fields of revision ``number`` (0: the live entry as the file made it)."""
    if number == 0:
        live = await _live(slug)
        if live is None:
            raise NotFound(f"entry {slug!r} has no file version")
        return data_of(live)
    row = await _revision(slug, number)
    if row is None:
        raise NotFound(f"entry {slug!r} has no revision {number}")
    data: dict[str, Any] = row["data"]
    return data


async def diff(slug: str, before: int, after: int) -> list[dict[str, Any]]:
    return field_diff(await revision_data(slug, before), await revision_data(slug, after))


async def taken_slugs() -> set[str]:
    """Slugs a new entry or a rename cannot take: live, under editing, or redirected."""
    taken = {r["slug"] for r in await EntryRow.select(EntryRow.slug)}
    taken |= {r["slug"] for r in await EditorialEntry.select(EditorialEntry.slug)}
    taken |= {
        r["old_slug"] for r in await EditorialSlugRedirect.select(EditorialSlugRedirect.old_slug)
    }
    return taken


async def propose_slug(title: str) -> tuple[str, bool]:
    """A slug for ``title`` and whether the plain transliteration was free."""
    base = slug_rules.slugify(title)
    taken = await taken_slugs()
    return slug_rules.unique(base, taken) if base else "", bool(base) and base not in taken


async def redirect_for(slug: str) -> str | None:
    """The new slug of a renamed entry, for a 301."""
    row = (
        await EditorialSlugRedirect.select(EditorialSlugRedirect.new_slug)
        .where(EditorialSlugRedirect.old_slug == slug)
        .first()
    )
    return None if row is None else str(row["new_slug"])


async def recommending(slug: str) -> list[str]:
    """Questionnaires (``id@version``) whose results recommend ``slug``: `content check`
    requires every recommended entry to be published, so these block unpublish and rename."""
    found = []
    rows = await QuestionnaireVersion.select(
        QuestionnaireVersion.key, QuestionnaireVersion.definition
    ).output(load_json=True)
    for row in rows:
        if slug in _recommendations(row["definition"]):
            found.append(str(row["key"]))
    return sorted(found)


def _recommendations(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = set()
        for key, item in value.items():
            if key == "recommendations" and isinstance(item, list):
                found |= {s for s in item if isinstance(s, str)}
            else:
                found |= _recommendations(item)
        return found
    if isinstance(value, list):
        return set().union(*(_recommendations(v) for v in value)) if value else set()
    return set()


async def _refuse_if_recommended(slug: str, what: str, state: str) -> None:
    if questionnaires := await recommending(slug):
        raise WrongState(
            f"the questionnaire(s) {', '.join(questionnaires)} recommend {slug!r}; "
            f"change their recommendations before you {what} it",
            state,
        )


async def is_gone(slug: str) -> bool:
    """True for an entry unpublished on purpose (the API answers 410, not 404)."""
    return await EntryRow.exists().where((EntryRow.slug == slug) & (EntryRow.status == UNPUBLISHED))


# -- writing ----------------------------------------------------------------------------


async def _add_revision(
    slug: str,
    source: str,
    number: int,
    state: str,
    data: dict[str, Any],
    actor: Actor | None,
    *,
    based_on: int,
    comment: str,
    content_hash: str,
) -> None:
    await EditorialRevision.insert(
        EditorialRevision(
            entry_slug=slug,
            source=source,
            number=number,
            state=state,
            based_on=based_on,
            author_id=None if actor is None else actor.account_id,
            author=FILE_AUTHOR if actor is None else actor.name,
            comment=comment,
            created_at=_now(),
            data=msgspec.json.encode(data).decode(),
            content_hash=content_hash,
        )
    )


async def _baseline(slug: str, live: dict[str, Any]) -> dict[str, Any]:
    """Start the editorial line of a file entry: revision 1 is the file as it is live."""
    state = PUBLISHED if live["status"] == PUBLISHED else UNPUBLISHED
    await _add_revision(
        slug,
        live["source"],
        1,
        state,
        data_of(live),
        None,
        based_on=0,
        comment="Stand der Datei",
        content_hash=live["content_hash"],
    )
    values = {
        "slug": slug,
        "source": live["source"],
        "state": state,
        "head": 1,
        "published": 1,
        "file_hash": live["content_hash"],
        "conflict": None,
        "comment": "",
        "updated_at": _now(),
    }
    await EditorialEntry.insert(EditorialEntry(**{**values, "conflict": None}))
    return values


async def _locked_state(slug: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    return await _editorial(slug), await _live(slug)


async def save_draft(
    actor: Actor,
    slug: str,
    data: dict[str, Any],
    *,
    based_on: int,
    comment: str = "",
    new_in_pack: str | None = None,
) -> int:
    """Store ``data`` as a new draft revision of ``slug`` and return its number.

    ``based_on`` is the revision the editor started from (0: the file, or nothing for a
    new entry); a newer revision saved meanwhile refuses the save with Conflict. A new
    entry names its pack in ``new_in_pack``; its slug must be free."""
    if new_in_pack is not None:
        source = new_in_pack
        if not SLUG_RE.match(slug) or len(slug) > slug_rules.MAX_SLUG:
            raise Invalid([_slug_problem(source, slug)])
        if not actor.may_edit(source):
            raise Forbidden(f"this account may not edit entries of the pack {source!r}")
        if slug in await taken_slugs():
            raise SlugTaken(f"the slug {slug!r} is already taken")
    else:
        current = await view(slug, actor)
        source = current.source
    entry = await check_entry(source, slug, data)
    data = {name: data.get(name) for name in FIELDS}
    data["body"] = entry.body_markdown
    data["search_terms"] = entry.search_terms  # as checked: left out or null is []
    async with write_transaction(_db()):
        ed, live = await _locked_state(slug)
        if new_in_pack is not None and (ed is not None or live is not None):
            raise SlugTaken(f"the slug {slug!r} is already taken")
        current_head = ed["head"] if ed else 0
        if based_on != current_head:
            theirs = await revision_data(slug, current_head)
            raise Conflict(based_on, current_head, field_diff(theirs, data))
        if ed is None and live is not None:
            # A file entry's first edit: revision 1 records the file as it is live.
            ed = await _baseline(slug, live)
            current_head = 1
        number = current_head + 1
        await _add_revision(
            slug,
            source,
            number,
            DRAFT,
            data,
            actor,
            based_on=current_head,
            comment=comment,
            content_hash=entry.content_hash,
        )
        if ed is None:
            await EditorialEntry.insert(
                EditorialEntry(
                    slug=slug,
                    source=source,
                    state=DRAFT,
                    head=number,
                    published=None,
                    file_hash=None,
                    conflict=None,
                    comment="",
                    updated_at=_now(),
                )
            )
        else:
            await EditorialEntry.update(
                {
                    EditorialEntry.state: DRAFT,
                    EditorialEntry.head: number,
                    EditorialEntry.updated_at: _now(),
                }
            ).where(EditorialEntry.slug == slug)
    return number


def _slug_problem(source: str, slug: str) -> Problem:
    return Problem(
        file=shown_path(source, slug),
        field="slug",
        message=f"{slug!r} is not a valid slug; use lower-case letters a-z, digits and single "
        "hyphens (e.g. tandem-steckbrief), at most 120 characters",
    )


async def _require(slug: str, actor: Actor, *, publish: bool) -> dict[str, Any]:
    ed = await _editorial(slug)
    if ed is None:
        if await _live(slug) is None:
            raise NotFound(f"there is no entry with the slug {slug!r}")
        raise WrongState(f"entry {slug!r} has no draft; save one first", "file")
    if not actor.may_edit(ed["source"]):
        raise Forbidden(f"this account may not edit entries of the pack {ed['source']!r}")
    if publish and not actor.may_publish:
        raise Forbidden("only the Freigabe may publish, send back or unpublish")
    return ed


async def submit(actor: Actor, slug: str) -> None:
    """Draft → in review."""
    ed = await _require(slug, actor, publish=False)
    if ed["state"] != DRAFT:
        raise WrongState(f"entry {slug!r} is {ed['state']}, not a draft", ed["state"])
    async with write_transaction(_db()):
        await EditorialRevision.update({EditorialRevision.state: REVIEW}).where(
            (EditorialRevision.entry_slug == slug) & (EditorialRevision.number == ed["head"])
        )
        await EditorialEntry.update(
            {EditorialEntry.state: REVIEW, EditorialEntry.updated_at: _now()}
        ).where((EditorialEntry.slug == slug) & (EditorialEntry.state == DRAFT))


async def send_back(actor: Actor, slug: str, comment: str) -> None:
    """In review → draft, with the Freigabe's comment."""
    ed = await _require(slug, actor, publish=True)
    if ed["state"] != REVIEW:
        raise WrongState(f"entry {slug!r} is {ed['state']}, not in review", ed["state"])
    if not comment.strip():
        raise Invalid(
            [
                Problem(
                    file=shown_path(ed["source"], slug),
                    field="comment",
                    message="say what should change (the comment is empty)",
                )
            ]
        )
    async with write_transaction(_db()):
        await EditorialRevision.update(
            {EditorialRevision.state: RETURNED, EditorialRevision.comment: comment.strip()}
        ).where((EditorialRevision.entry_slug == slug) & (EditorialRevision.number == ed["head"]))
        await EditorialEntry.update(
            {
                EditorialEntry.state: DRAFT,
                EditorialEntry.comment: comment.strip(),
                EditorialEntry.updated_at: _now(),
            }
        ).where(EditorialEntry.slug == slug)


async def publish(actor: Actor, slug: str) -> None:
    """In review → published: the revision becomes the live entry (entry row + outbox in
    one transaction). An unpublished entry is published again as it was."""
    ed = await _require(slug, actor, publish=True)
    if ed["state"] not in (REVIEW, UNPUBLISHED):
        raise WrongState(
            f"entry {slug!r} is {ed['state']}; submit it for review first", ed["state"]
        )
    number = ed["head"] if ed["state"] == REVIEW else ed["published"]
    if number is None:
        raise WrongState(f"entry {slug!r} has never been published", ed["state"])
    data = await revision_data(slug, number)
    entry = await check_entry(ed["source"], slug, data)
    entry = msgspec.structs.replace(entry, source_path=shown_path(ed["source"], slug))
    async with write_transaction(_db()):
        await EditorialRevision.update({EditorialRevision.state: SUPERSEDED}).where(
            (EditorialRevision.entry_slug == slug)
            & (EditorialRevision.state == PUBLISHED)
            & (EditorialRevision.number != number)
        )
        await EditorialRevision.update({EditorialRevision.state: PUBLISHED}).where(
            (EditorialRevision.entry_slug == slug) & (EditorialRevision.number == number)
        )
        await store_entry(entry, _now())
        await SearchOutbox.enqueue([slug])
        # The stored API answers (core.content.rendered) change in the same transaction.
        await rendered.refresh()
        await EditorialEntry.update(
            {
                EditorialEntry.state: PUBLISHED if number == ed["head"] else ed["state"],
                EditorialEntry.published: number,
                EditorialEntry.comment: "",
                EditorialEntry.updated_at: _now(),
            }
        ).where(EditorialEntry.slug == slug)
        if number != ed["head"]:
            await EditorialEntry.update({EditorialEntry.state: PUBLISHED}).where(
                EditorialEntry.slug == slug
            )


async def unpublish(actor: Actor, slug: str) -> None:
    """Take a live entry down: kept with its history; the API answers 410 Gone."""
    if not actor.may_publish:
        raise Forbidden("only the Freigabe may publish, send back or unpublish")
    live = await _live(slug)
    if live is None or live["status"] != PUBLISHED:
        if await _live(slug) is None and await _editorial(slug) is None:
            raise NotFound(f"there is no entry with the slug {slug!r}")
        raise WrongState(f"entry {slug!r} is not published", "unpublished")
    if not actor.may_edit(live["source"]):
        raise Forbidden(f"this account may not edit entries of the pack {live['source']!r}")
    await _refuse_if_recommended(slug, "unpublish", PUBLISHED)
    ed = await _editorial(slug)
    data = await revision_data(slug, ed["published"]) if ed and ed["published"] else data_of(live)
    entry = await check_entry(live["source"], slug, data, status=UNPUBLISHED)
    entry = msgspec.structs.replace(entry, source_path=live["source_path"])
    async with write_transaction(_db()):
        if await _editorial(slug) is None:
            await _baseline(slug, live)
        await store_entry(entry, _now())
        await SearchOutbox.enqueue([slug])
        # The stored API answers (core.content.rendered) change in the same transaction.
        await rendered.refresh()
        await EditorialEntry.update(
            {EditorialEntry.state: UNPUBLISHED, EditorialEntry.updated_at: _now()}
        ).where(EditorialEntry.slug == slug)


async def restore(actor: Actor, slug: str, number: int) -> int:
    """Revision ``number`` saved again as a new draft (nothing older is changed)."""
    current = await view(slug, actor)
    data = await revision_data(slug, number)
    return await save_draft(
        actor,
        slug,
        data,
        based_on=current.head,
        comment=f"Wiederhergestellt aus Revision {number}",
    )


async def rename(actor: Actor, slug: str, new_slug: str) -> None:
    """Give an entry a new slug; the old one answers 301 to the new one from then on.

    Refused while other entries link to it (their files would break on export)."""
    current = await view(slug, actor)
    if not SLUG_RE.match(new_slug) or len(new_slug) > slug_rules.MAX_SLUG:
        raise Invalid([_slug_problem(current.source, new_slug)])
    redirected_back = await redirect_for(new_slug) == slug
    taken = await taken_slugs()
    if new_slug in taken and not redirected_back:
        raise SlugTaken(f"the slug {new_slug!r} is already taken")
    linking = [
        r["slug"]
        for r in await EntryRow.select(EntryRow.slug, EntryRow.links).output(load_json=True)
        if r["slug"] != slug and slug in r["links"]
    ]
    await _refuse_if_recommended(slug, "rename", current.state)
    if linking:
        raise WrongState(
            f"entries {', '.join(sorted(linking))} link to {slug!r}; change their links first",
            current.state,
        )
    live = await _live(slug)
    async with write_transaction(_db()):
        ed = await _editorial(slug)
        if ed is None and live is not None:
            await _baseline(slug, live)
        await EditorialSlugRedirect.delete().where(EditorialSlugRedirect.old_slug == new_slug)
        await EditorialSlugRedirect.update({EditorialSlugRedirect.new_slug: new_slug}).where(
            EditorialSlugRedirect.new_slug == slug
        )
        await EditorialSlugRedirect.insert(
            EditorialSlugRedirect(old_slug=slug, new_slug=new_slug, created_at=_now())
        )
        await EditorialRevision.update({EditorialRevision.entry_slug: new_slug}).where(
            EditorialRevision.entry_slug == slug
        )
        await EditorialEntry.update(
            {EditorialEntry.slug: new_slug, EditorialEntry.updated_at: _now()}
        ).where(EditorialEntry.slug == slug)
        if live is not None:
            status = live["status"]
            entry = await _entry_for_row(live, new_slug, status)
            await EntryRow.delete().where(EntryRow.slug == slug)
            await store_entry(entry, _now())
        await SearchOutbox.enqueue([slug, new_slug])
        # The stored API answers (core.content.rendered) change in the same transaction.
        await rendered.refresh()


async def _entry_for_row(live: dict[str, Any], slug: str, status: str) -> Entry:
    problems: list[Problem] = []
    shown = shown_path(live["source"], slug)
    parsed = parse_entry_text(
        live["source"], slug, entry_text(data_of(live), status), shown, problems
    )
    if parsed is None:
        raise Invalid(problems)
    return parsed[0]


async def resolve_conflict(actor: Actor, slug: str, keep: str) -> None:
    """Settle what a sync found: ``keep="editorial"`` keeps the live revision (the file's
    change is acknowledged); ``keep="file"`` publishes the file's version as a new revision."""
    ed = await _require(slug, actor, publish=True)
    conflict = ed["conflict"]
    if not conflict:
        raise WrongState(f"entry {slug!r} has no sync conflict", ed["state"])
    if keep == "editorial":
        await EditorialEntry.update(
            {EditorialEntry.file_hash: conflict["file_hash"], EditorialEntry.conflict: None}
        ).where(EditorialEntry.slug == slug)
        return
    data = conflict["data"]
    entry = await check_entry(ed["source"], slug, data)
    async with write_transaction(_db()):
        number = ed["head"] + 1
        await EditorialRevision.update({EditorialRevision.state: SUPERSEDED}).where(
            (EditorialRevision.entry_slug == slug) & (EditorialRevision.state == PUBLISHED)
        )
        await _add_revision(
            slug,
            ed["source"],
            number,
            PUBLISHED,
            data,
            actor,
            based_on=ed["head"],
            comment="Stand der Datei übernommen",
            content_hash=entry.content_hash,
        )
        await store_entry(entry, _now())
        await SearchOutbox.enqueue([slug])
        # The stored API answers (core.content.rendered) change in the same transaction.
        await rendered.refresh()
        await EditorialEntry.update(
            {
                EditorialEntry.state: PUBLISHED,
                EditorialEntry.head: number,
                EditorialEntry.published: number,
                EditorialEntry.file_hash: conflict["file_hash"],
                EditorialEntry.conflict: None,
                EditorialEntry.updated_at: _now(),
            }
        ).where(EditorialEntry.slug == slug)
