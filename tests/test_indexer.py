"""The outbox reaches a real Meilisearch: sync -> found, edit -> edited, delete -> gone."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from meilisearch_python_sdk import AsyncClient

from core.cli import main
from core.content.model import PUBLISHED
from core.db.tables import Entry, SearchOutbox
from core.settings import Settings
from search.documents import DOCUMENT_SHAPE, SEARCHABLE
from search.indexer import DrainResult, drain_outbox, ensure_index, reconcile
from search.local_server import LocalMeilisearch, free_port
from search.query import search_entries
from search.rebuild import _ndjson, rebuild_index
from tests.conftest import run, sync


@pytest.fixture(scope="module")
def meili(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalMeilisearch]:
    """One real Meilisearch process for this module; each test uses its own index."""
    with LocalMeilisearch(tmp_path_factory.mktemp("meili")) as server:
        yield server


@pytest.fixture
def index_uid() -> str:
    return f"test_{uuid.uuid4().hex[:12]}"


async def _drain_and_search(
    server: LocalMeilisearch, uid: str, query: str
) -> tuple[DrainResult, list[dict[str, Any]]]:
    async with AsyncClient(server.url, server.master_key) as client:
        await ensure_index(client, uid)
        result = await drain_outbox(client, uid)
        hits = (await client.index(uid).search(query)).hits
        return result, hits


def drain_and_search(
    server: LocalMeilisearch, uid: str, query: str
) -> tuple[DrainResult, list[str]]:
    result, hits = run(_drain_and_search(server, uid, query))
    return result, [hit["slug"] for hit in hits]


def cli_env(meili: LocalMeilisearch, settings: Settings, uid: str) -> dict[str, str | None]:
    """Environment for running the CLI against this test's database and index."""
    return {
        "DATABASE_URL": settings.database_url,
        "MEILI_URL": meili.url,
        "MEILI_MASTER_KEY": meili.master_key,
        "MEILI_INDEX": uid,
    }


def pending() -> int:
    return int(run(SearchOutbox.count().where(SearchOutbox.done_at.is_null()).run()))


def test_sync_edit_and_delete_reach_the_index(
    meili: LocalMeilisearch, index_uid: str, fixture_settings: Settings, content_dir: Path
) -> None:
    sync(fixture_settings)
    result, found = drain_and_search(meili, index_uid, "Aufgabenliste")
    assert result.upserted == 3  # the draft is not published, so it is deleted, not indexed
    assert result.deleted == 1
    assert found[0] == "aufgabenliste"
    assert pending() == 0

    path = content_dir / "entries" / "aufgabenliste.md"
    text = path.read_text(encoding="utf-8").replace("Eine Liste", "Eine Zettelwirtschaft-Liste")
    path.write_text(text, encoding="utf-8")
    sync(fixture_settings)
    _, found = drain_and_search(meili, index_uid, "Zettelwirtschaft")
    assert found == ["aufgabenliste"]

    path.unlink()
    (content_dir / "entries" / "ueberblick.md").unlink()  # it linked to aufgabenliste
    shutil.rmtree(content_dir / "questionnaires")  # their bands recommend both entries
    sync(fixture_settings)
    result, found = drain_and_search(meili, index_uid, "Aufgabenliste")
    assert result.deleted == 2
    assert found == []


def test_meilisearch_down_keeps_changes_pending_until_it_returns(
    tmp_path: Path, index_uid: str, fixture_settings: Settings
) -> None:
    sync(fixture_settings)
    server = LocalMeilisearch(tmp_path / "meili").start()
    url, key = server.url, server.master_key
    server.stop()  # a real outage: nothing listens on the port any more

    async def drain_while_down() -> DrainResult:
        async with AsyncClient(url, key, timeout=2) as client:
            return await drain_outbox(client, index_uid)

    result = run(drain_while_down())
    assert result.failed == 4
    assert result.error
    rows = run(SearchOutbox.select().run())
    assert all(row["done_at"] is None and row["attempts"] == 1 for row in rows)
    assert all(row["last_error"] for row in rows)

    # Back up on the same port and data; the rows are due again after their backoff.
    with LocalMeilisearch(tmp_path / "meili", port=server.port) as again:
        run(
            SearchOutbox.update(
                {SearchOutbox.next_attempt_at: rows[0]["created_at"]}, force=True
            ).run()
        )
        result, found = drain_and_search(again, index_uid, "Arbeitsablauf")
        assert result.upserted == 3
        assert found[0] == "arbeitsablauf"
        assert pending() == 0


