"""docs/ARCHITECTURE.md names modules, folders and tests by their paths; a newcomer opens
them. Every such path must exist, so a move or a rename that forgets the page fails here
instead of leaving the page to rot."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"

# `core/http/problems.py`, `search/`, `tests/test_layers.py`, `deploy/.env.example`: a path in
# backticks under one of the project's code folders (content/ paths there are examples).
CODE_PATH = re.compile(r"`((?:core|search|tests|deploy)/[^`\s]*)`")
# [text](../themes/README.md): a relative link from docs/.
RELATIVE_LINK = re.compile(r"\]\((?!https?:|#)([^)#\s]+)")


def test_every_path_named_in_the_architecture_page_exists() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    named = set(CODE_PATH.findall(text))
    assert len(named) > 20, "the pattern no longer finds the page's paths"
    missing = sorted(path for path in named if not (ROOT / path).exists())
    assert missing == [], f"docs/ARCHITECTURE.md names paths that do not exist: {missing}"


def test_every_relative_link_of_the_architecture_page_resolves() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    links = set(RELATIVE_LINK.findall(text))
    missing = sorted(link for link in links if not (ARCHITECTURE.parent / link).exists())
    assert missing == [], f"docs/ARCHITECTURE.md links to files that do not exist: {missing}"
