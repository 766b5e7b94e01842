"""Stored read answers (issue 19): what clients receive is what they received before the
answers were rendered at sync time — the same bytes, ETags and 304s — now in gzip and
brotli too, for GET and HEAD; and a change reaches every instance within a second."""

from __future__ import annotations

import asyncio
import gzip
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import brotli
import httpx
import msgspec
import pytest
from litestar.testing import TestClient

from core.app import create_app
from core.content import queries
from core.content.documents import (
    EntryDetail,
    EntryList,
    EntryOne,
    EntryRef,
    EntrySummary,
    ListMeta,
    Pagination,
    Taxonomy,
    TaxonomyOne,
)
from core.content.markdown import entry_url
from core.content.rendered import etag_for
from core.db.engine import engine_from_url, use_engine
from core.plugins import build_registry
from core.settings import Settings
from tests.conftest import FIXTURE_CONTENT, SHIPPED_CONTENT, make_settings, run, sync
from tests.processes import App

IDENTITY = {"Accept-Encoding": "identity"}


# -- the handlers as they were before issue 19, kept here as the reference --------------


def _ref(row: dict[str, Any]) -> EntryRef:
    return EntryRef(
        slug=row["slug"],
        title=row["title"],
        summary=row["summary"],
        kind=row["kind"],
        source=row["source"],
        url=entry_url(row["slug"]),
    )


async def before_entry(slug: str) -> bytes:
    row = await queries.get_entry(slug)
    assert row is not None
    row["url"] = entry_url(slug)
    row["links_to"] = [_ref(r) for r in row["links_to"]]
    row["linked_from"] = [_ref(r) for r in row["linked_from"]]
    return msgspec.json.encode(EntryOne(data=msgspec.convert(row, EntryDetail, strict=False)))


async def before_list(query: queries.EntryQuery) -> bytes:
    rows, total = await queries.list_entries(query)
    pagination = Pagination(
        page=query.page,
        page_size=query.page_size,
        page_count=math.ceil(total / query.page_size),
        total=total,
    )
    data = [msgspec.convert({**row, "url": entry_url(row["slug"])}, EntrySummary) for row in rows]
    return msgspec.json.encode(EntryList(data=data, meta=ListMeta(pagination=pagination)))


async def before_taxonomy() -> bytes:
    taxonomy = msgspec.convert(await queries.taxonomy_with_counts(), Taxonomy)
    return msgspec.json.encode(TaxonomyOne(data=taxonomy))


def list_queries(taxonomy: dict[str, Any]) -> list[tuple[str, queries.EntryQuery]]:
    """What partners ask the list: every filter value alone, pairs, every sort, pages."""
    params = {"topics": "topic", "phases": "phase", "audiences": "audience", "kinds": "kind"}
    params["sources"] = "source"
    found: list[tuple[str, queries.EntryQuery]] = [("", queries.EntryQuery())]
    for dimension, param in params.items():
        values = [term["slug"] for term in taxonomy[dimension]]
        for value in values:
            found.append((f"{param}={value}", queries.EntryQuery(filters={param: [value]})))
        if len(values) > 1:
            pair = values[:2]
            found.append(
                (f"{param}={pair[0]},{pair[1]}", queries.EntryQuery(filters={param: pair}))
            )
    topic, phase = taxonomy["topics"][0]["slug"], taxonomy["phases"][0]["slug"]
    found.append(
        (
            f"topic={topic}&phase={phase}",
            queries.EntryQuery(filters={"topic": [topic], "phase": [phase]}),
        )
    )
    for sort in (
        "title",
        "-title",
        "updated_at",
        "-updated_at",
        "slug",
        "-slug",
        "-updated_at,title",
    ):
        fields = [(f.removeprefix("-"), f.startswith("-")) for f in sort.split(",")]
        found.append((f"sort={sort}", queries.EntryQuery(sort=fields)))
    for page, size in ((1, 5), (2, 5), (3, 7), (1, 100), (99, 20)):
        found.append(
            (f"page={page}&page_size={size}", queries.EntryQuery(page=page, page_size=size))
        )
    return found


