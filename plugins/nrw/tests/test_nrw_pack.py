"""The NRW plugin, tested the way its own maintainers would: through its hook only."""

from __future__ import annotations

from pathlib import Path

import mentoring40_nrw


def test_content_pack_points_at_the_packaged_entries() -> None:
    (pack,) = mentoring40_nrw.content_packs()
    assert pack["name"] == "nrw"
    assert "NRW" in pack["label"]
    entries = sorted(Path(pack["path"], "entries").glob("*.md"))
    assert len(entries) >= 5
    # Region slugs carry a prefix so they never collide with the core toolbox.
    assert all(path.stem.startswith("nrw-") for path in entries)
