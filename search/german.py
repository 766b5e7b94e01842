"""German words for search: compound parts and ae/oe/ue spellings, added at index time.

Decision (see docs/SEARCH.md): we do not declare attributes German in Meilisearch.
Its German segmenter splits compounds, but cuts words it does not know into
two-letter fragments, so a two-letter query matches nonsense. Instead we split
compounds ourselves with CharSplit (package ``compound-split``: an n-gram model
trained on German nouns, pure Python, no data download) and index the parts in
extra, lower-ranked fields. A split is kept only when the model is confident and
both parts are at least four letters long, so no fragment junk reaches the index.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

MIN_WORD = 8  # shorter words are rarely compounds worth splitting
MIN_PART = 4
MIN_SCORE = 0.7
_WORD_RE = re.compile(r"[A-Za-zÄÖÜäöüß]+")
_UMLAUTS = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)


@lru_cache(maxsize=50_000)
def compound_parts(word: str) -> tuple[str, ...]:
    """The parts of a German compound, split recursively; empty if it is not one."""
    # English loanwords in -ing (Mentoring, Coaching, Onboarding) are not German compounds,
    # but the model would cut them ("Mento" + "Ring").
    if len(word) < MIN_WORD or word.lower().endswith("ing"):
        return ()
    # Imported here, not at module level: the model takes about 320 MiB, and only the
    # worker that builds search documents (the indexer) needs it.
    from compound_split import char_split  # type: ignore[import-untyped]

    score, head, tail = char_split.split_compound(word)[0]
    if score < MIN_SCORE or len(head) < MIN_PART or len(tail) < MIN_PART:
        return ()
    parts: list[str] = []
    for part in (head, tail):
        parts.append(part)
        parts.extend(compound_parts(part))
    return tuple(dict.fromkeys(parts))


def words(texts: Iterable[str]) -> list[str]:
    return [w for text in texts for w in _WORD_RE.findall(text)]


def extra_terms(texts: Iterable[str]) -> str:
    """Compound parts and ae/oe/ue/ss spellings of the words in ``texts``, space-separated."""
    # Each distinct word once, in order of first appearance: the same result as walking
    # every occurrence, at less than half the cost on long bodies (reindex time).
    distinct = dict.fromkeys(words(texts))
    seen = {w.lower() for w in distinct}
    extra: dict[str, None] = {}
    for word in distinct:
        # Nouns are capitalised in German; splitting verbs and adjectives adds noise.
        if word[0].isupper():
            for part in compound_parts(word):
                if part.lower() not in seen:
                    extra[part] = None
        spelled = word.translate(_UMLAUTS)
        if spelled != word:
            extra[spelled] = None
    return " ".join(extra)