def without_request_id(response: httpx.Response) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in response.headers.raw if k.lower() != b"x-request-id"]


@pytest.fixture
def shipped(database_url: str) -> Settings:
    settings = make_settings(database_url, SHIPPED_CONTENT)
    sync(settings, build_registry(settings))
    return settings


def test_every_shipped_answer_is_byte_identical_to_before(shipped: Settings) -> None:
    """For every shipped entry, the taxonomy and the list queries partners send: the body
    and ETag of before, the first answer (rendered by the route) and the next ones (sent
    from memory) with the same headers, and gzip and brotli variants of the same bytes."""

    async def reference() -> tuple[dict[str, bytes], dict[str, Any]]:
        use_engine(engine_from_url(shipped.database_url))
        slugs = [
            row["slug"]
            for row in (await queries.list_entries(queries.EntryQuery(page_size=100)))[0]
        ]
        expected = {f"/api/v1/entries/{slug}": await before_entry(slug) for slug in slugs}
        expected["/api/v1/taxonomy"] = await before_taxonomy()
        taxonomy = msgspec.json.decode(expected["/api/v1/taxonomy"])["data"]
        for query_string, query in list_queries(taxonomy):
            path = "/api/v1/entries" + (f"?{query_string}" if query_string else "")
            expected[path] = await before_list(query)
        return expected, taxonomy

    expected, _ = run(reference())
    assert sum(p.startswith("/api/v1/entries/") for p in expected) >= 40
    with TestClient(create_app(shipped, build_registry(shipped))) as client:
        for path, body in expected.items():
            if "?" in path:  # a new query string: the route answers first, then the store
                tag = {"If-None-Match": etag_for(body), **IDENTITY}
                by_route = client.get(path + "&", headers=tag)
                from_memory = client.get(path + "&", headers=tag)
                assert by_route.status_code == from_memory.status_code == 304, path
                assert without_request_id(by_route) == without_request_id(from_memory)
            first = client.get(path, headers=IDENTITY)
            again = client.get(path, headers=IDENTITY)
            for response in (first, again):
                assert response.status_code == 200, path
                assert response.content == body, path
                assert response.headers["etag"] == etag_for(body), path
                assert "content-encoding" not in response.headers
            assert without_request_id(again) == without_request_id(first), path

            if len(body) < 200:  # compressed would be longer: sent as it is
                continue
            raw_gzip = client.get(path, headers={"Accept-Encoding": "gzip"})
            assert raw_gzip.headers["content-encoding"] == "gzip"
            assert raw_gzip.headers["etag"] == "W/" + etag_for(body)
            assert "Accept-Encoding" in raw_gzip.headers["vary"]
            assert raw_gzip.content == body  # httpx decoded it
            raw_br = client.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
            assert raw_br.headers["content-encoding"] == "br"
            assert raw_br.content == body


def _fixture_app(database_url: str, tmp_path: Path) -> tuple[Settings, TestClient[Any]]:
    settings = make_settings(database_url, FIXTURE_CONTENT)
    sync(settings)
    registry = build_registry(settings, load_installed=False)
    return settings, TestClient(create_app(settings, registry))


def test_conditional_and_head_come_from_the_stored_bytes(database_url: str, tmp_path: Path) -> None:
    _, app = _fixture_app(database_url, tmp_path)
    with app as client:
        path = "/api/v1/entries/ueberblick"
        client.get(path)  # loaded
        get = client.get(path, headers=IDENTITY)
        etag = get.headers["etag"]
        head = client.head(path, headers=IDENTITY)
        assert head.status_code == 200
        assert head.content == b""
        assert without_request_id(head) == without_request_id(get)
        assert head.headers["content-length"] == str(len(get.content))

        # A client holding either variant, weakly compared or in a list, gets its 304.
        for tag in (etag, f"W/{etag}", f'"x", {etag}', f'"x",W/{etag}', "*"):
            for encoding in ("identity", "gzip", "br"):
                answer = client.get(
                    path, headers={"If-None-Match": tag, "Accept-Encoding": encoding}
                )
                assert answer.status_code == 304, (tag, encoding)
                assert answer.content == b""
                assert "content-encoding" not in answer.headers
                assert answer.headers["etag"] in (etag, f"W/{etag}")
                assert answer.headers["cache-control"].startswith("public, max-age=")
        assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
        assert client.get(path, headers={"If-None-Match": etag[:-1] + 'x"'}).status_code == 200
        head_304 = client.head(path, headers={"If-None-Match": etag})
        assert head_304.status_code == 304

        # gzip;q=0 is a refusal; * stands for what is not named.
        assert (
            "content-encoding"
            not in client.get(path, headers={"Accept-Encoding": "gzip;q=0"}).headers
        )
        assert (
            client.get(path, headers={"Accept-Encoding": "*"}).headers["content-encoding"] == "br"
        )
        assert (
            client.get(path, headers={"Accept-Encoding": "br;q=0, *"}).headers["content-encoding"]
            == "gzip"
        )