def test_ensure_index_is_idempotent(meili: LocalMeilisearch, index_uid: str) -> None:
    async def twice() -> dict[str, Any]:
        async with AsyncClient(meili.url, meili.master_key) as client:
            await ensure_index(client, index_uid)
            await ensure_index(client, index_uid)
            response = await client.http_client.get(f"indexes/{index_uid}/settings")
            info = await client.http_client.get(f"indexes/{index_uid}")
            return {**response.json(), "primaryKey": info.json()["primaryKey"]}

    settings = asyncio.run(twice())
    assert settings["primaryKey"] == "slug"
    assert settings["searchableAttributes"] == SEARCHABLE
    assert SEARCHABLE.index("title") < SEARCHABLE.index("tags") < SEARCHABLE.index("summary")
    # The facets and tags, and the slug (a region's site leaves out the entries it hides).
    assert sorted(settings["filterableAttributes"]) == sorted(
        ["topics", "phases", "audiences", "kind", "source", "tags", "slug"]
    )


def test_reconcile_queues_missing_outdated_and_orphaned_documents(
    meili: LocalMeilisearch, index_uid: str, fixture_settings: Settings
) -> None:
    sync(fixture_settings)
    drain_and_search(meili, index_uid, "")

    async def tamper_and_reconcile() -> int:
        async with AsyncClient(meili.url, meili.master_key) as client:
            index = client.index(index_uid)
            tasks = [
                await index.delete_document("aufgabenliste"),  # missing
                await index.update_documents([{"slug": "ueberblick", "content_hash": "old"}]),
                await index.add_documents([{"slug": "verwaist", "title": "Verwaist"}]),
            ]
            for task in tasks:
                await client.wait_for_task(task.task_uid)
            return await reconcile(client, index_uid)

    assert run(tamper_and_reconcile()) == 3
    queued = run(SearchOutbox.select().where(SearchOutbox.done_at.is_null()).run())
    assert sorted(row["entry_slug"] for row in queued) == [
        "aufgabenliste",
        "ueberblick",
        "verwaist",
    ]
    _, found = drain_and_search(meili, index_uid, "")
    assert sorted(found) == ["arbeitsablauf", "aufgabenliste", "ueberblick"]
    assert run(_count_reconcile(meili, index_uid)) == 0  # converged


def test_reconcile_rebuilds_documents_of_an_older_shape(
    meili: LocalMeilisearch, index_uid: str, fixture_settings: Settings
) -> None:
    # An upgrade that changes what a document holds: the index still has the old shape
    # (here: the bare content hash of before DOCUMENT_SHAPE, and a field that is gone).
    sync(fixture_settings)
    drain_and_search(meili, index_uid, "")

    async def downgrade_and_reconcile() -> int:
        async with AsyncClient(meili.url, meili.master_key) as client:
            index = client.index(index_uid)
            old = [
                {"slug": row["slug"], "content_hash": row["content_hash"], "body": "alt"}
                for row in await Entry.select(Entry.slug, Entry.content_hash).where(
                    Entry.status == PUBLISHED
                )
            ]
            await client.wait_for_task((await index.update_documents(old)).task_uid)
            return await reconcile(client, index_uid)

    assert run(downgrade_and_reconcile()) == 3  # every entry queued, no manual reindex
    drain_and_search(meili, index_uid, "")

    async def stored() -> list[dict[str, Any]]:
        async with AsyncClient(meili.url, meili.master_key) as client:
            answer = await client.http_client.get(
                f"indexes/{index_uid}/documents", params={"fields": "slug,content_hash"}
            )
            return list(answer.json()["results"])

    published = Entry.select(Entry.slug, Entry.content_hash).where(Entry.status == PUBLISHED)
    rows = {r["slug"]: r["content_hash"] for r in run(published.run())}
    assert {d["slug"]: d["content_hash"] for d in run(stored())} == {
        slug: f"{digest}/{DOCUMENT_SHAPE}" for slug, digest in rows.items()
    }
    assert run(_count_reconcile(meili, index_uid)) == 0  # converged


async def _count_reconcile(meili: LocalMeilisearch, uid: str) -> int:
    async with AsyncClient(meili.url, meili.master_key) as client:
        return await reconcile(client, uid)


def test_status_command_compares_index_and_database(
    meili: LocalMeilisearch, index_uid: str, fixture_settings: Settings
) -> None:
    sync(fixture_settings)
    env = cli_env(meili, fixture_settings, index_uid)
    before = CliRunner().invoke(main, ["search", "status"], env={**env, "MEILI_URL": None})
    assert before.exit_code == 0, before.output
    assert "Entries in the database (published): 3" in before.output
    assert "Outbox pending: 4 (failing: 0)" in before.output
    assert "no MEILI_URL set" in before.output
    assert "Indexer: none running" in before.output
    drain_and_search(meili, index_uid, "")
    after = CliRunner().invoke(main, ["search", "status"], env=env)
    assert f"Documents in index '{index_uid}': 3" in after.output
    assert "Outbox pending: 0 (failing: 0)" in after.output


