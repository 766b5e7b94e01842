"""Everything the content of an installation is made of, loaded and validated in one call:
entries and taxonomy of every pack, the search vocabulary, and the questionnaires."""

from __future__ import annotations

from pathlib import Path

import msgspec

from core.content.loader import load_content
from core.content.markdown import questionnaire_links
from core.content.model import PUBLISHED, ContentSet, Problem
from core.content.packs import collect_packs
from core.plugins import PluginRegistry
from core.quickcheck.loader import load_questionnaires
from core.settings import Settings


def questionnaire_sources(registry: PluginRegistry, settings: Settings) -> list[tuple[str, Path]]:
    """(plugin, file or folder) from every ``questionnaires`` hook, built-ins first."""
    return registry.paths("questionnaires", "paths of YAML files or folders", settings=settings)


def load_all(registry: PluginRegistry, settings: Settings) -> tuple[ContentSet, list[Problem]]:
    """Load and validate all content; usable only if the problem list is empty."""
    from search.vocabulary import load_vocabulary

    packs = collect_packs(registry, settings)
    content, problems = load_content(packs)
    problems += load_vocabulary(packs)[1]
    published = {e.slug for e in content.entries if e.status == PUBLISHED}
    questionnaires, more = load_questionnaires(questionnaire_sources(registry, settings), published)
    problems += _check_questionnaire_links(content, {q.definition.id for q in questionnaires})
    return msgspec.structs.replace(content, questionnaires=questionnaires), problems + more


def _check_questionnaire_links(content: ContentSet, known: set[str]) -> list[Problem]:
    """A link from an entry to a questionnaire must name one that is loaded."""
    return [
        Problem(
            file=entry.source_path,
            field="body",
            # The line within the Markdown text; the entry no longer knows its file offset.
            message=f"link to questionnaires/{target}.yaml (line {line} of the text), but no "
            f"questionnaire has the id {target!r}",
        )
        for entry in content.entries
        for target, line in questionnaire_links(entry.body_markdown)
        if target not in known
    ]
