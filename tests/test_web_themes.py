"""Themes: inheritance, plugin themes, the problems an editor sees, tokens as CSS and the
static files (types, caching, no way out of the theme folders)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from litestar.testing import TestClient

from core.app import create_app
from core.builtin.web import THEMES_DIR
from core.plugins import PluginError, build_registry
from core.settings import PROJECT_ROOT
from core.web import WebConfigError
from core.web.themes import load_themes, theme_sources
from tests.conftest import SHIPPED_CONTENT, sync
from tests.web_support import (
    ThemePlugin,
    app_client,
    hookimpl,
    page_of,
    raw_get,
    registry_with,
    run_cli,
    sqlite_settings,
    write_theme,
)

NRW_THEME = PROJECT_ROOT / "plugins" / "nrw" / "src" / "mentoring40_nrw" / "theme"


def manifest_of(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((folder / "theme.yaml").read_text(encoding="utf-8"))
    return data


def merged_tokens(*folders: Path) -> dict[str, str]:
    """Tokens along a chain given base first: what the child does not set, it inherits."""
    tokens: dict[str, str] = {}
    for folder in folders:
        tokens.update(manifest_of(folder).get("tokens", {}))
    return tokens


def tokens_in_css(css: str) -> dict[str, str]:
    return dict(re.findall(r"^\s*--([a-z0-9-]+): (.*);$", css, re.MULTILINE))


def line_with(text: str, needle: str) -> int:
    """The 1-based line of the first line of ``text`` that contains ``needle``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# -- inheritance ------------------------------------------------------------------------------


@pytest.fixture
def family(tmp_path: Path) -> tuple[Path, Path]:
    """A plugin theme 'kind' (parent default) that changes the header, theme.css, the brand
    and one token, and its child 'enkel' that changes only another token."""
    kind = write_theme(
        tmp_path / "plugin-themes" / "kind",
        "name: kind\nlabel: Kind-Theme\nparent: default\nbrand: Kind-Verband\n"
        'tokens:\n  color-primary: "#123456"\n  radius: "0"\n',
        templates={
            "_header.html": '<header class="site-header"><p class="kind-kopf">'
            "Kopf von {{ page.theme.brand }}</p></header>\n"
        },
        static={"theme.css": "/* kind */ .kind-kopf { color: var(--color-primary); }\n"},
    )
    enkel = write_theme(
        tmp_path / "plugin-themes" / "enkel",
        'name: enkel\nlabel: Enkel-Theme\nparent: kind\ntokens:\n  color-accent: "#654321"\n',
    )
    return kind, enkel


def test_a_plugin_theme_inherits_what_it_lacks_from_its_parents(
    tmp_path: Path, content_dir: Path, family: tuple[Path, Path]
) -> None:
    kind, enkel = family
    default = THEMES_DIR / "default"
    settings = sqlite_settings(tmp_path, content_dir, theme="enkel")
    registry = registry_with(settings, theme_plugin=ThemePlugin(kind, enkel))
    themes, problems = load_themes(theme_sources(registry, settings))
    assert problems == []
    assert themes["enkel"].lineage == ("enkel", "kind", "default")
    assert themes["enkel"].plugin == "theme-plugin"
    assert themes["enkel"].tokens == merged_tokens(default, kind, enkel)

    sync(settings, registry)
    with app_client(settings, registry) as client:
        page = page_of(client.get("/"))
        # The header comes from 'kind', with the brand 'enkel' inherits from it ...
        assert page.find("p", "kind-kopf").text() == "Kopf von Kind-Verband"
        assert page.find_all("nav", class_="main-nav") == []
        # ... and everything else from 'default': the search form and the results.
        assert page.find("form", "search-form").attrs["action"] == "/"
        assert page.find_all("article", class_="hit")
        assert page.find("title").text().endswith("– Kind-Verband")

        assets = {
            el.attrs.get("href") or el.attrs["src"]: el
            for el in page.find_all("link") + page.find_all("script")
        }
        served = {url.split("?")[0]: client.get(url) for url in assets}
        assert served["/static/enkel/theme.css"].content == (kind / "static/theme.css").read_bytes()
        assert (
            served["/static/enkel/base.css"].content == (default / "static/base.css").read_bytes()
        )
        assert served["/static/enkel/app.js"].content == (default / "static/app.js").read_bytes()
        assert (
            served["/static/enkel/logo.svg"].content == (default / "static/logo.svg").read_bytes()
        )
        css = served["/themes/enkel/tokens.css"].text
        assert tokens_in_css(css) == merged_tokens(default, kind, enkel)
        assert tokens_in_css(css)["color-primary"] == "#123456"  # from kind
        assert tokens_in_css(css)["color-accent"] == "#654321"  # its own