def test_stored_variants_decode_to_the_identity_bytes(database_url: str, tmp_path: Path) -> None:
    """The compressed bytes as sent (httpx left undecoded) are the identity bytes."""
    _, app = _fixture_app(database_url, tmp_path)
    with app as client:
        plain = client.get("/api/v1/taxonomy", headers=IDENTITY).content
        with client.stream("GET", "/api/v1/taxonomy", headers={"Accept-Encoding": "gzip"}) as s:
            assert gzip.decompress(b"".join(s.iter_raw())) == plain
        with client.stream("GET", "/api/v1/taxonomy", headers={"Accept-Encoding": "br"}) as s:
            assert brotli.decompress(b"".join(s.iter_raw())) == plain


def test_unknown_and_odd_paths_are_still_answered_by_the_routes(
    database_url: str, tmp_path: Path
) -> None:
    _, app = _fixture_app(database_url, tmp_path)
    with app as client:
        missing = client.get("/api/v1/entries/gibt-es-nicht")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert client.get("/api/v1/entries?topic=unbekannt").status_code == 400
        assert client.get("/api/v1/entries/ueberblick?x=1").status_code == 200
        assert client.post("/api/v1/entries/ueberblick").status_code == 405


# -- two instances on one PostgreSQL ---------------------------------------------------


@pytest.mark.postgres
def test_a_change_reaches_both_instances_within_a_second(
    postgres_database: str, content_dir: Path, tmp_path: Path, apps: Callable[..., App]
) -> None:
    """Two instances of two workers each, on one PostgreSQL: after `content sync` returns,
    every answer from either instance is the new one within a second."""

    async def reset() -> None:
        import asyncpg

        conn = await asyncpg.connect(postgres_database)
        try:
            await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        finally:
            await conn.close()

    asyncio.run(reset())
    settings = make_settings(postgres_database, content_dir)
    sync(settings)
    instances = []
    for name in ("a", "b"):
        (tmp_path / f"metrics-{name}").mkdir()
        env = {
            **os.environ,
            "DATABASE_URL": postgres_database,
            "MENTORING40_CONTENT_DIR": str(content_dir),
            "MENTORING40_LOAD_PLUGINS": "",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / f"metrics-{name}"),
        }
        env.pop("MEILI_URL", None)
        instances.append(apps(env, tmp_path / f"{name}.log", workers=2))
    path = "/api/v1/entries/ueberblick"
    before = httpx.get(instances[0].url + path).headers["etag"]

    entry = content_dir / "entries" / "ueberblick.md"
    entry.write_text(
        entry.read_text(encoding="utf-8").replace("kurzer", "knapper"), encoding="utf-8"
    )
    assert sync(settings).updated == ["ueberblick"]
    synced_at = time.monotonic()
    time.sleep(max(0.0, 1.0 - (time.monotonic() - synced_at)))
    # Every request below starts a second or more after the sync; each on a fresh
    # connection, which lands on one of the instance's workers.
    seen = [httpx.get(app.url + path, headers={"Connection": "close"}) for app in instances * 8]
    assert all(r.status_code == 200 for r in seen)
    assert {r.headers["etag"] for r in seen} != {before}
    assert all("knapper" in r.json()["data"]["summary"] for r in seen)
    assert len({r.headers["etag"] for r in seen}) == 1
