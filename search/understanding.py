"""What a Lotse means: the query in the index's own word forms, and words that match nothing.

Three steps, all cheap (no model, no word list in the query path):

1. ``query_words``: the words of the query, each reduced to its Snowball stem, the
   form in which ``title_stems`` / ``text_stems`` hold every word of an entry
   (search/german.py). Synonyms and stop words are declared stemmed too
   (search/documents.py), so filler words of a question ("wie kriege ich …") fall away
   in the engine while "nicht", "ohne" and "kein" stay. A question's separable verb
   gets its particle back first ("wie richte ich … ein" → *einrichten*).
2. ``dead_words``: Meilisearch drops unmatched query words only from the end, so one
   unknown first word sinks the whole query. Each word is therefore also searched on
   its own (in the same multi-search request as the main query); a word that finds
   nothing by itself is dead.
3. ``split_dead``: a dead word may be a compound the content has only as parts or in
   another compound (Urlaubskalender -> Urlaub + Kalender). It is cut where both sides
   occur in the index as whole stems (an exact phrase search per candidate, again one
   request); otherwise it is dropped. A word none of whose cuts has two live sides
   stays dropped, so a query about something the toolbox does not cover still finds
   nothing.

``rewrite`` runs step 3 and what follows it (exact words, entries about); its outcome is
kept per app worker for one state of the index (search/rewrites.py), so a query seen
before skips these requests.

The requests of steps 3 and after go over the search request's lean pool when the caller
passes one (``pool``, search/multisearch.py), as the main multi-search does; without it,
through the SDK's client.
"""

from __future__ import annotations

import re
from typing import Any

from meilisearch_python_sdk import AsyncClient

from core.content.textsearch import fold
from search.german import MIN_PART, stem
from search.multisearch import MultiSearchPool, multi_search

# Words as Meilisearch sees them, but with hyphenated words kept together so that
# "E-Rechnungen" stems its last part only (E-Rechnung).
_TOKEN_RE = re.compile(r"[0-9A-Za-zÄÖÜäöüß]+(?:-[0-9A-Za-zÄÖÜäöüß]+)*")
# Linking elements a first part may end in (Urlaubs|kalender), tried without them too.
_LINKS = ("es", "s", "en", "n")
# Longer than any compound a Lotse types (Datenschutzgrundverordnung has 26 letters).
MAX_COMPOUND = 40
MAX_SPLIT_WORDS = 3


# A question's clause that starts with a question word has its verb second; a separable
# verb leaves its particle at the clause's end ("wie richte ich die App ein" asks about
# *einrichten*). The particle goes back in front of the verb, as the texts write it.
_CLAUSE_RE = re.compile(r"[^,;:.?!]+")
_QUESTION_WORDS = frozenset({
    "wie", "was", "wo", "wann", "warum", "wieso", "weshalb", "wer", "wen", "wem", "welche",
    "welcher", "welches", "welchen", "welchem", "woran", "womit", "wofür", "wozu", "worauf",
    "woher", "wohin", "wodurch", "worüber",
})  # fmt: skip
_PARTICLES = frozenset({
    "ab", "an", "auf", "aus", "bei", "dar", "ein", "fest", "fort", "her", "heraus", "herein",
    "hin", "hinein", "los", "mit", "nach", "vor", "vorbei", "weg", "weiter", "zu", "zurück",
    "zusammen", "um", "kennen",
})  # fmt: skip


def _tokens(q: str) -> list[str]:
    """The query's words, a separable verb of a question joined with its particle."""
    tokens: list[str] = []
    for clause in _CLAUSE_RE.findall(q):
        words = _TOKEN_RE.findall(clause)
        if (
            len(words) >= 3
            and words[0].lower() in _QUESTION_WORDS
            and words[-1].lower() in _PARTICLES
        ):
            words = [words[0], words[-1].lower() + words[1].lower(), *words[2:-1]]
        tokens += words
    return tokens


def query_words(q: str) -> list[str]:
    """The query's words in the stemmed form the index holds."""
    result = []
    for token in _tokens(q):
        *front, last = token.split("-")
        result.append("-".join([*(p.lower() for p in front), stem(last)]))
    return result


_DATABASE_WORD_RE = re.compile(r"\w+")