def test_status_command_names_an_unreachable_meilisearch_and_still_reports_the_database(
    index_uid: str, fixture_settings: Settings
) -> None:
    sync(fixture_settings)
    nobody = f"http://127.0.0.1:{free_port()}"  # a real port that nothing listens on
    env = {
        "DATABASE_URL": fixture_settings.database_url,
        "MEILI_URL": nobody,
        "MEILI_INDEX": index_uid,
    }
    result = CliRunner().invoke(main, ["search", "status"], env=env)
    assert result.exit_code == 0, result.output
    assert f"Documents in index '{index_uid}': unreachable (ConnectError: " in result.output
    assert "Entries in the database (published): 3" in result.output
    assert "Outbox pending: 4 (failing: 0)" in result.output


def test_reindex_swaps_in_a_fresh_index_while_searches_keep_answering(
    meili: LocalMeilisearch, index_uid: str, fixture_settings: Settings
) -> None:
    sync(fixture_settings)
    drain_and_search(meili, index_uid, "")

    async def rebuild_while_searching() -> tuple[int, list[bool], list[str]]:
        async with AsyncClient(meili.url, meili.master_key) as client:
            done = asyncio.Event()
            found: list[bool] = []

            async def search_loop() -> None:
                while not done.is_set():
                    result = await client.index(index_uid).search("Aufgabenliste")
                    # An exception here fails the test: no search may fail during the rebuild.
                    found.append(any(hit["slug"] == "aufgabenliste" for hit in result.hits))
                    await asyncio.sleep(0)

            async def rebuild() -> int:
                try:
                    return await rebuild_index(client, index_uid)
                finally:
                    done.set()

            count, _ = await asyncio.gather(rebuild(), search_loop())
            indexes = await client.http_client.get("indexes", params={"limit": 1000})
            uids = [i["uid"] for i in indexes.json()["results"] if i["uid"].startswith(index_uid)]
            return count, found, uids

    count, found, uids = run(rebuild_while_searching())
    assert count == 3
    assert found
    assert all(found)  # the entry was found by every search, before, during and after the swap
    assert uids == [index_uid]  # the old index is gone, no rebuild index left over
    _, found = drain_and_search(meili, index_uid, "")
    assert sorted(found) == ["arbeitsablauf", "aufgabenliste", "ueberblick"]


def test_reindex_command_rebuilds_and_reports(
    meili: LocalMeilisearch, index_uid: str, fixture_settings: Settings
) -> None:
    sync(fixture_settings)
    env = cli_env(meili, fixture_settings, index_uid)
    result = CliRunner().invoke(main, ["search", "reindex"], env=env)
    assert result.exit_code == 0, result.output
    assert f"Rebuilt index '{index_uid}' with 3 documents and swapped it in." in result.output
    _, found = drain_and_search(meili, index_uid, "Arbeitsablauf")
    assert found[0] == "arbeitsablauf"


def test_meilisearch_killed_mid_drain_converges_after_restart(
    tmp_path: Path, index_uid: str, fixture_settings: Settings
) -> None:
    sync(fixture_settings)
    server = LocalMeilisearch(tmp_path / "meili").start()
    assert server.process is not None

    async def drain_and_kill() -> None:
        async with AsyncClient(server.url, server.master_key, timeout=2) as client:
            await ensure_index(client, index_uid)
            drain = asyncio.create_task(drain_outbox(client, index_uid))
            await asyncio.sleep(0.01)
            server.process.kill()  # type: ignore[union-attr]  # SIGKILL, no clean shutdown
            await drain

    run(drain_and_kill())
    server.process.wait()
    # Whatever the kill interrupted, nothing is marked done that Meilisearch did not confirm.
    with LocalMeilisearch(tmp_path / "meili", port=server.port) as again:
        run(
            SearchOutbox.update(
                {SearchOutbox.next_attempt_at: SearchOutbox.created_at}, force=True
            ).run()
        )
        _, found = drain_and_search(again, index_uid, "")
        assert sorted(found) == ["arbeitsablauf", "aufgabenliste", "ueberblick"]
        assert pending() == 0


def test_queries_work_with_a_search_only_key(meili: LocalMeilisearch, index_uid: str) -> None:
    async def search_with_limited_key() -> tuple[int, int]:
        async with AsyncClient(meili.url, meili.master_key) as admin:
            await ensure_index(admin, index_uid)
            created = await admin.http_client.post(
                "keys", json={"actions": ["search"], "indexes": [index_uid], "expiresAt": None}
            )
            key = created.json()["key"]
        async with AsyncClient(meili.url, key) as searcher:
            # What /api/v1/search sends, with the key the app uses for queries (MEILI_SEARCH_KEY).
            result = await search_entries(
                searcher, index_uid, q="", filters={}, page=1, page_size=5, facets=["topic"]
            )
            refused = await searcher.http_client.post(
                f"indexes/{index_uid}/documents", json=[{"slug": "x"}]
            )
            return result["pagination"]["total"], refused.status_code

    assert run(search_with_limited_key()) == (0, 403)  # searching works; writing is refused


