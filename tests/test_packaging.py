"""The built wheel ships exactly the import packages core and search."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from core.settings import PROJECT_ROOT


def test_wheel_top_level_is_core_and_search(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(tmp_path),
            str(PROJECT_ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("mentoring40-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/", 1)[0] for name in names}
    assert top_level == {
        "core",
        "search",
        f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info",
    }
    assert "core/db/migrations/__init__.py" in names  # migrations travel with the code
    assert any(name.startswith("core/db/migrations/mentoring40_") for name in names)
    entry_points = (
        zipfile.ZipFile(wheel)
        .read(next(n for n in names if n.endswith("entry_points.txt")))
        .decode()
    )
    assert "mentoring40 = core.cli:main" in entry_points
