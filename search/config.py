"""Index settings and document enrichment, as the content packs and plugins shape them."""

from __future__ import annotations

from typing import Any

from core.content.packs import collect_packs
from core.plugins import PluginRegistry
from core.settings import Settings
from search.documents import Enrich, index_settings, stemmed_stop_words, stemmed_synonyms
from search.vocabulary import load_vocabulary


class SearchConfigError(ValueError):
    """The search vocabulary files are invalid; the message lists each problem."""


def search_setup(registry: PluginRegistry, settings: Settings) -> tuple[dict[str, Any], Enrich]:
    """Index settings (vocabulary of all packs, then ``search_settings`` hooks) and the
    ``search_document`` enrichment."""
    vocabulary, problems = load_vocabulary(collect_packs(registry, settings))
    if problems:
        raise SearchConfigError("; ".join(str(p) for p in problems))
    configured = index_settings(vocabulary)
    registry.call("search_settings", index_settings=configured, settings=settings)
    # The query reaches the engine stemmed: synonyms and stop words a plugin added are
    # stemmed like the packs' (stemming the packs' again adds nothing new).
    configured["synonyms"] = stemmed_synonyms(configured.get("synonyms") or {})
    configured["stopWords"] = stemmed_stop_words(configured.get("stopWords") or [])

    def enrich(row: dict[str, Any], doc: dict[str, Any]) -> None:
        registry.call("search_document", entry=row, doc=doc)

    return configured, enrich


# Per registry (an app has one; a registry is not hashable): the registry itself is kept
# beside its words, so a new registry at a reused id() is never mistaken for the old one.
_STOP_WORDS: dict[int, tuple[PluginRegistry, Settings, frozenset[str]]] = {}


def query_stop_words(registry: PluginRegistry, settings: Settings) -> frozenset[str]:
    """The stop words the engine is given (packs and plugins), for the database fallback's
    query understanding; read once per app."""
    cached = _STOP_WORDS.get(id(registry))
    if cached is None or cached[0] is not registry or cached[1] is not settings:
        configured, _ = search_setup(registry, settings)
        cached = (registry, settings, frozenset(configured["stopWords"]))
        _STOP_WORDS[id(registry)] = cached
    return cached[2]
