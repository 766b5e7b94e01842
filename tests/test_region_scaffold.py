"""`mentoring40 plugins new`: a new region from the scaffold to its pages.

The walk of issue 17's "done when": scaffold -> pip install -e (into a throwaway
environment that sees this one's packages, so the test environment stays as it was) ->
`mentoring40 plugins` lists it -> `content check` passes -> its own tests pass (with the
test kit) -> `content sync` -> the served site shows its entries in its colours, with a
relabelled topic and its own recommendation in a Quickcheck result (Chromium, with
screenshots in var/screenshots/). And the refusals: nothing half-written.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from core.cli import main
from core.settings import PROJECT_ROOT
from search.local_server import free_port
from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    plan_answers,
    require_axe,
    require_chromium,
    wait_until,
)
from tests.test_content_style import (
    INFORMAL_ADDRESS,
    WORDS_PER_KIND,
    lone_role_names,
    text_words,
)

NAME = "testland"
LABEL = "Testland"
PRIMARY = "#7a1f5c"
ACCENT = "#1d5a2a"
QUICKCHECK = "quickcheck-reverse-mentoring"
EXAMPLE = f"{NAME}-beispiel-erstes-lotsentreffen"


def scaffold(*args: str) -> Any:
    return CliRunner().invoke(main, ["plugins", "new", *args], catch_exceptions=False)


# -- refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Sachsen"], "'Sachsen' is not a region name"),
        (["a--b"], "'a--b' is not a region name"),
        (["core"], "'core' is a name mentoring40 uses itself"),
        (["nrw"], "a plugin named 'nrw' is already installed"),
        (["sachsen", "--primary", "red;}body{x:y"],
         "--primary 'red;}body{x:y' is not a colour we accept: write it as #rrggbb"),
        (["sachsen", "--accent", "#fff</style>"], "--accent '#fff</style>' is not a colour"),
        (["sachsen", "--primary", "#ffee00"],
         "--primary #ffee00: white text on it has a contrast of 1.2:1"),
        (["sachsen", "--label", 'Sachsen"; x'], "must be 1 to 80 letters, digits, spaces"),
        (["sachsen", "--label", "Sachsen: Region #1"], "must be 1 to 80 letters, digits, spaces"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_a_message_and_nothing_is_written(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = scaffold(*args, "--into", str(tmp_path / "plugin"))
    assert result.exit_code == 1
    assert message in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_non_empty_folder_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "plugin"
    target.mkdir()
    (target / "notizen.txt").write_text("bleibt", encoding="utf-8")
    result = scaffold("sachsen", "--into", str(target))
    assert result.exit_code == 1
    assert "is not an empty folder" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["plugin"]
    assert [p.name for p in target.iterdir()] == ["notizen.txt"]


def test_a_failure_while_writing_leaves_no_partial_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A full disk cannot be caused here; the move into place failing stands for it.
    import core.ops.scaffold

    def refuse(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(core.ops.scaffold.os, "replace", refuse)
    with pytest.raises(OSError, match="No space left"):
        scaffold("sachsen", "--into", str(tmp_path / "plugin"))
    assert list(tmp_path.iterdir()) == []


# -- the walk -------------------------------------------------------------------------------------


@dataclass
class Region:
    folder: Path
    python: Path
    env: dict[str, str]

    def run(self, *args: str, cwd: Path | None = None, timeout: float = 240) -> str:
        done = subprocess.run(
            [str(self.python), *args], env=self.env, cwd=cwd or self.folder,
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
        return done.stdout

    def mentoring40(self, *args: str) -> str:
        return self.run("-m", "core.cli", *args)


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Region:
    root = tmp_path_factory.mktemp("region")
    folder = root / f"mentoring40-{NAME}"
    result = CliRunner().invoke(
        main,
        ["plugins", "new", NAME, "--into", str(folder), "--label", LABEL,
         "--primary", PRIMARY, "--accent", ACCENT],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return throwaway_install(root, folder)


def throwaway_install(root: Path, folder: Path, database_url: str | None = None) -> Region:
    """``pip install -e folder`` into a new environment under ``root`` that sees this one's
    packages; its commands use ``database_url`` (default: a new SQLite file in ``root``)."""
    # A throwaway environment whose .pth file adds this one's packages: installing the new
    # plugin there leaves the test environment (and every other test) without it.
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    ours = sysconfig.get_paths()["purelib"]
    Path(purelib, "_mentoring40_parent.pth").write_text(
        f"import site; site.addsitedir({ours!r})\n", encoding="utf-8"
    )
    env = {
        **os.environ,
        "DATABASE_URL": database_url or f"sqlite:///{root / 'region.sqlite'}",
        "MENTORING40_SEARCH_DATA": str(root / "meilisearch"),
        "MENTORING40_CONTENT_DIR": str(PROJECT_ROOT / "content"),
    }
    env.pop("MENTORING40_LOAD_PLUGINS", None)
    env.pop("MEILI_URL", None)
    found = Region(folder=folder, python=python, env=env)
    found.run(
        "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
        "--no-index", "-e", str(folder),
    )  # fmt: skip
    return found


def test_the_scaffold_writes_every_part_of_a_region(region: Region) -> None:
    package = region.folder / "src" / f"mentoring40_{NAME}"
    for part in (
        "pyproject.toml", "README.md", "tests/conftest.py", f"tests/test_mentoring40_{NAME}.py",
        f"src/mentoring40_{NAME}/__init__.py", f"src/mentoring40_{NAME}/theme/theme.yaml",
        f"src/mentoring40_{NAME}/sites/{NAME}.yaml",
        f"src/mentoring40_{NAME}/content/search/regional.yaml",
        f"src/mentoring40_{NAME}/content/entries/{EXAMPLE}.md",
    ):  # fmt: skip
        assert (region.folder / part).is_file(), part
    assert f'{NAME} = "mentoring40_{NAME}"' in (region.folder / "pyproject.toml").read_text()
    entry = (package / "content" / "entries" / f"{EXAMPLE}.md").read_text()
    assert "Hinweis zur Vorlage:** Dieser Eintrag ist ein Beispiel" in entry
    # The example follows the house style (content/README.md, "Stil und Sprache").
    body = entry.split("\n---\n", 1)[1]
    low, high = WORDS_PER_KIND["checkliste"]
    assert low <= text_words(body) <= high
    assert lone_role_names(body) == []
    assert INFORMAL_ADDRESS.search(body) is None
    assert f'color-primary: "{PRIMARY}"' in (package / "theme" / "theme.yaml").read_text()


def test_the_installed_region_is_listed_checked_and_passes_its_own_tests(region: Region) -> None:
    listed = region.mentoring40("plugins")
    line = next(line for line in listed.splitlines() if line.startswith(NAME))
    assert f"mentoring40-{NAME} 0.1.0" in line
    assert "content_packs, sites, themes" in line
    assert "supports: mentoring40" in line
    checked = region.mentoring40("content", "check")
    assert "Content OK" in checked
    assert NAME in checked
    own = region.run("-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider")
    assert "3 passed" in own


@pytest.fixture(scope="module")
def served(region: Region) -> Iterator[str]:
    synced = region.mentoring40("content", "sync")
    assert f"added: {EXAMPLE}" in synced
    port = free_port()
    log = region.folder.parent / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(region.python), "-m", "core.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--no-search"],
            env=region.env, cwd=region.folder, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        try:
            return httpx.get(f"{url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(healthy, "the region's app")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def form_fields(doc: dict[str, Any], perspective: str) -> dict[str, list[str]]:
    """The planned answers as the Quickcheck form posts them."""
    fields = [("perspective", perspective), ("version", str(doc["version"]))]
    for item, value in plan_answers(doc):
        if item["type"] == "ranking":
            fields += [(f"r.{item['id']}.{code}", str(i)) for i, code in enumerate(value, 1)]
        elif isinstance(value, list):
            fields += [(f"a.{item['id']}", v) for v in value]
        else:
            fields.append((f"a.{item['id']}", str(value)))
    posted: dict[str, list[str]] = {}
    for key, value in fields:
        posted.setdefault(key, []).append(value)
    return posted


def test_the_regions_site_shows_its_entries_colours_words_and_recommendations(
    served: str,
) -> None:
    base = f"{served}/embed/{NAME}"
    with httpx.Client(base_url=served, timeout=30) as http:
        assert EXAMPLE in http.get(f"/embed/{NAME}", params={"source": NAME}).text
        assert PRIMARY in http.get(f"/themes/{NAME}/tokens.css").text
        topic = http.get(f"/embed/{NAME}/topics/motivation").text
        assert "Betriebe und Beschäftigte gewinnen" in topic
        perspective = "unternehmen"
        doc = http.get(
            f"/api/v1/questionnaires/{QUICKCHECK}", params={"perspective": perspective}
        ).json()["data"]
        posted = http.post(
            f"/embed/{NAME}/quickcheck/{QUICKCHECK}", data=form_fields(doc, perspective)
        )
        assert posted.status_code == 303, posted.text[-2000:]
        result_url = served + posted.headers["location"]
        token = result_url.rsplit("/", 1)[1]
        result = http.get(f"/api/v1/results/{token}").json()["data"]
        assert result["region"] == f"Mentoring 4.0 – {LABEL}"
        assert [r["slug"] for r in result["overall"]["regional"]] == [EXAMPLE]
        assert result["questionnaire"]["hash"] == doc["hash"]

    require_chromium()
    axe = require_axe()
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            # bypass_csp only so that axe can be injected (as in tests/browser).
            context = browser.new_context(
                bypass_csp=True, locale="de-DE", viewport={"width": 1280, "height": 900}
            )
            page = context.new_page()
            violations: dict[str, list[str]] = {}

            def check_accessibility(name: str) -> None:
                page.add_script_tag(path=str(axe))
                found = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")[
                    "violations"
                ]
                violations[name] = [f"{v['id']} ({v['impact']})" for v in found]

            page.goto(f"{base}?source={NAME}")
            header = page.locator(".embed-header")
            colour = header.evaluate("e => getComputedStyle(e).backgroundColor")
            assert colour == "rgb(122, 31, 92)"  # PRIMARY
            border = header.evaluate("e => getComputedStyle(e).borderBottomColor")
            assert border == "rgb(29, 90, 42)"  # ACCENT
            assert page.get_by_text("Erstes Treffen der Lotsinnen und Lotsen").count() >= 1
            page.screenshot(path=str(SCREENSHOTS / f"region-{NAME}-search.png"), full_page=True)
            check_accessibility("search")
            page.goto(f"{base}/topics/motivation")
            assert page.locator("h1").inner_text() == "Betriebe und Beschäftigte gewinnen"
            page.screenshot(path=str(SCREENSHOTS / f"region-{NAME}-topic.png"), full_page=True)
            check_accessibility("topic")
            page.goto(f"{base}/entries/{EXAMPLE}")
            page.screenshot(path=str(SCREENSHOTS / f"region-{NAME}-entry.png"), full_page=True)
            check_accessibility("entry")
            page.goto(result_url)
            regional = page.locator("ul.regional").first
            assert "Erstes Treffen der Lotsinnen und Lotsen" in regional.inner_text()
            assert page.get_by_text(f"Empfehlungen von Mentoring 4.0 – {LABEL}").count() >= 1
            page.screenshot(path=str(SCREENSHOTS / f"region-{NAME}-result.png"), full_page=True)
            check_accessibility("result")
            assert violations == {name: [] for name in violations}
        finally:
            browser.close()
