"""German words for search: compound parts, stems and ae/oe/ue spellings.

Decision (see docs/SEARCH.md): we do not declare attributes German in Meilisearch.
Its German segmenter splits compounds, but cuts words it does not know into
two-letter fragments, so a two-letter query matches nothing useful. Instead we add,
at index time, extra lower-ranked fields with

- the parts of compounds, found by a small splitter: a compound is cut where both
  sides are common German words (the 39,000-word "small" German list of
  ``wordfreq``, read from its data file: about 5 MiB in memory; the n-gram model of
  CharSplit we used before took 320 MiB in the indexing worker) and both sides have at
  least four letters;
- Snowball stems (``snowballstemmer``: the reference German stemmer of the Snowball
  project, pure Python, no data), so that the query, stemmed the same way
  (``search/understanding.py``), meets "Passwörter", "Passwort" and "Passwortes"
  in one form;
- ae/oe/ue/ss spellings of words with umlauts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache, lru_cache
from typing import Any

MIN_WORD = 8  # shorter words are rarely compounds worth splitting
MIN_PART = 4
_WORD_RE = re.compile(r"[A-Za-zÄÖÜäöüß]+")
_UMLAUTS = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)
# Linking elements (Fugenelemente) a first part may carry: Arbeits|zeit, Wissens|datenbank,
# Lotsen|rolle, Schüler|innen is not one (the -innen side is not a word of four letters).
_LINKS = ("es", "s", "en", "n", "e")
# Particles and prepositions are words of their own, but as the first part of a noun they
# are prefixes (Über|weisung, Unter|weisung, Nach|teil): a part "über" would only add noise.
_PREFIXES = frozenset(
    {"über", "unter", "durch", "gegen", "hinter", "wider", "nach", "voll", "miss",
     "wieder", "zurück", "außer", "ober"}
)  # fmt: skip
# Endings that happen to be words too (Mens|chen, Teilnehm|ende) are never a last part.
_SUFFIXES = frozenset(
    ["chen", "lein", "ling", "lingen", "ende", "enden", "ungen", "heit", "keit", "schaft"]
)


@cache
def _lexicon() -> frozenset[str]:
    """Common German words of at least four letters (lower case)."""
    # Read here: only code that builds documents needs the word list.
    return frozenset(w for w in _small_german_list() if len(w) >= MIN_PART and w.isalpha())


def _small_german_list() -> list[str]:
    """The words of wordfreq's "small" German list, read from its data file: the same words
    as ``wordfreq.get_frequency_dict("de", wordlist="small")`` (tests/test_german.py
    compares them) without importing wordfreq, whose language libraries and cached copies
    of the list cost the indexing worker ~14 MiB more (docs/PERFORMANCE.md)."""
    import gzip
    import importlib.util
    from pathlib import Path

    import msgspec

    spec = importlib.util.find_spec("wordfreq")  # finds the package without running it
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("wordfreq (the German word list) is not installed")
    data = Path(spec.origin).parent / "data" / "small_de.msgpack.gz"
    # wordfreq's "cBpack": a header, then one list of words per frequency step.
    header, *steps = msgspec.msgpack.decode(gzip.decompress(data.read_bytes()))
    if header != {"format": "cB", "version": 1}:
        raise ValueError(f"unexpected word list format in {data}: {header!r}")
    return [word for step in steps for word in step]


def _known(part: str) -> str | None:
    """``part`` (lower case) or its form without a linking element, if a common word."""
    lexicon = _lexicon()
    if part in lexicon:
        return part
    for link in _LINKS:
        base = part[: -len(link)]
        if part.endswith(link) and len(base) >= MIN_PART and base in lexicon:
            return base
    return None


# Both caches hold at most 20,000 words each (~7 and ~4 MiB when full; 50,000 and 100,000
# took ~37 MiB of the indexing worker on a large vocabulary, docs/PERFORMANCE.md). A
# toolbox's vocabulary mostly repeats: 10,000 generated entries use ~3,500 and ~6,300.
@lru_cache(maxsize=20_000)
def compound_parts(word: str) -> tuple[str, ...]:
    """The parts of a German compound, split recursively; empty if it is not one."""
    # English loanwords in -ing (Mentoring, Coaching, Onboarding) are not German compounds.
    lower = word.lower()
    if len(lower) < MIN_WORD or lower.endswith("ing"):
        return ()
    # The last part carries the meaning in German (Wissens|datenbank): take the longest
    # known last part whose first part is a known word too, or a compound itself.
    # A common word is cut only into long parts: short parts of a common word are rarely
    # its meaning (Feed|back, Hand|werk, Netz|werk), long ones are (Zwischen|bilanz).
    shortest = MIN_PART + 1 if lower in _lexicon() else MIN_PART
    for cut in range(shortest, len(lower) - shortest + 1):
        head, tail = lower[:cut], lower[cut:]
        if head in _PREFIXES or tail in _SUFFIXES or tail not in _lexicon():
            continue
        base = _known(head)
        head_parts = compound_parts(head) if base is None else ()
        if base is None and not head_parts:
            continue
        parts = [head, *([base] if base else []), *head_parts, tail, *compound_parts(tail)]
        return tuple(dict.fromkeys(parts))
    return ()


@lru_cache(maxsize=20_000)
def stem(word: str) -> str:
    """The Snowball stem of one word (lower case, umlauts folded: Passwörter -> passwort)."""
    return str(_stemmer().stemWord(word.lower()))


@cache
def _stemmer() -> Any:
    import snowballstemmer  # type: ignore[import-untyped]

    return snowballstemmer.stemmer("german")


def words(texts: Iterable[str]) -> list[str]:
    return [w for text in texts for w in _WORD_RE.findall(text)]


def extra_terms(texts: Iterable[str]) -> str:
    """Compound parts and ae/oe/ue/ss spellings of the words in ``texts``, space-separated."""
    return extra_terms_of(words(texts))


def extra_terms_of(tokens: Iterable[str]) -> str:
    """``extra_terms`` of text already cut into words (``words``): documents are built
    from word lists, and cutting each word again cost a third of a reindex's CPU."""
    # Each distinct word once, in order of first appearance: the same result as walking
    # every occurrence, at less than half the cost on long bodies (reindex time).
    distinct = dict.fromkeys(tokens)
    seen = {w.lower() for w in distinct}
    extra: dict[str, None] = {}
    for word in distinct:
        # Nouns are capitalised in German; splitting verbs and adjectives adds noise.
        if word[0].isupper():
            for part in compound_parts(word):
                if part not in seen:
                    extra[part] = None
        spelled = word.translate(_UMLAUTS)
        if spelled != word:
            extra[spelled] = None
    return " ".join(extra)


def stems(texts: Iterable[str]) -> str:
    """The stems of the words in ``texts`` and of their compound parts, space-separated."""
    return stems_of(words(texts))


def stems_of(tokens: Iterable[str]) -> str:
    """``stems`` of text already cut into words (``words``)."""
    found: dict[str, None] = {}
    for word in tokens:
        found[stem(word)] = None
        if word[0].isupper():
            for part in compound_parts(word):
                found[stem(part)] = None
    return " ".join(found)


def unstemmed(distinct: Iterable[str]) -> list[str]:
    """The words (each once) whose stem is not the word itself in lower case: the written
    forms ``stems`` does not hold ("gelernt" stays, "habe" -> "hab" is listed)."""
    return [word for word in distinct if stem(word) != word.lower()]
