"""Peak RSS of building the search documents for the shipped content, in a fresh process.

This is the memory the indexing worker pays for document building (compound parts,
stems), on top of the application itself: the script imports the app's modules, syncs
the shipped content into a throwaway SQLite database, then builds every document the
way the indexer does and prints the process's peak RSS before and after building.

    .venv/bin/python benchmarks/indexing_memory.py
"""

from __future__ import annotations

import asyncio
import resource
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    from core.content.model import PUBLISHED
    from core.db.tables import Entry
    from core.plugins import build_registry
    from core.settings import Settings
    from search.config import search_setup
    from search.documents import build_document
    from tests.conftest import SHIPPED_CONTENT, sync

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            database_url=f"sqlite:///{Path(folder) / 'db.sqlite'}", content_dir=SHIPPED_CONTENT
        )
        registry = build_registry(settings)
        sync(settings, registry)
        _, enrich = search_setup(registry, settings)

        async def rows() -> list[dict[str, object]]:
            return await Entry.select().where(Entry.status == PUBLISHED).output(load_json=True)

        loaded = asyncio.run(rows())
        before = peak_mib()
        documents = [build_document(row, enrich) for row in loaded]
        after = peak_mib()
    print(f"documents built: {len(documents)}")
    print(f"peak RSS before building: {before:.0f} MiB")
    print(f"peak RSS after building:  {after:.0f} MiB (+{after - before:.0f} MiB)")


if __name__ == "__main__":
    main()