def test_shipped_partner_themes_override_only_what_they_have(tmp_path: Path) -> None:
    settings = sqlite_settings(tmp_path, SHIPPED_CONTENT)
    default = THEMES_DIR / "default"
    with TestClient(create_app(settings, build_registry(settings))) as client:
        for name, folder in (("musterverband", THEMES_DIR / "musterverband"), ("nrw", NRW_THEME)):
            css = client.get(f"/themes/{name}/tokens.css")
            assert css.status_code == 200
            assert tokens_in_css(css.text) == merged_tokens(default, folder)
            for file in sorted((default / "static").iterdir()):
                own = folder / "static" / file.name
                expected = (own if own.is_file() else file).read_bytes()
                assert client.get(f"/static/{name}/{file.name}").content == expected, file.name
            # The default theme does not see a partner's files.
            assert client.get("/themes/default/tokens.css").text != css.text


def test_tokens_reach_css_as_custom_properties(tmp_path: Path, content_dir: Path) -> None:
    with TestClient(create_app(sqlite_settings(tmp_path, content_dir))) as client:
        response = client.get("/themes/musterverband/tokens.css?v=1")
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/css; charset=utf-8"
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        css = response.text
        # One rule on :root, nothing outside it.
        body = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL).strip()
        assert body.startswith(":root {")
        assert body.endswith("}")
        assert body.count("{") == body.count("}") == 1
        tokens = manifest_of(THEMES_DIR / "musterverband")["tokens"]
        for name, value in tokens.items():
            assert f"  --{name}: {value};" in css
        assert client.get("/themes/musterverband/tokens.css").headers["cache-control"] == (
            "public, max-age=300"
        )
        assert client.get("/themes/gibtsnicht/tokens.css").status_code == 404


def test_pages_link_every_asset_with_a_version_that_changes_with_the_file(
    tmp_path: Path, content_dir: Path, family: tuple[Path, Path]
) -> None:
    kind, enkel = family
    settings = sqlite_settings(tmp_path, content_dir, theme="kind")
    registry = registry_with(settings, theme_plugin=ThemePlugin(kind, enkel))
    sync(settings, registry)
    with app_client(settings, registry) as client:
        hrefs = [el.attrs["href"] for el in page_of(client.get("/")).find_all("link")]
        css_before = next(h for h in hrefs if h.startswith("/static/kind/theme.css?v="))
        for href in hrefs:
            assert client.get(href).status_code == 200, href
    # A changed file gets a new ?v= (caches keep old files forever: immutable).
    (kind / "static" / "theme.css").write_text("/* changed */\n", encoding="utf-8")
    with app_client(settings, registry) as client:
        hrefs = [el.attrs["href"] for el in page_of(client.get("/")).find_all("link")]
        css_after = next(h for h in hrefs if h.startswith("/static/kind/theme.css?v="))
    assert css_after != css_before


# -- problems -----------------------------------------------------------------------------------