def database_terms(q: str, stop_words: frozenset[str]) -> list[list[str]]:
    """The query as the database fallback matches it (core/content/textsearch.py): per
    word that is not a stop word, the word as typed and its stem, folded. A query of stop
    words only keeps them (it asks for something)."""
    typed = _DATABASE_WORD_RE.findall(q)
    # A stop word as typed or in its stem, as the engine drops it from the stemmed query.
    kept = [w for w in typed if w.lower() not in stop_words and stem(w) not in stop_words]
    kept = kept or typed
    return [list(dict.fromkeys([fold(word), fold(stem(word))])) for word in kept]


def typed_words(q: str) -> dict[str, str]:
    """Each stemmed query word -> the word as typed (lower case): a compound is cut as
    typed, since the stem of a compound may end inside its last part (Teamkal|ender)."""
    return dict(zip(query_words(q), (t.lower() for t in _tokens(q)), strict=True))


def probe(q: str, uid: str, filters: list[str]) -> dict[str, Any]:
    """A count-only search: does ``q`` find anything on its own?"""
    return {
        "indexUid": uid,
        "q": q,
        "filter": filters,
        "limit": 0,
        "matchingStrategy": "all",
    }


def word_probes(
    words: list[str], uid: str, filters: list[str], prefix_last: bool
) -> list[dict[str, Any]]:
    """One probe per word, matched as in the full query: only the last word as a prefix
    (a trailing space tells Meilisearch that a word is complete)."""
    last = len(words) - 1
    return [
        probe(word if (i == last and prefix_last) else word + " ", uid, filters)
        for i, word in enumerate(words)
    ]


def _cuts(word: str) -> list[tuple[str, str]]:
    """Candidate (first part, last part) stems of a word, longest last part first."""
    if len(word) > MAX_COMPOUND:  # no German word; and the probes grow with the length
        return []
    cuts: list[tuple[str, str]] = []
    for cut in range(MIN_PART, len(word) - MIN_PART + 1):
        head, tail = word[:cut], word[cut:]
        heads = [head, *(head[: -len(x)] for x in _LINKS if head.endswith(x))]
        cuts.extend((stem(h), stem(tail)) for h in heads if len(h) >= MIN_PART)
    return cuts


# Where an entry says what it is about: a compound's last part found here stands for it.
TITLE_FIELDS = ["title", "title_terms", "title_stems", "tags", "tag_stems"]


async def split_dead(
    client: AsyncClient,
    uid: str,
    dead: list[str],
    filters: list[str],
    typed: dict[str, str],
    *,
    pool: MultiSearchPool | None = None,
) -> dict[str, list[str]]:
    """For each dead word, the parts that stand for it, or [] (drop it).

    A cut counts when one entry holds both parts as whole words: a compound means its
    parts together (Urlaubs|kalender), and two parts found in unrelated entries
    (Kreuz|fahrt) mean nothing the toolbox covers. Failing that, the last part alone
    stands for the compound (in German it names what the compound is: a Teamkalender
    is a Kalender) when an entry is about it (title or tags) and the first part is a
    word of the index too.
    """
    cuts = [
        (word, cut)
        for word in dead[:MAX_SPLIT_WORDS]  # each costs up to ~200 probes
        if "-" not in word
        for cut in dict.fromkeys(_cuts(typed.get(word, word)))
    ]
    if not cuts:
        return {word: [] for word in dead}
    queries = []
    for _, (head, tail) in cuts:
        queries += [
            probe(f'"{head}" "{tail}"', uid, filters),
            probe(f'"{head}"', uid, filters),
            {**probe(f'"{tail}"', uid, filters), "attributesToSearchOn": TITLE_FIELDS},
        ]
    results = await multi_search(client, queries, pool)
    counts = [result.get("estimatedTotalHits", 0) for result in results]
    together: dict[str, list[str]] = {}
    last_part: dict[str, list[str]] = {}
    for i, (word, (head, tail)) in enumerate(cuts):
        both, head_found, tail_in_title = counts[3 * i : 3 * i + 3]
        if both:
            together.setdefault(word, [head, tail])
        elif head_found and tail_in_title:
            last_part.setdefault(word, [tail])
    unexplained = [word for word, _ in cuts if word not in together and word not in last_part]
    if unexplained:
        together.update(await _split_typo(client, uid, cuts, unexplained, filters, pool))
    return {word: together.get(word) or last_part.get(word) or [] for word in dead}