def test_reindex_sends_all_documents_as_one_task_and_leaves_the_live_settings_alone(
    meili: LocalMeilisearch,
    index_uid: str,
    fixture_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Entries read one at a time still go out as one task while they fit the payload
    budget (a task per entry would make Meilisearch index many small batches), and
    re-applying settings to the live index, which the swap drops anyway, would make it
    reindex that too (docs/PERFORMANCE.md)."""
    sync(fixture_settings)
    drain_and_search(meili, index_uid, "")
    monkeypatch.setattr("search.rebuild.BATCH_SIZE", 1)  # read one entry at a time

    async def rebuild_and_list_tasks() -> tuple[int, list[dict[str, Any]]]:
        async with AsyncClient(meili.url, meili.master_key) as client:
            before = await client.http_client.get("tasks", params={"limit": 1})
            after_uid = before.json()["results"][0]["uid"]
            changed = {"synonyms": {"Zettel": ["Aufgabenliste"]}}
            count = await rebuild_index(client, index_uid, settings=changed)
            tasks = await client.http_client.get(
                "tasks", params={"afterEnqueuedAt": "2000-01-01T00:00:00Z", "limit": 1000}
            )
            live = await client.http_client.get(f"indexes/{index_uid}/settings")
            assert live.json()["synonyms"] == {"Zettel": ["Aufgabenliste"]}  # swapped in
            return count, [t for t in tasks.json()["results"] if t["uid"] > after_uid]

    count, tasks = run(rebuild_and_list_tasks())
    assert count == 3
    additions = [t for t in tasks if t["type"] == "documentAdditionOrUpdate"]
    assert len(additions) == 1
    assert additions[0]["details"]["receivedDocuments"] == 3
    assert not [t for t in tasks if t["type"] == "settingsUpdate" and t["indexUid"] == index_uid]


def test_reindex_starts_a_new_request_before_one_would_pass_the_payload_budget(
    meili: LocalMeilisearch,
    index_uid: str,
    fixture_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Meilisearch refuses a request over its payload limit: documents that would pass the
    budget go into the next request, and none is lost or sent twice between the two."""
    sync(fixture_settings)
    monkeypatch.setattr("search.rebuild.BATCH_SIZE", 1)  # read one entry at a time
    rows = run(
        Entry.select()
        .where(Entry.status == PUBLISHED)
        .order_by(Entry.id)
        .output(load_json=True)
        .run()
    )
    sizes = [len(_ndjson([row], None)) for row in rows]
    assert len(sizes) == 3
    # The first two fill the budget exactly; the third must wait for a request of its own.
    monkeypatch.setattr("search.rebuild.PAYLOAD_BUDGET", sizes[0] + sizes[1])

    async def rebuild() -> tuple[int, list[dict[str, Any]], list[str]]:
        async with AsyncClient(meili.url, meili.master_key) as client:
            before = await client.http_client.get("tasks", params={"limit": 1})
            after_uid = before.json()["results"][0]["uid"] if before.json()["results"] else -1
            count = await rebuild_index(client, index_uid)
            tasks = await client.http_client.get(
                "tasks", params={"afterEnqueuedAt": "2000-01-01T00:00:00Z", "limit": 1000}
            )
            hits = (await client.index(index_uid).search("", limit=10)).hits
            new = [t for t in tasks.json()["results"] if t["uid"] > after_uid]
            return count, new, [hit["slug"] for hit in hits]

    count, tasks, found = run(rebuild())
    assert count == 3
    additions = sorted(
        (t for t in tasks if t["type"] == "documentAdditionOrUpdate"), key=lambda t: t["uid"]
    )
    assert [t["details"]["receivedDocuments"] for t in additions] == [2, 1]
    assert [t["status"] for t in additions] == ["succeeded", "succeeded"]
    assert sorted(found) == ["arbeitsablauf", "aufgabenliste", "ueberblick"]  # the swapped-in index


def test_reindex_settles_the_changes_it_already_contains(
    meili: LocalMeilisearch, index_uid: str, fixture_settings: Settings
) -> None:
    """After a full rebuild the worker has nothing left to redo: the changes queued before
    it are in the new index (the rebuild read every entry after them)."""
    sync(fixture_settings)
    assert pending() == 4

    async def rebuild() -> int:
        async with AsyncClient(meili.url, meili.master_key) as client:
            return await rebuild_index(client, index_uid)

    assert run(rebuild()) == 3
    assert pending() == 0
    _, found = drain_and_search(meili, index_uid, "")
    assert sorted(found) == ["arbeitsablauf", "aufgabenliste", "ueberblick"]
