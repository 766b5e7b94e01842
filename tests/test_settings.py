"""Settings come from environment variables; a bad value names the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.db.engine import describe, engine_from_url, postgres_config
from core.settings import DEFAULT_CONTENT_DIR, PROJECT_ROOT, Settings
from core.settings_variables import RateLimit, SettingsError


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
        "timeout": 10,
    }
    assert (
        describe("postgresql://app:pw@db.internal/toolbox")
        == "postgresql://app:***@db.internal/toolbox"
    )


def test_a_settings_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    path = tmp_path / "mentoring40.env"
    path.write_text(
        "# a comment\n\n"
        "MENTORING40_CACHE_MAX_AGE=120\n"
        "export MENTORING40_STATS_MIN_GROUP='7'\n"
        'MENTORING40_RATE_LIMIT_SUBMIT="10/hour"\n'
        "MEILI_ADMIN_KEY=\n"
        "MEILI_MASTER_KEY=from-the-file-0123456789\n"
        "POSTGRES_PASSWORD=read-by-compose-only\n"
        "SOMETHING_ELSE=not ours\n",
        encoding="utf-8",
    )
    settings = Settings.from_env(
        {"MENTORING40_SETTINGS_FILE": str(path), "MENTORING40_STATS_MIN_GROUP": "9"}
    )
    assert settings.cache_max_age == 120
    assert settings.stats_min_group == 9  # environment over file
    assert settings.rate_limit_submit == RateLimit(10, 3600)
    assert settings.meili_admin_key == "from-the-file-0123456789"  # empty admin key: master key


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (
            "MENTORING40_CACHE_MAXAGE=5\n",
            r"mentoring40.env:1: MENTORING40_CACHE_MAXAGE is not a "
            r"setting. Did you mean MENTORING40_CACHE_MAX_AGE\?",
        ),
        ("\nno equals sign here\n", r"mentoring40.env:2: expected NAME=value"),
        (
            "MENTORING40_DEBUG=maybe\n",
            r"MENTORING40_DEBUG='maybe' \(from .*mentoring40.env:1\) "
            r"is not a boolean",
        ),
    ],
)
def test_a_bad_settings_file_names_file_line_and_variable(
    tmp_path: Path, content: str, words: str
) -> None:
    path = tmp_path / "mentoring40.env"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SettingsError, match=words):
        Settings.from_env({"MENTORING40_SETTINGS_FILE": str(path)})


def test_a_missing_settings_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"MENTORING40_SETTINGS_FILE=.* cannot be read"):
        Settings.from_env({"MENTORING40_SETTINGS_FILE": str(tmp_path / "nope.env")})


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"MENTORING40_RATE_LIMIT_SEARCH": "viele"}, "is not a rate; write e.g. 30/minute"),
        ({"MENTORING40_RATE_LIMIT_SUBMIT": "0/minute"}, "is not a rate"),
        ({"MENTORING40_RATE_LIMIT_STORE": "memcached://x"}, "neither memory nor a Redis URL"),
        ({"MENTORING40_LOG_FORMAT": "xml"}, "use one of text, json"),
        ({"MENTORING40_INDEXER_LEASE_SECONDS": "1"}, "at least 2"),
    ],
)
def test_new_settings_say_what_is_allowed(env: dict[str, str], words: str) -> None:
    with pytest.raises(SettingsError, match=words):
        Settings.from_env(env)


def test_rates_and_off() -> None:
    settings = Settings.from_env(
        {"MENTORING40_RATE_LIMIT_SEARCH": "off", "MENTORING40_RATE_LIMIT_SUBMIT": "5 / second"}
    )
    assert settings.rate_limit_search is None
    assert settings.rate_limit_submit == RateLimit(5, 1)


def test_trusted_proxies_are_addresses_or_networks_and_none_by_default() -> None:
    assert Settings.from_env({}).trusted_proxies == ()
    settings = Settings.from_env({"MENTORING40_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8,::1"})
    assert settings.trusted_proxies == ("127.0.0.1", "10.0.0.0/8", "::1")
    for wrong in ("localhost", "10.0.0.1/8", "127.0.0.1;10.0.0.1"):
        with pytest.raises(SettingsError, match=r"MENTORING40_TRUSTED_PROXIES.*not an IP"):
            Settings.from_env({"MENTORING40_TRUSTED_PROXIES": wrong})


def test_errors_never_echo_a_password() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"DATABASE_URL": "postgresql://app:hunter2-secret@db"})
    assert "hunter2-secret" not in str(caught.value)
    assert "postgresql://app:***@db" in str(caught.value)


def test_every_setting_is_documented_in_env_example_and_readme() -> None:
    from core.settings_variables import VARIABLES

    example = (PROJECT_ROOT / "deploy" / ".env.example").read_text(encoding="utf-8")
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    for var in VARIABLES:
        assert f"\n{var.name}=" in example, f"{var.name} missing in deploy/.env.example"
        assert f"`{var.name}`" in readme, f"{var.name} missing in the README's settings table"
    # And the example itself is a valid settings file.
    Settings.from_env({"MENTORING40_SETTINGS_FILE": str(PROJECT_ROOT / "deploy" / ".env.example")})