# A last part shorter than this gets no typo tolerance from the engine anyway.
MIN_TYPO_PART = 5


async def _split_typo(
    client: AsyncClient,
    uid: str,
    cuts: list[tuple[str, tuple[str, str]]],
    words: list[str],
    filters: list[str],
    pool: MultiSearchPool | None,
) -> dict[str, list[str]]:
    """A typo inside a compound (Tandemvereinbarng): the first part as written and the
    last part within the engine's typo tolerance, both in one entry. Asked only for the
    dead words no exact cut explains, in one more request. The misspelt last part goes
    on to the query as typed, where the engine's typo tolerance finds it again."""
    typo_cuts = [
        (word, (head, tail))
        for word, (head, tail) in cuts
        if word in words and len(tail) >= MIN_TYPO_PART
    ]
    if not typo_cuts:
        return {}
    # A trailing space: the last part is complete (no prefix match).
    queries = [probe(f'"{head}" {tail} ', uid, filters) for _, (head, tail) in typo_cuts]
    results = await multi_search(client, queries, pool)
    found: dict[str, list[str]] = {}
    for (word, (head, tail)), result in zip(typo_cuts, results, strict=True):
        if result.get("estimatedTotalHits", 0):
            found.setdefault(word, [head, tail])
    return found


async def exact_words(
    client: AsyncClient,
    uid: str,
    words: list[str],
    filters: list[str],
    *,
    pool: MultiSearchPool | None = None,
) -> list[str]:
    """The words that occur in the index as written (no typo, no prefix); none when they
    are all stop words.

    Once a query holds a word the toolbox does not know, a typo match of the rest is a
    guess on a guess ("Apfelkuchen backen" would find "packen"); such words go too. A
    stop word alone is answered by the engine with every entry (it drops the word and
    searches for nothing), so a word that matches every entry counts as known only
    beside one that does not: "Rezept für Kartoffelsalat" listed the whole toolbox.
    """
    queries = [probe(f'"{word}"', uid, filters) for word in words]
    queries.append({"indexUid": uid, "q": "", "filter": filters, "limit": 0})
    *results, everything = await multi_search(client, queries, pool)
    counts = [r.get("estimatedTotalHits", 0) for r in results]
    if not any(0 < count < everything.get("estimatedTotalHits", 0) for count in counts):
        return []
    return [w for w, count in zip(words, counts, strict=True) if count]


async def entries_about(
    client: AsyncClient,
    uid: str,
    words: list[str],
    filters: list[str],
    *,
    pool: MultiSearchPool | None = None,
) -> bool:
    """Whether each of ``words`` is what an entry is about (title or tags; whole words,
    within the engine's typo tolerance, which also covers a plural the stemmer keeps).

    A query half of whose words the toolbox does not know ("Bildschirmvideo aufgenommen")
    is still searched with the rest when the rest names an entry's subject; a rest that
    only occurs somewhere in a body ("Apfelkuchen backen") is a guess and finds nothing.
    """
    queries = [
        {**probe(f"{word} ", uid, filters), "attributesToSearchOn": TITLE_FIELDS} for word in words
    ]
    results = await multi_search(client, queries, pool)
    return bool(words) and all(r.get("estimatedTotalHits", 0) for r in results)


async def rewrite(
    client: AsyncClient,
    uid: str,
    words: list[str],
    dead: list[str],
    filters: list[str],
    typed: dict[str, str],
    *,
    pool: MultiSearchPool | None = None,
) -> list[str]:
    """The query's words with its ``dead`` words split or dropped, or [] when the query
    is to find nothing (1–3 multi-searches; search/rewrites.py keeps the outcome)."""
    splits = await split_dead(client, uid, dead, filters, typed, pool=pool)
    words = [part for word in words for part in splits.get(word, [word])]
    dropped = sum(not splits[word] for word in dead)
    if dropped:
        words = await exact_words(client, uid, words, filters, pool=pool)
    # Only a query that is mostly understood, or whose known words name what an entry is
    # about, is searched without its unknown words: else an empty page, not the whole
    # toolbox.
    if len(words) <= dropped and not await entries_about(client, uid, words, filters, pool=pool):
        return []
    return words
