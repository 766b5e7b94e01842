"""The relevance set (queries.yaml) against a real Meilisearch and the shipped content."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from meilisearch_python_sdk import AsyncClient

from core.plugins import build_registry
from core.settings import Settings
from search.config import search_setup
from search.indexer import drain_outbox, ensure_index
from search.local_server import LocalMeilisearch
from search.query import search_entries
from tests.conftest import SHIPPED_CONTENT, run, sync

CASES: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parent / "queries.yaml").read_text(encoding="utf-8")
)
UID = "relevance"


@pytest.fixture(scope="module")
def meili(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalMeilisearch]:
    """The shipped toolbox indexed exactly as the app would index it."""
    folder = tmp_path_factory.mktemp("relevance")
    settings = Settings(
        database_url=f"sqlite:///{folder / 'db.sqlite'}", content_dir=SHIPPED_CONTENT
    )
    registry = build_registry(settings)
    sync(settings, registry)
    index_settings, enrich = search_setup(registry, settings)
    with LocalMeilisearch(folder / "meili") as server:

        async def index() -> None:
            async with AsyncClient(server.url, server.master_key) as client:
                await ensure_index(client, UID, index_settings)
                while (await drain_outbox(client, UID, enrich=enrich)).upserted:
                    pass

        run(index())
        yield server


def top_hits(server: LocalMeilisearch, q: str) -> list[str]:
    async def go() -> list[str]:
        async with AsyncClient(server.url, server.master_key) as client:
            result = await search_entries(
                client, UID, q=q, filters={}, page=1, page_size=5, facets=[]
            )
            return [hit["slug"] for hit in result["hits"]]

    return run(go())


@pytest.mark.parametrize(("query", "expected"), sorted(CASES["lotse"].items()))
def test_lotse_query_puts_the_wanted_entry_first(
    meili: LocalMeilisearch, query: str, expected: str
) -> None:
    hits = top_hits(meili, query)
    assert hits, f"{query!r} found nothing"
    assert hits[0] == expected, f"{query!r}: top hits {hits[:3]}"


def test_the_set_has_at_least_25_lotse_queries() -> None:
    assert len(CASES["lotse"]) >= 25


@pytest.mark.parametrize(("query", "case"), sorted(CASES["compound_tails"].items()))
def test_tail_of_a_compound_finds_the_compound(
    meili: LocalMeilisearch, query: str, case: dict[str, str]
) -> None:
    # Honest only if the word never stands alone in the content: then the hit can only
    # come from splitting the compound.
    corpus = " ".join(
        path.read_text(encoding="utf-8")
        for path in [*SHIPPED_CONTENT.glob("entries/*.md"), *_plugin_entries()]
    )
    assert not re.search(rf"(?<![\wäöüß]){query}(?![\wäöüß])", corpus, re.IGNORECASE)
    assert case["compound"] in corpus
    assert top_hits(meili, query)[:1] == [case["expect"]]


@pytest.mark.parametrize(("query", "expected"), sorted(CASES["umlaut_spellings"].items()))
def test_umlaut_spelling_finds_the_entry(
    meili: LocalMeilisearch, query: str, expected: str
) -> None:
    assert top_hits(meili, query)[:1] == [expected]


@pytest.mark.parametrize(("query", "expected"), sorted(CASES["typos"].items()))
def test_typo_finds_the_entry(meili: LocalMeilisearch, query: str, expected: str) -> None:
    assert top_hits(meili, query)[:1] == [expected]


@pytest.mark.parametrize("fragment", CASES["fragments"])
def test_two_letter_fragments_match_nothing(meili: LocalMeilisearch, fragment: str) -> None:
    assert top_hits(meili, fragment) == []


def _plugin_entries() -> list[Path]:
    import mentoring40_nrw

    return sorted((mentoring40_nrw.CONTENT_DIR / "entries").glob("*.md"))
