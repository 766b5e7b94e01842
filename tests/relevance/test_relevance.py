"""The relevance set (queries.yaml) against a real Meilisearch and the shipped content.

Every category is measured as a whole (top-1, top-3 recall, MRR, zero-result count)
and compared with the committed floors (floors.yaml): a change that makes search
worse for Lotsen fails the suite, one that makes it better can raise the floor.
`make relevance` prints the table (and the queries that miss).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml
from meilisearch_python_sdk import AsyncClient

from core.content.textsearch import search_in_database
from core.db.engine import engine_from_url, use_engine
from core.plugins import build_registry
from core.settings import Settings
from search.config import query_stop_words, search_setup
from search.indexer import drain_outbox, ensure_index
from search.local_server import LocalMeilisearch
from search.query import RERANK_WINDOW, search_entries
from search.rebuild import rebuild_index
from search.understanding import database_terms
from tests.conftest import SHIPPED_CONTENT, run, sync

HERE = Path(__file__).parent
CASES: dict[str, Any] = yaml.safe_load((HERE / "queries.yaml").read_text(encoding="utf-8"))
UID = "relevance"
# The same toolbox indexed without the editors' search terms: the compound categories are
# measured there too, so that query splitting stays measured on its own even where an
# editor listed a compound as a search term.
PLAIN_UID = "relevance_without_search_terms"
# How deep the reciprocal rank looks; a right entry further down counts as a miss.
DEPTH = 10


class Floor(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    top1: float
    top3: float
    mrr: float
    zero: int  # at most this many queries that should find something find nothing


class Figures(msgspec.Struct, kw_only=True):
    queries: int
    top1: float
    top3: float
    mrr: float
    zero: int
    misses: list[str]


def expected_slugs(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {value["expect"]}
    return {value} if isinstance(value, str) else set(value)


def ranked_categories() -> dict[str, dict[str, set[str]]]:
    """Every category with expected entries (all but ``nothing``)."""
    return {
        name: {query: expected_slugs(value) for query, value in cases.items()}
        for name, cases in CASES.items()
        if name != "nothing"
    }


@pytest.fixture(scope="module")
def database_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The shipped toolbox synced into a SQLite database."""
    folder = tmp_path_factory.mktemp("relevance")
    settings = Settings(
        database_url=f"sqlite:///{folder / 'db.sqlite'}", content_dir=SHIPPED_CONTENT
    )
    sync(settings, build_registry(settings))
    return settings


@pytest.fixture(scope="module")
def meili(database_settings: Settings) -> Iterator[LocalMeilisearch]:
    """The shipped toolbox indexed exactly as the app would index it."""
    settings = database_settings
    registry = build_registry(settings)
    index_settings, enrich = search_setup(registry, settings)
    folder = Path(settings.database_url.removeprefix("sqlite:///")).parent
    with LocalMeilisearch(folder / "meili") as server:

        async def index() -> None:
            async with AsyncClient(server.url, server.master_key) as client:
                await ensure_index(client, UID, index_settings)
                while (await drain_outbox(client, UID, enrich=enrich)).upserted:
                    pass

                def without_search_terms(row: dict[str, Any], doc: dict[str, Any]) -> None:
                    enrich(row, doc)
                    doc["search_terms"], doc["search_stems"] = [], ""

                await rebuild_index(
                    client, PLAIN_UID, settings=index_settings, enrich=without_search_terms
                )

        run(index())
        yield server


def top_hits(server: LocalMeilisearch, q: str, uid: str = UID) -> list[str]:
    async def go() -> list[str]:
        async with AsyncClient(server.url, server.master_key) as client:
            result = await search_entries(
                client, uid, q=q, filters={}, page=1, page_size=DEPTH, facets=[]
            )
            return [hit["slug"] for hit in result["hits"]]

    return run(go())


def database_hits(settings: Settings, q: str) -> list[str]:
    """What the database fallback answers (search engine down or index not ready)."""
    stop_words = query_stop_words(build_registry(settings), settings)

    async def go() -> list[str]:
        result = await search_in_database(
            q=q, filters={}, sort=None, page=1, page_size=DEPTH, facets=[],
            terms=database_terms(q, stop_words),
        )  # fmt: skip
        return [hit["slug"] for hit in result["hits"]]

    return run(go())


def measure(search: Callable[[str], list[str]], cases: dict[str, set[str]]) -> Figures:
    top1 = top3 = 0
    reciprocal = 0.0
    zero = 0
    misses = []
    for query, wanted in cases.items():
        hits = search(query)
        rank = next((i for i, slug in enumerate(hits, 1) if slug in wanted), None)
        top1 += rank == 1
        top3 += rank is not None and rank <= 3
        reciprocal += 1 / rank if rank else 0.0
        zero += not hits
        if rank != 1:
            misses.append(f"{query!r} -> {hits[:3]} (want {sorted(wanted)})")
    n = len(cases)
    return Figures(queries=n, top1=top1 / n, top3=top3 / n, mrr=reciprocal / n, zero=zero,
                   misses=misses)  # fmt: skip


