"""Synonyms and stop words for search, shipped as content (``<pack>/search/*.yaml``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec
import yaml

from core.content.files import read_content_file
from core.content.loader import display_path
from core.content.model import ContentPack, Problem
from core.content.yamlfile import structure_problem


class VocabularyFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    # Each group lists words a searcher means interchangeably.
    groups: list[list[str]] = []
    stop_words: list[str] = []


class Vocabulary(msgspec.Struct, frozen=True):
    synonyms: dict[str, list[str]]
    stop_words: list[str]


def load_vocabulary(packs: Iterable[ContentPack]) -> tuple[Vocabulary, list[Problem]]:
    """Merge the search vocabulary of all packs; problems name the file."""
    synonyms: dict[str, set[str]] = {}
    stop_words: set[str] = set()
    problems: list[Problem] = []
    for pack in packs:
        for path in sorted((pack.path / "search").glob("*.yaml")):
            parsed = _read(path, pack.path, problems)
            if parsed is None:
                continue
            for index, group in enumerate(parsed.groups):
                words = [w.strip() for w in group if w.strip()]
                if len(words) < 2:
                    problems.append(Problem(
                        file=display_path(path), field=f"groups[{index}]",
                        message="a synonym group needs at least two words",
                    ))  # fmt: skip
                    continue
                for word in words:
                    synonyms.setdefault(word, set()).update(w for w in words if w != word)
            stop_words.update(w.strip().lower() for w in parsed.stop_words if w.strip())
    vocabulary = Vocabulary(
        synonyms={word: sorted(others) for word, others in sorted(synonyms.items())},
        stop_words=sorted(stop_words),
    )
    return vocabulary, problems


def _read(path: Path, folder: Path, problems: list[Problem]) -> VocabularyFile | None:
    shown = display_path(path)
    text = read_content_file(path, folder, shown, problems)
    if text is None:
        return None
    if (refused := structure_problem(text)) is not None:
        line, message = refused
        problems.append(Problem(file=shown, line=line + 1, message=message))
        return None
    try:
        data: Any = yaml.safe_load(text) or {}
        return msgspec.convert(data, VocabularyFile)
    except (yaml.YAMLError, msgspec.ValidationError) as exc:
        problems.append(
            Problem(file=display_path(path), message=f"is not a valid search vocabulary: {exc}")
        )
        return None