def broken_themes(root: Path) -> tuple[list[Path], list[tuple[str, str | None, int | None, str]]]:
    """Theme folders with one mistake each, and (file, field, line, words) per problem."""
    cases: list[tuple[str, str, str | None, str | int | None, str]] = [
        # folder, manifest, field, line (or a text on it), words
        ("unbekanntes-feld", "name: unbekanntes-feld\nlabel: X\ncolour: red\n", "colour",
         "colour:", "unknown field; allowed fields are: name, label, parent"),
        ("ohne-label", "name: ohne-label\n", "label", 1, "required field is missing"),
        ("Gross", "name: Gross\nlabel: X\n", "name", "name:", "'Gross' is not a theme name"),
        ("waise", "name: waise\nlabel: X\nparent: gibtsnicht\n", "parent", "parent:",
         "unknown parent theme 'gibtsnicht'"),
        ("selbst", "name: selbst\nlabel: X\nparent: selbst\n", "parent", "parent:",
         "a theme cannot be its own parent"),
        ("doppelt", "label: X\nname: musterverband\n", "name", "name:",
         f"theme 'musterverband' is also defined in {THEMES_DIR / 'musterverband/theme.yaml'}"),
        ("ohne-logo", "name: ohne-logo\nlabel: X\nlogo: fehlt.svg\n", "logo", "logo:",
         "no file static/fehlt.svg in the theme folder"),
        ("ausbruch", 'name: ausbruch\nlabel: X\ntokens:\n  radius: "2px"\n'
         '  color-bg: "red; } body { display:none"\n', "tokens.color-bg", "color-bg:",
         "cannot be used as a CSS value here"),
        ("kommentar", 'name: kommentar\nlabel: X\ntokens:\n  color-bg: "red /* x"\n',
         "tokens.color-bg", "color-bg:", "cannot be used as a CSS value here"),
        ("schlechter-token", "name: schlechter-token\nlabel: X\ntokens:\n  Farbe_1: red\n",
         "tokens.Farbe_1", "Farbe_1:", "'Farbe_1' is not a token name"),
        ("liste", "- name: liste\n", None, 1, "must be a YAML mapping"),
    ]  # fmt: skip
    folders: list[Path] = []
    expected: list[tuple[str, str | None, int | None, str]] = []
    for folder_name, manifest, field, needle, words in cases:
        folder = write_theme(root / folder_name, manifest)
        folders.append(folder)
        line = line_with(manifest, needle) if isinstance(needle, str) else needle
        expected.append((str(folder / "theme.yaml"), field, line, words))
    missing = root / "ohne-manifest"
    (missing / "templates").mkdir(parents=True)
    folders.append(missing)
    expected.append((str(missing), None, None, "is not a theme folder: theme.yaml is missing"))
    return folders, expected


def assert_problem_line(
    lines: list[str], file: str, field: str | None, line: int | None, words: str
) -> None:
    where = f"{file}:{line}" if line else file
    prefix = f"{where}: {field}: " if field else f"{where}: "
    matching = [ln.strip() for ln in lines if ln.strip().startswith(prefix)]
    assert len(matching) == 1, (prefix, lines)
    assert words in matching[0], matching[0]


