"""Settings come from environment variables; a bad value names the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.db.engine import describe, engine_from_url, postgres_config
from core.settings import DEFAULT_CONTENT_DIR, PROJECT_ROOT, Settings, SettingsError


def test_defaults_are_the_embedded_setup() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == f"sqlite:///{PROJECT_ROOT / 'var' / 'mentoring40.sqlite'}"
    assert settings.content_dir == DEFAULT_CONTENT_DIR
    assert settings.load_plugins is None


def test_environment_overrides(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://app:secret@db.internal:5433/toolbox",
            "MENTORING40_CONTENT_DIR": str(tmp_path),
            "MENTORING40_LOAD_PLUGINS": "nrw, other",
            "MENTORING40_CACHE_MAX_AGE": "0",
        }
    )
    assert settings.content_dir == tmp_path
    assert settings.load_plugins == ("nrw", "other")
    assert settings.cache_max_age == 0
    assert Settings.from_env({"MENTORING40_LOAD_PLUGINS": ""}).load_plugins == ()


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL='mysql://x/y' uses the scheme 'mysql'"),
        ({"DATABASE_URL": "sqlite:///"}, "DATABASE_URL='sqlite:///' has no file path"),
        ({"DATABASE_URL": "postgresql://host-only"}, "needs a host and a database name"),
        (
            {"MENTORING40_CONTENT_DIR": "/does/not/exist"},
            "MENTORING40_CONTENT_DIR='/does/not/exist'",
        ),
        ({"MENTORING40_CACHE_MAX_AGE": "soon"}, "MENTORING40_CACHE_MAX_AGE='soon'"),
        ({"MENTORING40_DEBUG": "maybe"}, "MENTORING40_DEBUG='maybe'"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], words: str) -> None:
    with pytest.raises(SettingsError, match=words.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env(env)


def test_engines_from_urls(tmp_path: Path) -> None:
    sqlite = engine_from_url(f"sqlite:///{tmp_path / 'sub' / 'db.sqlite'}")
    assert sqlite.engine_type == "sqlite"
    assert (tmp_path / "sub").is_dir()  # the folder is created for the embedded default
    assert postgres_config("postgresql://app:pw@db.internal:5433/toolbox") == {
        "host": "db.internal",
        "port": 5433,
        "database": "toolbox",
        "user": "app",
        "password": "pw",
    }
    assert (
        describe("postgresql://app:pw@db.internal/toolbox")
        == "postgresql://app:***@db.internal/toolbox"
    )
