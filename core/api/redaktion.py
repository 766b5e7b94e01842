"""The editorial JSON API under /api/v1/redaktion/… (docs/EDITING.md).

Reached with an API key whose scope names the pack (``entries:write:nrw``), so a partner
can script imports; each operation is checked against the entry's pack. The read API
(/api/v1/entries) is unchanged: it serves published content only.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from core.accounts import current_account
from core.accounts.audit import record
from core.api.params import NUMBER, TEXT, optional_query
from core.auth import API_KEY, key_packs, request_key
from core.content.markdown import entry_url
from core.editing import service
from core.editing.model import (
    Actor,
    Conflict,
    EditingError,
    Forbidden,
    Invalid,
    NotFound,
    SlugTaken,
    WrongState,
    actor_for_account,
)
from core.http.numbers import whole_number
from core.http.problems import (
    PROBLEM_MEDIA_TYPE,
    InvalidParam,
    ProblemDetails,
    ProblemError,
    problem_responses,
)

SCOPE = "entries:write"
PREFIX = "/api/v1/redaktion"
NO_STORE = {"Cache-Control": "no-store"}
# An API key with entries:write:<pack>, or a session of an editorial role (the role guard
# checks the session and its CSRF token; see core.accounts.guard).
OPT: dict[str, Any] = {"scope": SCOPE, "roles": ("redaktion", "freigabe")}
MAX_COMMENT = 2000

DATA_DOC = (
    "`data` holds the entry's fields as in a content file's front matter — title, summary, "
    "kind, topics, phases, audiences, tags, search_terms, duration, materials, related, "
    "updated_at (YYYY-MM-DD) — and `body` (Markdown). `search_terms` (optional) are words "
    "to find the entry by that its text does not use; they are searched but never shown "
    "or sent by the read API. They are checked with exactly the rules and "
    "messages of `mentoring40 content check`; each problem is an `invalid_params` item "
    "named after its field."
)


# -- schemas --------------------------------------------------------------------------------


class EditorialEntryDoc(msgspec.Struct, kw_only=True):
    slug: str
    source: str
    state: str  # file | draft | review | published | unpublished
    head: int
    published: int | None
    live: bool
    comment: str
    conflict: dict[str, Any] | None
    data: dict[str, Any]
    url: str


class EditorialEntryOne(msgspec.Struct, kw_only=True):
    data: EditorialEntryDoc


class EditorialListItem(msgspec.Struct, kw_only=True):
    slug: str
    title: str
    source: str
    state: str
    head: int
    conflict: bool


class EditorialList(msgspec.Struct, kw_only=True):
    data: list[EditorialListItem]


class RevisionItem(msgspec.Struct, kw_only=True):
    number: int
    state: str
    based_on: int
    author: str
    comment: str
    created_at: dt.datetime


class RevisionList(msgspec.Struct, kw_only=True):
    data: list[RevisionItem]


class FieldChange(msgspec.Struct, kw_only=True, omit_defaults=True):
    field: str
    before: Any = None
    after: Any = None
    lines: list[dict[str, str]] = []


class DiffDoc(msgspec.Struct, kw_only=True):
    data: list[FieldChange]


class SavedDoc(msgspec.Struct, kw_only=True):
    slug: str
    revision: int
    state: str


class Saved(msgspec.Struct, kw_only=True):
    data: SavedDoc


class SlugDoc(msgspec.Struct, kw_only=True):
    slug: str
    free: bool


class SlugOne(msgspec.Struct, kw_only=True):
    data: SlugDoc


class PreviewDoc(msgspec.Struct, kw_only=True):
    html: str


class PreviewOne(msgspec.Struct, kw_only=True):
    data: PreviewDoc


class DraftIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    based_on: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]
    data: dict[str, Any]
    comment: Annotated[str, msgspec.Meta(max_length=MAX_COMMENT)] = ""


class NewEntryIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    pack: Annotated[str, msgspec.Meta(max_length=120)]
    slug: Annotated[str, msgspec.Meta(max_length=200)]
    data: dict[str, Any]
    comment: Annotated[str, msgspec.Meta(max_length=MAX_COMMENT)] = ""


class CommentIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    comment: Annotated[str, msgspec.Meta(max_length=MAX_COMMENT)]


class RestoreIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    revision: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]


class RenameIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    slug: Annotated[str, msgspec.Meta(max_length=200)]


class ResolveIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    keep: Literal["editorial", "file"]


class PreviewIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    body: str


# -- who acts -------------------------------------------------------------------------------


def actor_for(request: Request[Any, Any, Any]) -> Actor:
    """The actor of an editorial request: the API key scope_guard accepted, else the
    signed-in account the role guard accepted."""
    key = request_key(request)
    if key is not None:
        return Actor(
            name=f"API-Schlüssel {key.name}", packs=key_packs(key, SCOPE), may_publish=True
        )
    account = current_account(request)
    if account is None:  # the guards run first on every route here
        raise ProblemError(401, "Sign in, or send an API key with the scope entries:write:<pack>.")
    return actor_for_account(account)


async def audit(request: Request[Any, Any, Any], action: str, slug: str, **detail: Any) -> None:
    """Every editorial change in the audit log: the account, or the API key by name."""
    key = request_key(request)
    if key is not None:
        detail["api_key"] = key.name
    await record(
        action,
        account=current_account(request),
        email="" if current_account(request) else f"api-key:{key.name}" if key else "",
        object_type="entry",
        object_id=slug,
        detail=detail,
        request=request,
    )


def problem_for(exc: EditingError) -> ProblemError:
    """A domain error as the problem a client can act on."""
    if isinstance(exc, NotFound):
        return ProblemError(404, str(exc))
    if isinstance(exc, Forbidden):
        return ProblemError(403, str(exc))
    if isinstance(exc, WrongState | SlugTaken):
        return ProblemError(409, str(exc))
    if isinstance(exc, Invalid):
        return ProblemError(
            422,
            "The entry does not pass the checks of `content check`: " + str(exc),
            invalid_params=[
                InvalidParam(name=p.field or "entry", reason=p.message) for p in exc.problems
            ],
        )
    return ProblemError(400, str(exc))


def conflict_response(request: Request[Any, Any, Any], exc: Conflict) -> Response[Any]:
    """409 with the newest revision's number and what differs from it (RFC 9457 extension
    members ``head`` and ``diff``); nothing was stored."""
    body = msgspec.to_builtins(
        ProblemDetails(
            title="Conflict",
            status=409,
            detail=f"Revision {exc.head} was saved after revision {exc.based_on}, on which "
            "this edit is based; nothing was stored. Compare `diff` (newest revision → "
            "your version), then save again with based_on set to `head`.",
            instance=request.url.path,
        )
    )
    body.update(head=exc.head, diff=exc.diff)
    return Response(content=body, status_code=409, media_type=PROBLEM_MEDIA_TYPE, headers=NO_STORE)


async def _doc(slug: str, actor: Actor) -> EditorialEntryDoc:
    view = await service.view(slug, actor)
    return EditorialEntryDoc(
        slug=view.slug,
        source=view.source,
        state=view.state,
        head=view.head,
        published=view.published,
        live=view.live,
        comment=view.comment,
        conflict=view.conflict,
        data=view.data,
        url=entry_url(view.slug),
    )


def _saved(slug: str, revision: int, state: str, status: int = 200) -> Response[Saved]:
    return Response(
        Saved(data=SavedDoc(slug=slug, revision=revision, state=state)),
        status_code=status,
        headers=NO_STORE,
    )


SLUG_ERRORS = problem_responses(400, 401, 403, 404)
WRITE_ERRORS = problem_responses(
    400, 401, 403, 404, (409, "The entry is not in a state that allows this."), 413, 415, 422
)


class RedaktionController(Controller):
    path = PREFIX
    tags = ("Redaktion",)
    opt = OPT
    security = API_KEY

    @get(
        "/entries",
        summary="Entries of the packs this key may edit, with their editorial state",
        responses=problem_responses(401, 403),
    )
    async def list_entries(self, request: Request[Any, Any, Any]) -> Response[EditorialList]:
        actor = actor_for(request)
        rows = await service.list_entries(actor.packs)
        return Response(
            EditorialList(data=[msgspec.convert(r, EditorialListItem) for r in rows]),
            headers=NO_STORE,
        )

    @post(
        "/entries",
        summary="Create a new entry as a draft",
        description="The slug must be free (see /api/v1/redaktion/slug). " + DATA_DOC,
        status_code=201,
        responses=WRITE_ERRORS,
    )
    async def create_entry(
        self, request: Request[Any, Any, Any], data: JSONBody[NewEntryIn]
    ) -> Response[Saved]:
        actor = actor_for(request)
        try:
            number = await service.save_draft(
                actor,
                data.slug,
                data.data,
                based_on=0,
                comment=data.comment,
                new_in_pack=data.pack,
            )
        except EditingError as exc:
            raise problem_for(exc) from exc
        await audit(request, "entry.save", data.slug, revision=number, new=True, source=data.pack)
        return _saved(data.slug, number, "draft", 201)

    @get(
        "/entries/{slug:str}",
        summary="An entry's newest version, state, review comment and sync conflict",
        responses=SLUG_ERRORS,
    )
    async def get_entry(
        self, request: Request[Any, Any, Any], slug: FromPath[str]
    ) -> Response[EditorialEntryOne]:
        try:
            doc = await _doc(slug, actor_for(request))
        except EditingError as exc:
            raise problem_for(exc) from exc
        return Response(EditorialEntryOne(data=doc), headers=NO_STORE)

    @put(
        "/entries/{slug:str}/draft",
        summary="Save a new draft revision",
        description="`based_on` is the revision the edit started from (`head` of GET; 0 for "
        "an entry never edited). If another revision was saved meanwhile the answer is "
        "409 with `head` and a per-field `diff`, and nothing is stored. " + DATA_DOC,
        responses=WRITE_ERRORS,
    )
    async def save_draft(
        self, request: Request[Any, Any, Any], slug: FromPath[str], data: JSONBody[DraftIn]
    ) -> Response[Any]:
        try:
            number = await service.save_draft(
                actor_for(request), slug, data.data, based_on=data.based_on, comment=data.comment
            )
        except Conflict as exc:
            return conflict_response(request, exc)
        except EditingError as exc:
            raise problem_for(exc) from exc
        return _saved(slug, number, "draft")

    @post(
        "/entries/{slug:str}/submit",
        summary="Submit the draft for review",
        status_code=200,
        responses=WRITE_ERRORS,
    )
    async def submit(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Response[Saved]:
        try:
            await service.submit(actor_for(request), slug)
            view = await service.view(slug)
        except EditingError as exc:
            raise problem_for(exc) from exc
        await audit(request, "entry.submit", slug)
        return _saved(slug, view.head, view.state)

    @post(
        "/entries/{slug:str}/publish",
        summary="Publish the revision in review (or an unpublished entry again)",
        description="The entry, the pages, the fragments and — through the search outbox — "
        "search show it within seconds; its ETag changes.",
        status_code=200,
        responses=WRITE_ERRORS,
    )
    async def publish(
        self, request: Request[Any, Any, Any], slug: FromPath[str]
    ) -> Response[Saved]:
        try:
            await service.publish(actor_for(request), slug)
            view = await service.view(slug)
        except EditingError as exc:
            raise problem_for(exc) from exc
        await audit(request, "entry.publish", slug)
        return _saved(slug, view.published or view.head, view.state)

    @post(
        "/entries/{slug:str}/return",
        summary="Send the revision in review back to draft, with a comment",
        status_code=200,
        responses=WRITE_ERRORS,
    )
    async def send_back(
        self, request: Request[Any, Any, Any], slug: FromPath[str], data: JSONBody[CommentIn]
    ) -> Response[Saved]:
        try:
            await service.send_back(actor_for(request), slug, data.comment)
            view = await service.view(slug)
        except EditingError as exc:
            raise problem_for(exc) from exc
        await audit(request, "entry.return", slug)
        return _saved(slug, view.head, view.state)

    @post(
        "/entries/{slug:str}/unpublish",
        summary="Take the entry down; kept with its history, the read API answers 410 Gone",
        status_code=200,
        responses=WRITE_ERRORS,
    )
    async def unpublish(
        self, request: Request[Any, Any, Any], slug: FromPath[str]
    ) -> Response[Saved]:
        try:
            await service.unpublish(actor_for(request), slug)
            view = await service.view(slug)
        except EditingError as exc:
            raise problem_for(exc) from exc
        await audit(request, "entry.unpublish", slug)
        return _saved(slug, view.head, view.state)

    @post(
        "/entries/{slug:str}/restore",
        summary="Save an earlier revision again as a new draft",
        status_code=200,
        responses=WRITE_ERRORS,
    )
    async def restore(
        self, request: Request[Any, Any, Any], slug: FromPath[str], data: JSONBody[RestoreIn]
    ) -> Response[Saved]:
        try:
            number = await service.restore(actor_for(request), slug, data.revision)
        except EditingError as exc:
            raise problem_for(exc) from exc
        await audit(request, "entry.restore", slug, revision=number, restored=data.revision)
        return _saved(slug, number, "draft")

    @post(
        "/entries/{slug:str}/rename",
        summary="Give the entry a new slug; the old one answers 301 from then on",
        description="Refused (409) while other entries link to it.",
        status_code=200,
        responses=WRITE_ERRORS,
    )
    async def rename(
        self, request: Request[Any, Any, Any], slug: FromPath[str], data: JSONBody[RenameIn]
    ) -> Response[Saved]:
        try:
            await service.rename(actor_for(request), slug, data.slug)
            view = await service.view(data.slug)
        except EditingError as exc:
            raise problem_for(exc) from exc
        await audit(request, "entry.rename", data.slug, old_slug=slug)
        return _saved(data.slug, view.head, view.state)

    @post(
        "/entries/{slug:str}/conflict",
        summary="Settle a sync conflict: keep the editorial revision or take the file's",
        status_code=200,
        responses=WRITE_ERRORS,
    )
    async def resolve(
        self, request: Request[Any, Any, Any], slug: FromPath[str], data: JSONBody[ResolveIn]
    ) -> Response[Saved]:
        try:
            await service.resolve_conflict(actor_for(request), slug, data.keep)
            view = await service.view(slug)
        except EditingError as exc:
            raise problem_for(exc) from exc
        await audit(request, "entry.resolve_conflict", slug)
        return _saved(slug, view.head, view.state)

    @get(
        "/entries/{slug:str}/revisions",
        summary="The entry's revisions, newest first",
        responses=SLUG_ERRORS,
    )
    async def revisions(
        self, request: Request[Any, Any, Any], slug: FromPath[str]
    ) -> Response[RevisionList]:
        try:
            await service.view(slug, actor_for(request))
        except EditingError as exc:
            raise problem_for(exc) from exc
        rows = await service.history(slug)
        return Response(
            RevisionList(data=[msgspec.convert(r, RevisionItem) for r in rows]), headers=NO_STORE
        )

    @get(
        "/entries/{slug:str}/diff",
        summary="What changed between two revisions, per field (body as a line diff)",
        responses=SLUG_ERRORS,
    )
    async def diff(
        self,
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        from_: Annotated[
            int | None,
            QueryParameter(
                name="from",
                description="Revision number (0: the file); default: the one before `to`.",
                schema_extra={"one_of": None, "type": NUMBER},
            ),
        ] = None,
        to: Annotated[
            int | None, optional_query("Revision number; default: the newest.", NUMBER)
        ] = None,
    ) -> Response[DiffDoc]:
        try:
            view = await service.view(slug, actor_for(request))
            before = _revision_param(request, "from", max(view.head - 1, 0))
            after = _revision_param(request, "to", view.head)
            changes = await service.diff(slug, before, after)
        except EditingError as exc:
            raise problem_for(exc) from exc
        return Response(
            DiffDoc(data=[msgspec.convert(c, FieldChange) for c in changes]), headers=NO_STORE
        )

    @get(
        "/slug",
        summary="A slug proposed for a title (ä→ae, ß→ss), made unique",
        description="Without a title (or one without letters or digits) the slug is empty.",
        responses=problem_responses(400, 401, 403),
    )
    async def propose(
        self,
        request: Request[Any, Any, Any],
        title: Annotated[str | None, optional_query("The entry's title.", TEXT)] = None,
    ) -> Response[SlugOne]:
        actor_for(request)
        raw = request.query_params.get("title", "")
        # No title yet (an empty form): nothing to propose, an empty slug.
        slug, free = await service.propose_slug(raw[:300]) if raw.strip() else ("", False)
        return Response(SlugOne(data=SlugDoc(slug=slug, free=free)), headers=NO_STORE)

    @post(
        "/preview",
        summary="A Markdown body rendered as the pages and the API serve it (sanitised)",
        status_code=200,
        responses=problem_responses(400, 401, 403, 413, 415),
    )
    async def preview(
        self, request: Request[Any, Any, Any], data: JSONBody[PreviewIn]
    ) -> Response[PreviewOne]:
        actor_for(request)
        return Response(
            PreviewOne(data=PreviewDoc(html=service.preview(data.body))), headers=NO_STORE
        )


def _revision_param(request: Request[Any, Any, Any], name: str, default: int) -> int:
    raw = request.query_params.get(name)
    return default if raw is None else whole_number(raw, name, maximum=1_000_000, minimum=0)