def measure_all(search: Callable[[str], list[str]]) -> dict[str, Figures]:
    measured = {name: measure(search, cases) for name, cases in ranked_categories().items()}
    everything = {q: w for cases in ranked_categories().values() for q, w in cases.items()}
    measured["all"] = measure(search, everything)
    return measured


@pytest.fixture(scope="module")
def figures(meili: LocalMeilisearch) -> dict[str, Figures]:
    measured = measure_all(lambda q: top_hits(meili, q))
    print("\n" + report(measured, "search engine"))
    return measured


@pytest.fixture(scope="module")
def database_figures(database_settings: Settings) -> dict[str, Figures]:
    use_engine(engine_from_url(database_settings.database_url))
    measured = measure_all(lambda q: database_hits(database_settings, q))
    print("\n" + report(measured, "database fallback"))
    return measured


def report(measured: dict[str, Figures], engine: str) -> str:
    lines = [f"{engine}:", f"{'category':<16}{'n':>4}{'top-1':>8}{'top-3':>8}{'MRR':>7}{'zero':>6}"]
    for name, f in measured.items():
        lines.append(
            f"{name:<16}{f.queries:>4}{f.top1:>8.1%}{f.top3:>8.1%}{f.mrr:>7.3f}{f.zero:>6}"
        )
    for name, f in measured.items():
        if name != "all":
            lines.extend(f"  miss [{name}] {miss}" for miss in f.misses)
    return "\n".join(lines)


_FLOORS = yaml.safe_load((HERE / "floors.yaml").read_text(encoding="utf-8"))
DATABASE_FLOOR = msgspec.convert(_FLOORS.pop("database_fallback"), Floor)
SPLITTING_FLOORS = msgspec.convert(_FLOORS.pop("without_search_terms"), dict[str, Floor])
FLOORS = msgspec.convert(_FLOORS, dict[str, Floor])


@pytest.mark.parametrize("category", sorted(FLOORS))
def test_category_stays_above_its_floor(figures: dict[str, Figures], category: str) -> None:
    floor, got = FLOORS[category], figures[category]
    assert got.top1 >= floor.top1, f"{category}: top-1 {got.top1:.1%} < floor {floor.top1:.1%}"
    assert got.top3 >= floor.top3, f"{category}: top-3 {got.top3:.1%} < floor {floor.top3:.1%}"
    assert got.mrr >= floor.mrr, f"{category}: MRR {got.mrr:.3f} < floor {floor.mrr:.3f}"
    assert got.zero <= floor.zero, f"{category}: {got.zero} zero-result queries > {floor.zero}"


def test_the_database_fallback_stays_above_its_floor(
    database_figures: dict[str, Figures],
) -> None:
    # Simpler than the engine on purpose (no typos, no synonyms, no body): one floor of
    # its own, for the whole set.
    floor, got = DATABASE_FLOOR, database_figures["all"]
    assert got.top1 >= floor.top1, f"database: top-1 {got.top1:.1%} < floor {floor.top1:.1%}"
    assert got.top3 >= floor.top3, f"database: top-3 {got.top3:.1%} < floor {floor.top3:.1%}"
    assert got.mrr >= floor.mrr, f"database: MRR {got.mrr:.3f} < floor {floor.mrr:.3f}"
    assert got.zero <= floor.zero, f"database: {got.zero} zero-result queries > {floor.zero}"


@pytest.mark.parametrize("query", CASES["nothing"])
def test_the_database_fallback_finds_nothing_for_them_either(
    database_settings: Settings, query: str
) -> None:
    use_engine(engine_from_url(database_settings.database_url))
    assert database_hits(database_settings, query) == []


def test_every_category_has_a_floor() -> None:
    assert set(FLOORS) == {*ranked_categories(), "all"}


def test_the_set_has_at_least_120_queries_in_every_category() -> None:
    assert sum(len(cases) for cases in CASES.values()) >= 120
    assert all(len(cases) >= 3 for cases in CASES.values())


@pytest.mark.parametrize("query", CASES["nothing"])
def test_queries_about_nothing_in_the_toolbox_find_nothing(
    meili: LocalMeilisearch, query: str
) -> None:
    # Includes two-letter fragments from inside German words: a fallback or a splitter
    # that turned them into matches would flood the list with nonsense.
    assert top_hits(meili, query) == []