def test_content_check_names_file_field_and_line_of_every_theme_problem(
    tmp_path: Path, content_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folders, expected = broken_themes(tmp_path / "broken")
    settings = sqlite_settings(tmp_path, content_dir)
    result = run_cli(
        settings, "content", "check",
        plugins={"broken_themes": ThemePlugin(*folders)}, monkeypatch=monkeypatch,
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"Content has {len(expected)} problem(s); nothing was changed:", lines
    for file, field, line, words in expected:
        assert_problem_line(lines, file, field, line, words)


def test_a_parent_loop_is_reported_once_where_the_loop_closes(tmp_path: Path) -> None:
    a = write_theme(tmp_path / "kreis-a", "name: kreis-a\nlabel: A\nparent: kreis-b\n")
    b = write_theme(tmp_path / "kreis-b", "name: kreis-b\nlabel: B\nparent: kreis-a\n")
    c = write_theme(tmp_path / "am-kreis", "name: am-kreis\nlabel: C\nparent: kreis-a\n")
    sources = [("core.web", THEMES_DIR / "default"), ("loop", a), ("loop", b), ("loop", c)]
    themes, problems = load_themes(sources)
    assert sorted(themes) == ["default"]
    loops = [p for p in problems if "loop" in p.message]
    assert len(loops) == 1, [str(p) for p in problems]
    (loop,) = loops
    assert "kreis-a -> kreis-b -> kreis-a" in loop.message or (
        "kreis-b -> kreis-a -> kreis-b" in loop.message
    )
    assert loop.field == "parent"
    assert loop.file in {str(a / "theme.yaml"), str(b / "theme.yaml")}
    assert loop.line == 3
    # Nothing is blamed on a file whose own parent is fine.
    assert all(p.file != str(c / "theme.yaml") for p in problems), [str(p) for p in problems]


def test_an_unknown_grandparent_is_blamed_on_the_theme_that_names_it(tmp_path: Path) -> None:
    waise = write_theme(tmp_path / "waise", "name: waise\nlabel: W\nparent: gibtsnicht\n")
    kind = write_theme(tmp_path / "kind", "name: kind\nlabel: K\nparent: waise\n")
    sources = [("core.web", THEMES_DIR / "default"), ("p", kind), ("p", waise)]
    _, problems = load_themes(sources)
    assert [(p.file, p.field, p.line) for p in problems] == [
        (str(waise / "theme.yaml"), "parent", 3)
    ], [str(p) for p in problems]
    assert "unknown parent theme 'gibtsnicht'" in problems[0].message


def test_a_broken_theme_stops_the_app_and_the_themes_command(
    tmp_path: Path, content_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folders, expected = broken_themes(tmp_path / "broken")
    settings = sqlite_settings(tmp_path, content_dir)
    registry = registry_with(settings, broken_themes=ThemePlugin(*folders))
    with pytest.raises(WebConfigError) as info:
        create_app(settings, registry)
    message = str(info.value)
    assert message.startswith(f"Themes or sites have {len(expected)} problem(s):")
    assert_problem_line(message.splitlines(), *expected[0])

    result = run_cli(
        settings, "themes", plugins={"broken_themes": ThemePlugin(*folders)},
        monkeypatch=monkeypatch,
    )  # fmt: skip
    assert result.exit_code == 1
    assert_problem_line(result.output.splitlines(), *expected[-1])


def test_themes_command_lists_plugin_themes_with_their_chain(
    tmp_path: Path, content_dir: Path, family: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    kind, enkel = family
    settings = sqlite_settings(tmp_path, content_dir, theme="enkel")
    result = run_cli(
        settings, "themes", plugins={"theme_plugin": ThemePlugin(kind, enkel)},
        monkeypatch=monkeypatch,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    shipped = sorted(p.name for p in THEMES_DIR.iterdir() if (p / "theme.yaml").is_file())
    assert [line.split()[0] for line in lines] == sorted([*shipped, "kind", "enkel"])
    by_name = {line.split()[0]: line for line in lines}
    assert by_name["enkel"] == (
        "enkel  Enkel-Theme (workspace)  inherits: enkel -> kind -> default  from theme-plugin"
    )
    assert by_name["kind"].endswith("inherits: kind -> default  from theme-plugin")
    assert by_name["default"].endswith("inherits: default  from core.web")


class Raising:
    @hookimpl
    def themes(self) -> list[Path]:
        raise OSError("theme folder not readable")


class ReturnsNumber:
    @hookimpl
    def themes(self) -> list[Any]:
        return [42]


@pytest.mark.parametrize(
    ("plugin", "message"),
    [
        (Raising(), "Plugin 'kaputt' failed in hook 'themes': OSError: theme folder not readable"),
        (ReturnsNumber(), "Plugin 'kaputt' returned 42 from hook 'themes'; expected theme folders"),
    ],
)
def test_a_failing_themes_hook_names_plugin_and_hook_and_stops_startup(
    tmp_path: Path,
    content_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    plugin: object,
    message: str,
) -> None:
    settings = sqlite_settings(tmp_path, content_dir)
    with pytest.raises(PluginError) as info:
        theme_sources(registry_with(settings, kaputt=plugin), settings)
    assert str(info.value).startswith(message)
    with pytest.raises(PluginError) as info:
        create_app(settings, registry_with(settings, kaputt=plugin))
    assert str(info.value).startswith(message)
    for command in (["themes"], ["sites"], ["content", "check"]):
        result = run_cli(settings, *command, plugins={"kaputt": plugin}, monkeypatch=monkeypatch)
        assert result.exit_code == 1, command
        assert f"Error: Plugin error: {message}" in result.output, result.output
        assert "Traceback" not in result.output


def test_workspace_theme_setting_must_name_an_installed_theme(
    tmp_path: Path, content_dir: Path
) -> None:
    settings = sqlite_settings(tmp_path, content_dir, theme="gibtsnicht")
    with pytest.raises(WebConfigError, match="MENTORING40_THEME: unknown theme 'gibtsnicht'"):
        create_app(settings)


# -- static files ---------------------------------------------------------------------------


@pytest.fixture
def asset_app(tmp_path: Path, content_dir: Path) -> Any:
    """The app without a database: assets need none."""
    return create_app(sqlite_settings(tmp_path, content_dir))


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/static/default/base.css", "text/css; charset=utf-8"),
        ("/static/musterverband/theme.css", "text/css; charset=utf-8"),
        ("/static/default/search.js", "text/javascript; charset=utf-8"),
        ("/static/musterverband/frame.js", "text/javascript; charset=utf-8"),
        ("/static/musterverband/logo.svg", "image/svg+xml"),
    ],
)
def test_static_files_have_their_type_and_are_immutable_only_when_versioned(
    asset_app: Any, path: str, content_type: str
) -> None:
    with TestClient(asset_app) as client:
        plain = client.get(path)
        assert plain.status_code == 200
        assert plain.headers["content-type"] == content_type
        assert plain.headers["x-content-type-options"] == "nosniff"
        assert plain.headers["cache-control"] == "public, max-age=300"
        versioned = client.get(f"{path}?v=abc123")
        assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert versioned.content == plain.content


# A theme's static folder is themes/<name>/static: three levels below the project root.
SECRET_PATHS = [
    b"/static/default/../../../pyproject.toml",
    b"/static/default/../theme.yaml",
    b"/static/default/./../../../core/settings.py",
    b"/static/musterverband/../../default/theme.yaml",
    b"/static/default/%2e%2e/%2e%2e/%2e%2e/pyproject.toml",
    b"/static/default/%2E%2E/%2E%2E/%2E%2E/pyproject.toml",
    b"/static/default/..%2f..%2f..%2fpyproject.toml",
    b"/static/default/..%2F..%2F..%2Fpyproject.toml",
    b"/static/default/%2e%2e%2f%2e%2e%2f%2e%2e%2fpyproject.toml",
    b"/static/default/..%5c..%5c..%5cpyproject.toml",
    b"/static/default/..\\..\\..\\pyproject.toml",
    b"/static/default/%252e%252e/%252e%252e/%252e%252e/pyproject.toml",
    b"/static/default/" + str(PROJECT_ROOT / "pyproject.toml").encode(),
    b"/static/default/" + str(PROJECT_ROOT / "pyproject.toml").replace("/", "%2f").encode(),
    b"/static/..%2f..%2fcore/settings.py",
    b"/static/default/.%2e/theme.yaml",
    b"/static/default/..",
    b"/static/default/",
]


@pytest.mark.parametrize("raw_path", SECRET_PATHS, ids=[p.decode() for p in SECRET_PATHS])
def test_static_paths_never_leave_the_theme_folders(asset_app: Any, raw_path: bytes) -> None:
    status, _, body = raw_get(asset_app, raw_path)
    assert status == 404, (raw_path, status, body[:200])
    for secret in (PROJECT_ROOT / "pyproject.toml", THEMES_DIR / "default" / "theme.yaml"):
        assert secret.read_bytes()[:60] not in body


def test_a_file_name_longer_than_the_file_system_allows_is_not_found(asset_app: Any) -> None:
    # Found by tests/test_route_table.py: the operating system refuses the name (a 500).
    for raw_path in (b"/static/default/" + b"1" * 5001, b"/static/default/a/" + b"b" * 300):
        status, _, _ = raw_get(asset_app, raw_path)
        assert status == 404, raw_path[:40]


def test_hidden_files_and_unknown_themes_are_not_served(tmp_path: Path, content_dir: Path) -> None:
    folder = write_theme(
        tmp_path / "geheim",
        "name: geheim\nlabel: G\n",
        static={".env": "SECRET=1\n", "sub/.git/config": "x\n", "sub/ok.css": "a {}\n"},
    )
    settings = sqlite_settings(tmp_path, content_dir)
    app = create_app(settings, registry_with(settings, geheim=ThemePlugin(folder)))
    with TestClient(app) as client:
        assert client.get("/static/geheim/sub/ok.css").text == "a {}\n"
        assert client.get("/static/geheim/.env").status_code == 404
        assert client.get("/static/geheim/sub/.git/config").status_code == 404
        assert client.get("/static/gibtsnicht/base.css").status_code == 404
        assert client.get("/static/geheim/gibtsnicht.css").status_code == 404
