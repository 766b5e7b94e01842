"""Load questionnaire definitions: find the files, read and parse the YAML, decode it
into a ``Questionnaire`` and run the cross-field checks of ``core.quickcheck.checks``.

Like the entry loader, this reports every problem at once with file, field path and
line. That a file does not change a published version is checked against the database
by ``core.quickcheck.versions``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from core.content.loader import display_path
from core.content.model import Problem
from core.content.yamlfile import line_of, read_yaml_file
from core.quickcheck.checks import Checker
from core.quickcheck.model import LoadedQuestionnaire, Questionnaire, canonical_hash


def questionnaire_files(sources: Iterable[tuple[str, Path]]) -> list[tuple[str, Path, Path]]:
    """Expand each (plugin, file or folder) into (plugin, YAML file, the folder it must stay
    in), folders sorted."""
    files: list[tuple[str, Path, Path]] = []
    for source, path in sources:
        if path.is_dir():
            files.extend((source, p, path) for p in sorted(path.glob("*.yaml")))
        else:
            files.append((source, path, path.parent))
    return files


def load_questionnaires(
    sources: Iterable[tuple[str, Path]], entry_slugs: set[str]
) -> tuple[list[LoadedQuestionnaire], list[Problem]]:
    """Load every definition; ``entry_slugs`` are the published entries bands may recommend."""
    loaded: list[LoadedQuestionnaire] = []
    problems: list[Problem] = []
    seen: dict[tuple[str, int], str] = {}
    for source, path, folder in questionnaire_files(sources):
        shown = display_path(path)
        if not os.path.lexists(path):
            problems.append(Problem(file=shown, message="questionnaire file does not exist"))
            continue
        read = read_yaml_file(path, folder, shown, Questionnaire, problems)
        if read is None:
            continue
        definition, root = read
        found = Checker(definition, root, shown, entry_slugs).run()
        problems.extend(found)
        key = (definition.id, definition.version)
        if key in seen:
            problems.append(
                Problem(
                    file=shown,
                    field="version",
                    line=line_of(root, ["version"], 0),
                    message=f"{definition.id!r} version {definition.version} is also defined in "
                    f"{seen[key]}; each version lives in one file",
                )
            )
            continue
        seen[key] = shown
        if not found:
            loaded.append(
                LoadedQuestionnaire(
                    definition=definition,
                    source=source,
                    source_path=shown,
                    hash=canonical_hash(definition),
                )
            )
    return loaded, problems
