"""The tables behind the read API. Content files are the source of truth; these
rows are what ``mentoring40 content sync`` made of them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from piccolo.columns import (
    JSON,
    Boolean,
    Bytea,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table


class Entry(Table, tablename="entry"):
    id: Serial  # Piccolo adds the primary key; declared for type checkers
    slug = Varchar(length=120, unique=True, index=True)
    source = Varchar(length=120, index=True)
    source_path = Text()
    title = Varchar(length=300)
    # German sort key (DIN 5007-1: ä=a, ö=o, ü=u, ß=ss), so "Ü" sorts with "U" on every engine.
    title_sort = Varchar(length=300, index=True)
    summary = Text()
    kind = Varchar(length=60, index=True)
    status = Varchar(length=20, index=True)
    topics = JSON()
    phases = JSON()
    audiences = JSON()
    tags = JSON()
    # Search metadata (core.content.model): indexed, never part of a read answer.
    search_terms = JSON(default=[])
    materials = JSON()
    related = JSON()
    links = JSON()
    duration = Varchar(length=120, null=True)
    updated_at = Date(index=True)
    body_markdown = Text()
    body_html = Text()
    content_hash = Varchar(length=64)
    synced_at = Timestamptz()


class EntryTerm(Table, tablename="entry_term"):
    """One row per (entry, dimension, value): what the list filters query."""

    entry = ForeignKey(Entry, on_delete=OnDelete.cascade, index=True)
    dimension = Varchar(length=20, index=True)
    value = Varchar(length=200, index=True)


class TaxonomyTerm(Table, tablename="taxonomy_term"):
    dimension = Varchar(length=20, index=True)
    slug = Varchar(length=120)
    label = Varchar(length=300)
    description = Text()
    position = Integer()
    source = Varchar(length=120)


class ContentSource(Table, tablename="content_source"):
    """The content packs of the last sync (core and plugins), for the ``source`` filter."""

    name = Varchar(length=120, unique=True)
    label = Varchar(length=300)
    position = Integer()


class SearchOutbox(Table, tablename="search_outbox"):
    """A change to what should be searchable, written in the same transaction as the change.

    The indexer reads the entry's current row (never a stored payload) and marks the row
    done only after Meilisearch reports the task succeeded; failures stay visible here.
    """

    id: Serial
    entry_slug = Varchar(length=120, index=True)
    created_at = Timestamptz()
    attempts = Integer(default=0)
    last_error = Text(null=True, default=None)
    next_attempt_at = Timestamptz(index=True)
    done_at = Timestamptz(null=True, default=None, index=True)

    @classmethod
    async def enqueue(cls, slugs: Iterable[str]) -> None:
        """Queue ``slugs`` for the indexer (inside the caller's transaction, if any)."""
        now = dt.datetime.now(dt.UTC)
        rows = [cls(entry_slug=slug, created_at=now, next_attempt_at=now) for slug in slugs]
        if rows:
            await cls.insert(*rows)


class QuestionnaireVersion(Table, tablename="questionnaire_version"):
    """One version of a questionnaire definition. Published versions are never changed
    and never deleted: stored results point at them."""

    id: Serial
    key = Varchar(length=100, unique=True)  # "<questionnaire id>@<version>"
    questionnaire_id = Varchar(length=80, index=True)
    version = Integer()
    status = Varchar(length=20, index=True)
    purpose = Varchar(length=20)
    hash = Varchar(length=64)
    definition = JSON()
    source = Varchar(length=120)
    source_path = Text()
    synced_at = Timestamptz()


class QuestionnaireResponse(Table, tablename="questionnaire_response"):
    """An anonymous response: answers, the computed result and what computed it.

    Deliberately absent: IP address, user agent, names, and any time finer than the day.
    The result token is stored only as its SHA-256.
    """

    id: Serial
    token_hash = Varchar(length=64, unique=True)
    questionnaire_id = Varchar(length=80, index=True)
    version = Integer(index=True)
    definition_hash = Varchar(length=64)
    engine_version = Varchar(length=20)
    perspective = Varchar(length=80, index=True)
    mode = Varchar(length=10, index=True)
    answers = JSON()
    result = JSON()
    submitted_on = Date()
    # The partner site it was submitted on (None: the workspace or the API), so a region
    # sees its own figures and its result shows the region's recommendations.
    site = Varchar(length=40, null=True, default=None, index=True)


class ApiKey(Table, tablename="api_key"):
    """A key for protected routes; only the SHA-256 of the token is stored."""

    id: Serial
    name = Varchar(length=120, unique=True)
    prefix = Varchar(length=16)  # the token's first characters, to recognise it in lists
    token_hash = Varchar(length=64, unique=True)
    scopes = JSON()
    created_on = Date()
    expires_on = Date(null=True, default=None)
    revoked_on = Date(null=True, default=None)


class WorkerLease(Table, tablename="worker_lease"):
    """Who may run a singleton job (the search outbox indexer) until when.

    A holder renews its lease while it works; when it dies, the lease simply runs out
    and another worker or instance takes over. See core.db.lease.
    """

    name = Varchar(length=60, unique=True)
    holder = Varchar(length=200)
    expires_at = Timestamptz()


class EditorialEntry(Table, tablename="editorial_entry"):
    """The editorial workflow state of one entry edited in the browser or through the
    editorial API (docs/EDITING.md). Entries never edited have no row: their file is live."""

    id: Serial
    slug = Varchar(length=120, unique=True)
    source = Varchar(length=120, index=True)
    # draft | review | published | unpublished: where the newest revision stands
    state = Varchar(length=20, index=True)
    head = Integer(default=0)  # number of the newest revision
    published = Integer(null=True, default=None)  # number of the live revision, if any
    # content hash of the pack file the editorial line is based on (None: a new entry)
    file_hash = Varchar(length=64, null=True, default=None)
    # a sync found a changed file while an editorial revision was live: the file's entry
    conflict = JSON(null=True, default=None)
    comment = Text(default="")  # the last "send back" comment of the Freigabe
    updated_at = Timestamptz()


class EditorialRevision(Table, tablename="editorial_revision"):
    """One saved version of an entry: who, when, why, and the whole entry (front matter
    fields and body) as JSON. Never changed except for its workflow ``state``."""

    id: Serial
    entry_slug = Varchar(length=120, index=True)
    source = Varchar(length=120)
    number = Integer()  # 1, 2, … per entry
    # draft | review | published | returned | superseded | unpublished
    state = Varchar(length=20)
    based_on = Integer(default=0)  # the revision this one was edited from (0: the file)
    author_id = Integer(null=True, default=None)  # the account's id (None: an API key)
    author = Varchar(length=300, default="")  # e-mail or "API-Schlüssel <name>", a snapshot
    comment = Text(default="")
    created_at = Timestamptz()
    data = JSON()
    content_hash = Varchar(length=64)


class EditorialSlugRedirect(Table, tablename="editorial_slug_redirect"):
    """A renamed entry's old slug, answering 301 to the new one in the API and on pages."""

    old_slug = Varchar(length=120, unique=True)
    new_slug = Varchar(length=120, index=True)
    created_at = Timestamptz()


class Run(Table, tablename="run"):
    """A Durchlauf: one Lotse accompanying one company through the programme (core.runs).

    No legal company name: ``company`` is a pseudonym the Lotse chooses. ``owner_account``
    is the id of the Lotse's account (core.accounts), None for runs created with an API key.
    """

    id: Serial
    owner_account = Integer(null=True, default=None, index=True)
    site = Varchar(length=80, index=True)  # the partner site the run belongs to
    region = Varchar(length=40, index=True)
    company = Varchar(length=120)
    sector = Varchar(length=40, index=True)
    size_class = Varchar(length=20, index=True)
    starts_on = Date(index=True)
    ends_on = Date()
    state = Varchar(length=20, index=True)  # core.runs.model.STATES
    created_at = Timestamptz()
    closed_at = Timestamptz(null=True, default=None)


class RunCode(Table, tablename="run_code"):
    """An invitation link's code: one perspective of one phase of a run. Closed codes
    refuse answers. The code is kept in clear: the Lotse hands the link out again."""

    id: Serial
    run = ForeignKey(Run, on_delete=OnDelete.cascade, index=True)
    code = Varchar(length=64, unique=True)
    questionnaire_id = Varchar(length=80)
    perspective = Varchar(length=80)
    phase = Varchar(length=20)  # "start", "ende" (repeat measurement) or "feedback"
    opened_at = Timestamptz()
    closed_at = Timestamptz(null=True, default=None)


class RunResponse(Table, tablename="run_response"):
    """Which anonymous response answered which run code (nothing about the person)."""

    id: Serial
    run = ForeignKey(Run, on_delete=OnDelete.cascade, index=True)
    response = ForeignKey(QuestionnaireResponse, on_delete=OnDelete.cascade, unique=True)
    phase = Varchar(length=20, index=True)
    perspective = Varchar(length=80)


class RunPoolMember(Table, tablename="run_pool_member"):
    """A mentor or mentee of a run's matching pool (core.runs.pool): only a pseudonym the
    person or the Lotse entered, the role, an optional capacity (mentors) and the tandem
    profile given through the run's profile link (none while the Lotse only added the
    pseudonym)."""

    id: Serial
    run = ForeignKey(Run, on_delete=OnDelete.cascade, index=True)
    role = Varchar(length=10)  # "mentor" or "mentee"
    pseudonym = Varchar(length=40)
    capacity = Integer(null=True, default=None)  # mentors: None = the run's setting
    response = ForeignKey(
        QuestionnaireResponse, on_delete=OnDelete.set_null, null=True, default=None
    )
    added_at = Timestamptz()


class RunPairMark(Table, tablename="run_pair_mark"):
    """A pair of a run's pool marked by the Lotse: ``same_team``, ``reports_to`` or
    ``not_with`` (pair markings; the last two rule the pair out) and her decisions
    ``pin`` and ``forbid`` for the assignment. Pseudonyms only."""

    id: Serial
    run = ForeignKey(Run, on_delete=OnDelete.cascade, index=True)
    mentor = Varchar(length=40)
    mentee = Varchar(length=40)
    kind = Varchar(length=20)


class RunMatching(Table, tablename="run_matching"):
    """A run's matching settings, the last proposal (and the one before, to show what
    changed) and the agreed tandems, as JSON lists of pseudonym pairs with their fit."""

    id: Serial
    run = ForeignKey(Run, on_delete=OnDelete.cascade, unique=True)
    capacity = Integer(default=1)  # mentees per mentor unless the mentor has her own
    threshold = Integer(default=50)  # fit below which no pair is proposed
    proposal = JSON(null=True, default=None)
    previous = JSON(null=True, default=None)
    agreed = JSON(null=True, default=None)
    agreed_at = Timestamptz(null=True, default=None)


class RunGroupSummary(Table, tablename="run_group_summary"):
    """What the programme dashboard needs of one group of a run (phase and perspective;
    all feedback is one group), already reduced to whole blocks (core.runs.dashboard):
    the group's means per dimension, or the feedback's barrier rankings. A submission
    marks its group's row stale in the same transaction (``definition_hash`` emptied,
    ``version`` raised); the dashboard recomputes stale rows from the responses.
    Deleting the run deletes its rows."""

    id: Serial
    key = Varchar(length=60, unique=True)  # "<run>/<phase>/<perspective or feedback>"
    run = ForeignKey(Run, on_delete=OnDelete.cascade, index=True)
    phase = Varchar(length=20)
    perspective = Varchar(length=80)
    version = Integer(default=0)  # raised by every submission to the group
    definition_hash = Varchar(length=200, default="")  # "" until computed
    min_group = Integer(default=0)  # the k it was computed with
    means = JSON(null=True, default=None)  # [[dimension or null, mean or null], ...]
    rankings = JSON(null=True, default=None)  # feedback: the rankings of whole blocks


# -- the editors' side (core.accounts): accounts, sessions, audit log, partner sites -------


class Account(Table, tablename="account"):
    """A person who signs in to the editor (/redaktion). The password is stored only as
    its argon2 hash; ``sources`` lists the content packs a "redaktion" account may edit."""

    id: Serial
    email = Varchar(length=254, unique=True)  # lower-cased
    password_hash = Text()
    role = Varchar(length=20, index=True)
    sources = JSON(default="[]")
    display_name = Varchar(length=120, default="")
    created_at = Timestamptz()
    disabled_at = Timestamptz(null=True, default=None)


class AccountSession(Table, tablename="account_session"):
    """A signed-in browser. The cookie carries the token; only its SHA-256 is stored."""

    id: Serial
    token_hash = Varchar(length=64, unique=True)
    account = ForeignKey(Account, on_delete=OnDelete.cascade, index=True)
    csrf_token = Varchar(length=64)
    created_at = Timestamptz()
    last_seen_at = Timestamptz()
    expires_at = Timestamptz(index=True)


class AuditEvent(Table, tablename="audit_event"):
    """One editorial action: who (and the e-mail address as it was then), what, on which
    object, from which address. Never passwords, tokens or session ids."""

    id: Serial
    at = Timestamptz(index=True)
    account = ForeignKey(Account, on_delete=OnDelete.set_null, null=True, index=True)
    email = Varchar(length=254, default="", index=True)
    action = Varchar(length=60, index=True)
    object_type = Varchar(length=40, default="", index=True)
    object_id = Varchar(length=200, default="", index=True)
    detail = JSON(default="{}")
    address = Varchar(length=64, default="")


class LoginThrottle(Table, tablename="login_throttle"):
    """Failed sign-ins per key ("account:<email>" or "address:<ip>") in the current window."""

    key = Varchar(length=300, unique=True)
    failures = Integer(default=0)
    window_start = Timestamptz()
    locked_until = Timestamptz(null=True, default=None)


class PartnerSite(Table, tablename="partner_site"):
    """A partner site kept in the database by admins (/redaktion/partnerseiten): it adds a
    site, or overlays the file-defined site with the same id, without a redeploy."""

    id: Serial
    site_id = Varchar(length=40, unique=True)
    label = Varchar(length=200)
    theme = Varchar(length=40, default="default")
    description = Text(default="")
    origins = JSON(default="[]")
    # JSON null: all (as a missing key in a site file); a list: only these.
    sources = JSON(null=True, default=None)
    topics = JSON(null=True, default=None)
    questionnaires = JSON(null=True, default=None)
    language = Varchar(length=2, default="de")
    active = Boolean(default=True)
    updated_at = Timestamptz()
    updated_by = Varchar(length=254, default="")


class RegionSource(Table, tablename="region_source"):
    """A region's content source made by an admin in the editor (/redaktion/regionen):
    its name is a content pack's name (a row in ``content_source`` beside it), its colours
    and logo a theme of the same name, served without a restart (core.web.region_store)."""

    name = Varchar(length=30, unique=True)
    label = Varchar(length=80)
    primary = Varchar(length=7)
    accent = Varchar(length=7)
    # PNG or WebP bytes (checked and size-limited before they are stored); None: no logo.
    logo = Bytea(null=True, default=None)
    logo_type = Varchar(length=20, default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()
    updated_by = Varchar(length=254, default="")


class RenderedDocument(Table, tablename="rendered_document"):
    """A read answer of the API rendered once when content changed (core.content.rendered):
    the JSON bytes, their strong ETag and compressed variants, by key (``entry:<slug>``,
    ``entries:`` for the default list, ``taxonomy``)."""

    key = Varchar(length=200, unique=True)
    etag = Varchar(length=80)
    body = Bytea()
    body_gzip = Bytea(null=True, default=None)
    body_br = Bytea(null=True, default=None)


class RenderedVersion(Table, tablename="rendered_version"):
    """One row: a number that grows whenever a rendered document changes. Every worker
    polls it (a primary-key read) and reloads the documents when it moves."""

    name = Varchar(length=40, unique=True)
    version = Integer(default=0)


TABLES: tuple[type[Table], ...] = (
    Entry,
    EntryTerm,
    TaxonomyTerm,
    ContentSource,
    SearchOutbox,
    QuestionnaireVersion,
    QuestionnaireResponse,
    ApiKey,
    WorkerLease,
    EditorialEntry,
    EditorialRevision,
    EditorialSlugRedirect,
    Run,
    RunCode,
    RunResponse,
    RunPoolMember,
    RunPairMark,
    RunMatching,
    RunGroupSummary,
    Account,
    AccountSession,
    AuditEvent,
    LoginThrottle,
    PartnerSite,
    RegionSource,
    RenderedDocument,
    RenderedVersion,
)