def _corpus() -> str:
    import mentoring40_nrw

    paths = [
        *SHIPPED_CONTENT.glob("entries/*.md"),
        *(mentoring40_nrw.CONTENT_DIR / "entries").glob("*.md"),
    ]
    # What the entries show: their files without the search terms line.
    return " ".join(
        _SEARCH_TERMS_LINE.sub("", path.read_text(encoding="utf-8")) for path in sorted(paths)
    )


_SEARCH_TERMS_LINE = re.compile(r"^search_terms:.*$", re.M)


def _occurs(word: str, text: str) -> bool:
    return bool(re.search(rf"(?<![\wäöüß-]){re.escape(word)}(?![\wäöüß-])", text, re.I))


@pytest.mark.parametrize(("query", "case"), sorted(CASES["compound_tails"].items()))
def test_tail_of_a_compound_finds_the_compound(
    meili: LocalMeilisearch, query: str, case: dict[str, str]
) -> None:
    # Honest only if the word never stands alone in the content: then the hit can only
    # come from splitting the compound at index time.
    corpus = _corpus()
    assert not _occurs(query, corpus)
    assert case["compound"] in corpus
    assert top_hits(meili, query)[:1] == [case["expect"]]


def test_query_compounds_do_not_occur_in_the_content() -> None:
    # The "compounds" category measures splitting of the *query*; a compound that the
    # content's text contains as written would measure nothing. (Search terms are left
    # out: written blind to this set, four of them are compounds of this category; the
    # test below measures the category without them.)
    corpus = _corpus()
    assert [q for q in CASES["compounds"] if _occurs(q, corpus)] == []


@pytest.mark.parametrize("category", sorted(SPLITTING_FLOORS))
def test_query_splitting_holds_without_the_search_terms(
    meili: LocalMeilisearch, category: str
) -> None:
    # Floors of their own on the index without any search term: what an editor listed
    # must not be all that finds a compound.
    floor = SPLITTING_FLOORS[category]
    got = measure(lambda q: top_hits(meili, q, PLAIN_UID), ranked_categories()[category])
    print(
        f"\n{category} without search terms: top-1 {got.top1:.1%}, top-3 {got.top3:.1%}, "
        f"MRR {got.mrr:.3f}, zero {got.zero}"
    )
    assert got.top1 >= floor.top1, f"{category}: top-1 {got.top1:.1%} < floor {floor.top1:.1%}"
    assert got.top3 >= floor.top3, f"{category}: top-3 {got.top3:.1%} < floor {floor.top3:.1%}"
    assert got.mrr >= floor.mrr, f"{category}: MRR {got.mrr:.3f} < floor {floor.mrr:.3f}"
    assert got.zero <= floor.zero, f"{category}: {got.zero} zero-result queries > {floor.zero}"


def _pages(meili: LocalMeilisearch, q: str, page: int, page_size: int) -> tuple[list[str], int]:
    async def go() -> tuple[list[str], int]:
        async with AsyncClient(meili.url, meili.master_key) as client:
            result = await search_entries(
                client, UID, q=q, filters={}, page=page, page_size=page_size, facets=[]
            )
            return [hit["slug"] for hit in result["hits"]], result["pagination"]["total"]

    return run(go())


def test_reranked_pages_neither_repeat_nor_miss_an_entry(meili: LocalMeilisearch) -> None:
    # The first RERANK_WINDOW hits are reordered in Python; pages cut across the window's
    # end must still add up to exactly the hits of one long page.
    everything, total = _pages(meili, "im Betrieb", 1, 100)
    assert total > RERANK_WINDOW  # the pages below cross the window's end
    paged = [slug for page in range(1, 8) for slug in _pages(meili, "im Betrieb", page, 7)[0]]
    assert paged == everything[: len(paged)]
    assert len(set(paged)) == len(paged)


@pytest.mark.parametrize(
    "q",
    [
        # Brings forward an entry the engine's full query does not find at all (its
        # first word, "trennen", occurs in one other entry only): it is counted once more.
        "wie trennen wir Privates und Dienstliches auf dem Handy",
        # Many hits: entries brought forward come from further down and must not come
        # again on a later page.
        "was tun, wenn sich der Mentee nicht traut, Fragen zu stellen",
    ],
)
def test_pages_of_a_question_hold_every_entry_once(meili: LocalMeilisearch, q: str) -> None:
    everything, total = _pages(meili, q, 1, 100)
    assert len(everything) == total
    assert len(set(everything)) == total
    page_count = -(-total // 4)
    paged = [slug for page in range(1, page_count + 1) for slug in _pages(meili, q, page, 4)[0]]
    assert paged == everything
