"""`mentoring40 content check` names file, field and line for every kind of mistake."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.cli import main
from core.content.loader import load_content
from core.content.model import ContentPack
from tests.conftest import BROKEN_DIR as BROKEN
from tests.conftest import write_region_pack

# file -> (field, line, words the message must contain)
EXPECTED: dict[str, tuple[str | None, int | None, str]] = {
    "unknown-field.md": ("autor", 8, "unknown field; allowed fields are: title, summary"),
    "missing-title.md": ("title", 2, "required field is missing"),
    "unknown-topic.md": ("topics[1]", 7, "unknown topic 'fuehrung'; expected one of: barrieren"),
    "unknown-kind.md": ("kind", 4, "unknown kind 'podcast'; expected one of: methode, vorlage"),
    "bad-yaml.md": (None, None, "is not valid YAML"),
    "no-front-matter.md": (None, 1, "has no front matter"),
    "wrong-type.md": ("duration", 8, "expected text, got a number"),
    "bad-date.md": ("updated_at", 8, "expected a date in the form YYYY-MM-DD"),
    "dangling-related.md": ("related[1]", 8, "no entry has the slug 'gibt-es-nicht'"),
    "dangling-link.md": ("body", 15, "link to fehlt-auch.md, but no entry has the slug"),
    "empty-topics.md": ("topics", 5, "length >= 1"),
    "unknown-status.md": (
        "status",
        8,
        "Invalid enum value 'archiviert'; allowed: draft, published",
    ),
    "Bad_Name.md": (None, None, "is not a valid slug"),
}


@pytest.fixture
def broken_content(content_dir: Path) -> Path:
    for name in EXPECTED:
        shutil.copy(BROKEN / name, content_dir / "entries" / name)
    return content_dir


def test_check_lists_every_problem_with_file_field_and_line(
    broken_content: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MENTORING40_CONTENT_DIR", str(broken_content))
    monkeypatch.setenv("MENTORING40_LOAD_PLUGINS", "")
    result = CliRunner().invoke(main, ["content", "check"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == f"Content has {len(EXPECTED)} problem(s); nothing was changed:"
    for name, (field, line, words) in EXPECTED.items():
        matching = [ln for ln in lines if f"entries/{name}" in ln]
        assert len(matching) == 1, (name, matching)
        where = f"entries/{name}:{line}" if line else f"entries/{name}"
        assert where in matching[0], matching[0]
        if field:
            assert f": {field}: " in matching[0], matching[0]
        assert words in matching[0], matching[0]


def test_bad_yaml_reports_the_line_the_parser_gives(broken_content: Path) -> None:
    _, problems = load_content([ContentPack(name="core", path=broken_content)])
    (problem,) = [p for p in problems if p.file.endswith("bad-yaml.md")]
    assert problem.line is not None
    assert 3 <= problem.line <= 5  # the unclosed flow sequence starts on line 3


def test_duplicate_slug_across_packs_names_both_files(content_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    (other / "entries").mkdir(parents=True)
    shutil.copy(content_dir / "entries" / "aufgabenliste.md", other / "entries")
    _, problems = load_content(
        [ContentPack(name="core", path=content_dir), ContentPack(name="region", path=other)]
    )
    assert len(problems) == 1
    assert "slug 'aufgabenliste' is already used by" in problems[0].message
    assert "content/entries/aufgabenliste.md" in problems[0].message
    assert problems[0].file.endswith("other/entries/aufgabenliste.md")


def test_plugin_taxonomy_may_add_terms_but_not_redefine_them(
    content_dir: Path, tmp_path: Path
) -> None:
    region = tmp_path / "region"
    (region / "entries").mkdir(parents=True)
    (region / "taxonomy.yaml").write_text(
        "topics:\n  - slug: region-netzwerk\n    label: Netzwerk\n"
        "  - slug: barrieren\n    label: Andere Bedeutung\n",
        encoding="utf-8",
    )
    loaded, problems = load_content(
        [ContentPack(name="core", path=content_dir), ContentPack(name="region", path=region)]
    )
    assert [str(p) for p in problems] == [
        f"{problems[0].file}:4: topics[1].slug: 'barrieren' is already defined by content pack "
        "'core'; a pack may add terms but not redefine them"
    ]
    added = [t for t in loaded.taxonomy if t.slug == "region-netzwerk"]
    assert added[0].source == "region"
    assert added[0].position == 2  # after the core's two topics


def test_missing_pack_folder_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    _, problems = load_content([ContentPack(name="core", path=tmp_path / "nowhere")])
    assert "points to a folder that does not exist" in problems[0].message


def test_raw_html_in_markdown_is_rendered_inert(content_dir: Path) -> None:
    loaded, problems = load_content([ContentPack(name="core", path=content_dir)])
    assert problems == []
    (entry,) = [e for e in loaded.entries if e.slug == "arbeitsablauf"]
    assert "<script" not in entry.body_html
    assert "&lt;script&gt;" in entry.body_html


def test_entries_may_not_link_into_optional_plugin_packs(content_dir: Path, tmp_path: Path) -> None:
    region = write_region_pack(
        tmp_path / "region", "region-treffen", "Treffen", "aufgabenliste",
        "Siehe [Aufgabenliste](aufgabenliste.md).",
    )  # fmt: skip
    core_entry = content_dir / "entries" / "aufgabenliste.md"
    core_entry.write_text(
        core_entry.read_text(encoding="utf-8") + "\nRegional: [Treffen](region-treffen.md)\n",
        encoding="utf-8",
    )
    _, problems = load_content(
        [ContentPack(name="core", path=content_dir), ContentPack(name="region", path=region)]
    )
    # The region may rely on the core; the core may not rely on an optional region pack.
    assert len(problems) == 1
    assert problems[0].file.endswith("content/entries/aufgabenliste.md")
    assert problems[0].field == "body"
    assert "from content pack 'region'" in problems[0].message
    assert "other packs are optional" in problems[0].message


def test_search_vocabulary_problems_are_reported_by_check(
    content_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (content_dir / "search" / "broken.yaml").write_text(
        "groups:\n  - [Einsam]\nsynonyme: []\n", encoding="utf-8"
    )
    monkeypatch.setenv("MENTORING40_CONTENT_DIR", str(content_dir))
    monkeypatch.setenv("MENTORING40_LOAD_PLUGINS", "")
    result = CliRunner().invoke(main, ["content", "check"])
    assert result.exit_code == 1
    assert "search/broken.yaml: is not a valid search vocabulary" in result.output
    assert "unknown field `synonyme`" in result.output


def test_unknown_field_in_a_taxonomy_term_lists_the_term_fields(content_dir: Path) -> None:
    taxonomy = content_dir / "taxonomy.yaml"
    taxonomy.write_text(
        taxonomy.read_text(encoding="utf-8").replace(
            "    label: Wissen sichern", "    label: Wissen sichern\n    farbe: blau"
        ),
        encoding="utf-8",
    )
    _, problems = load_content([ContentPack(name="core", path=content_dir)])
    # Only the cause is reported, not every entry that uses the taxonomy.
    (problem,) = problems
    assert problem.field == "topics[1].farbe"
    assert problem.line == 8
    assert problem.message == "unknown field; allowed fields are: slug, label, description"


def test_a_link_to_an_unknown_questionnaire_is_reported(
    content_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = content_dir / "entries" / "aufgabenliste.md"
    entry.write_text(
        entry.read_text(encoding="utf-8")
        + "\nOnline: [Probe](../questionnaires/probe.yaml), "
        + "[Alt](../questionnaires/gibt-es-nicht.yaml)\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("MENTORING40_CONTENT_DIR", str(content_dir))
    monkeypatch.setenv("MENTORING40_LOAD_PLUGINS", "")
    result = CliRunner().invoke(main, ["content", "check"])
    assert result.exit_code == 1, result.output
    # The existing questionnaire is fine; only the unknown one is named.
    assert "'gibt-es-nicht'" in result.output
    assert "aufgabenliste.md" in result.output
    assert "'probe'" not in result.output
