"""Content files that could hang, exhaust or escape the loader are ordinary problems:
symbolic links out of the folder, named pipes, devices, oversized files, YAML nested too
deeply. Real links, a real FIFO and real files; the commands run in a child process with
a time and memory limit, so a regression fails the test instead of hanging the suite."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from core.builtin.web import THEMES_DIR
from core.cli import main
from core.content.files import MAX_FILE_BYTES
from core.settings import PROJECT_ROOT, Settings
from core.web.themes import load_themes
from tests.conftest import sync
from tests.test_sync import snapshot
from tests.web_support import write_theme

VALID_ENTRY = PROJECT_ROOT / "tests" / "fixtures" / "content" / "entries" / "ueberblick.md"


def run_command(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """``mentoring40 <args>`` in a child with 60 s and 2 GiB: reading /dev/zero or waiting
    on a pipe (the failures this protects against) ends there, not in the test runner."""

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "MENTORING40_CONTENT_DIR": str(settings.content_dir),
        "MENTORING40_LOAD_PLUGINS": "",
        "PYTHONPATH": str(PROJECT_ROOT),  # this checkout's code, whatever the cwd
    }
    env.pop("MENTORING40_SETTINGS_FILE", None)
    return subprocess.run(
        [sys.executable, "-m", "core.cli", *args],
        env=env,
        cwd=settings.content_dir.parent,  # problems name files relative to here
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=limit_memory,
        check=False,
    )


def hostile_files(content_dir: Path, outside: Path) -> dict[str, str]:
    """Put one file of each refused kind into the entries; return file -> expected words."""
    entries = content_dir / "entries"
    (entries / "null.md").symlink_to("/dev/zero")
    os.mkfifo(entries / "rohr.md")
    (outside / "fremd.md").write_text(VALID_ENTRY.read_text(encoding="utf-8"), encoding="utf-8")
    (entries / "fremd.md").symlink_to(outside / "fremd.md")
    (entries / "ordner.md").mkdir()
    big = VALID_ENTRY.read_text(encoding="utf-8") + "Sehr lang. " * (MAX_FILE_BYTES // 10)
    (entries / "riesig.md").write_text(big, encoding="utf-8")
    (entries / "verwaist.md").symlink_to(content_dir / "gibt-es-nicht.md")
    size = len(big.encode())
    return {
        "entries/null.md": "outside the folder",
        "entries/rohr.md": "is a named pipe (FIFO), not a regular file",
        "entries/fremd.md": f"is a symbolic link to {outside / 'fremd.md'}, outside the folder",
        "entries/ordner.md": "is a folder, not a regular file",
        "entries/riesig.md": f"is {size} bytes; a content file may have at most 256 KiB",
        "entries/verwaist.md": "does not exist (or is a symbolic link to a file that does not",
    }


def test_check_refuses_links_out_of_the_folder_pipes_and_huge_files_naming_each(
    fixture_settings: Settings, tmp_path: Path
) -> None:
    content_dir = fixture_settings.content_dir
    outside = tmp_path / "anderswo"
    outside.mkdir()
    expected = hostile_files(content_dir, outside)
    # A link that stays inside the pack is fine: it is read like the file it names.
    (content_dir / "entries" / "verweis.md").symlink_to(content_dir / "entries" / "entwurf.md")

    result = run_command(fixture_settings, "content", "check")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()  # problems go to stderr
    assert lines[0] == f"Content has {len(expected)} problem(s); nothing was changed:", lines
    for file, words in expected.items():
        matching = [line for line in lines if f"content/{file}: " in line]
        assert len(matching) == 1, (file, lines)
        assert words in matching[0], matching[0]
    assert not any("verweis.md" in line for line in lines)


def test_sync_with_a_pipe_among_the_entries_changes_nothing(
    fixture_settings: Settings, tmp_path: Path
) -> None:
    sync(fixture_settings)
    before = snapshot()
    entry = fixture_settings.content_dir / "entries" / "ueberblick.md"
    entry.write_text(entry.read_text(encoding="utf-8").replace("kurzer", "neuer"), "utf-8")
    os.mkfifo(fixture_settings.content_dir / "entries" / "rohr.md")

    result = run_command(fixture_settings, "content", "sync")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "nothing was changed" in result.stderr
    assert "content/entries/rohr.md: is a named pipe (FIFO)" in result.stderr
    assert snapshot() == before  # the valid edit was not applied either


def test_yaml_aliases_are_refused_before_they_expand(content_dir: Path) -> None:
    # "Billion laughs": nine lines whose last alias stands for 10**9 strings. Refused from
    # the event stream, which never expands it (expanded, the check would not end).
    laughs = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
    )
    (content_dir / "search" / "lachen.yaml").write_text(laughs, encoding="utf-8")
    entry = VALID_ENTRY.read_text(encoding="utf-8").replace(
        "related:", "notiz: &n Text\nnochmal: *n\nrelated:"
    )
    (content_dir / "entries" / "anker.md").write_text(entry, encoding="utf-8")

    result = CliRunner().invoke(
        main,
        ["content", "check"],
        env={"MENTORING40_CONTENT_DIR": str(content_dir), "MENTORING40_LOAD_PLUGINS": ""},
    )

    assert result.exit_code == 1, result.output
    alias_line = entry.splitlines().index("nochmal: *n") + 1
    assert f"entries/anker.md:{alias_line}: uses the YAML alias *n" in result.output
    assert "search/lachen.yaml:2: uses the YAML alias *a" in result.output
    assert "write the value out" in result.output


def test_yaml_nested_too_deeply_is_a_problem_with_file_and_line(content_dir: Path) -> None:
    deep = "[" * 3000 + "]" * 3000
    entry = VALID_ENTRY.read_text(encoding="utf-8").replace("related:", f"tiefe: {deep}\nrelated:")
    (content_dir / "entries" / "tief.md").write_text(entry, encoding="utf-8")
    probe = content_dir / "questionnaires" / "probe.yaml"
    lines = probe.read_text(encoding="utf-8").splitlines()
    lines.insert(2, "tiefe:\n" + "".join(f"{'  ' * i}- \n" for i in range(1, 60)).rstrip("\n"))
    probe.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (content_dir / "search" / "tief.yaml").write_text(f"groups: {deep}\n", encoding="utf-8")

    result = CliRunner().invoke(
        main,
        ["content", "check"],
        env={"MENTORING40_CONTENT_DIR": str(content_dir), "MENTORING40_LOAD_PLUGINS": ""},
    )

    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 1
    front_line = entry.splitlines().index(next(x for x in entry.splitlines() if "tiefe" in x))
    assert f"entries/tief.md:{front_line + 1}: is nested more than 40 levels" in result.output
    # Block style: the 41st level is the 41st "- " line below "tiefe:" (file line 3).
    assert "questionnaires/probe.yaml:43: is nested more than 40 levels" in result.output
    assert "search/tief.yaml:1: is nested more than 40 levels" in result.output


def test_a_theme_may_not_link_out_of_its_folder_or_hold_pipes(tmp_path: Path) -> None:
    secret = tmp_path / "geheim.txt"
    secret.write_text("not for the web", encoding="utf-8")
    folder = write_theme(
        tmp_path / "partner",
        "name: partner\nlabel: Partner\n",
        static={"partner.css": "body { color: black; }"},
        templates={"base.html": "{% extends 'default/base.html' %}"},
    )
    (folder / "static" / "geheim.css").symlink_to(secret)
    os.mkfifo(folder / "templates" / "rohr.html")
    sources = [("core.web", THEMES_DIR / "default"), ("partner", folder)]

    themes, problems = load_themes(sources)

    assert sorted((p.file, p.message.split(",")[0]) for p in problems) == [
        (str(folder / "static" / "geheim.css"), f"is a symbolic link to {secret}"),
        (str(folder / "templates" / "rohr.html"), "is not a regular file (a named pipe"),
    ]
    assert "partner" not in themes
    # A link put into a theme after it was loaded is not served either.
    clean = write_theme(tmp_path / "sauber", "name: sauber\nlabel: S\n", static={"a.css": "a {}"})
    themes, problems = load_themes([sources[0], ("sauber", clean)])
    assert problems == []
    (clean / "static" / "geheim.css").symlink_to(secret)
    assert themes["sauber"].static_file("a.css") == clean / "static" / "a.css"
    assert themes["sauber"].static_file("geheim.css") is None
