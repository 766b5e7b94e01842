"""Helpers for the tests of the HTML side (tests/test_web_*.py): a small HTML tree built
with the standard library's parser, test plugins for themes and sites, the CLI, and a
raw ASGI request for paths that an HTTP client would normalise before sending."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pluggy
from click.testing import CliRunner, Result
from litestar import Litestar
from litestar.testing import TestClient

from core.app import create_app
from core.cli import main
from core.plugins import PluginRegistry, build_registry
from core.settings import Settings

Client = TestClient[Any]
hookimpl = pluggy.HookimplMarker("mentoring40")

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        """The text a reader sees, whitespace collapsed."""
        parts: list[str] = []

        def walk(node: Node) -> None:
            for child in node.children:
                if isinstance(child, str):
                    parts.append(child)
                else:
                    walk(child)

        walk(self)
        return " ".join("".join(parts).split())

    def iter(self) -> Iterator[Node]:
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def find_all(
        self, tag: str | None = None, class_: str | None = None, **attrs: str
    ) -> list[Node]:
        """Descendants by tag, one CSS class and exact attribute values (``data_x`` means
        ``data-x``; ``for_`` means ``for``)."""
        wanted = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
        return [
            n
            for n in self.iter()
            if (tag is None or n.tag == tag)
            and (class_ is None or class_ in n.attrs.get("class", "").split())
            and all(n.attrs.get(k) == v for k, v in wanted.items())
        ]

    def find(self, tag: str | None = None, class_: str | None = None, **attrs: str) -> Node:
        found = self.find_all(tag, class_, **attrs)
        assert found, f"no <{tag or '*'}> with class={class_!r} {attrs} in the page"
        return found[0]

    def links(self) -> list[str]:
        return [a.attrs["href"] for a in self.find_all("a") if "href" in a.attrs]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v if v is not None else "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_html(text: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


def page_of(response: Any, status: int = 200) -> Node:
    """An HTML answer with the given status, parsed."""
    assert response.status_code == status, (response.status_code, response.text[:2000])
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return parse_html(response.text)


def csp_directives(response: Any) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    directives = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


# -- settings, apps, plugins ----------------------------------------------------------------


def sqlite_settings(tmp_path: Path, content_dir: Path, **kwargs: Any) -> Settings:
    """Settings on a private SQLite file, for tests where the engine makes no difference."""
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'web.sqlite'}", content_dir=content_dir, **kwargs
    )


@contextmanager
def app_client(settings: Settings, registry: PluginRegistry | None = None) -> Iterator[Client]:
    registry = registry or build_registry(settings, load_installed=False)
    with TestClient(create_app(settings, registry)) as client:
        yield client


class ThemePlugin:
    """A third-party plugin that contributes theme folders."""

    def __init__(self, *folders: Path) -> None:
        self.folders = list(folders)

    @hookimpl
    def themes(self) -> list[Path]:
        return self.folders


class SitePlugin:
    """A third-party plugin that contributes site files or folders."""

    def __init__(self, *paths: Path) -> None:
        self.paths = list(paths)

    @hookimpl
    def sites(self) -> list[Path]:
        return self.paths


class RegionPlugin:
    """A third-party plugin with a content pack named ``region``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @hookimpl
    def content_packs(self) -> list[dict[str, Any]]:
        return [{"name": "region", "path": str(self.folder), "label": "Testregion"}]


def registry_with(settings: Settings, **plugins: object) -> PluginRegistry:
    registry = build_registry(settings, load_installed=False)
    for name, plugin in plugins.items():
        registry.register(plugin, name=name.replace("_", "-"))
    return registry


def write_theme(
    folder: Path,
    manifest: str,
    *,
    templates: dict[str, str] | None = None,
    static: dict[str, str] | None = None,
) -> Path:
    folder.mkdir(parents=True)
    (folder / "theme.yaml").write_text(manifest, encoding="utf-8")
    for kind, files in (("templates", templates), ("static", static)):
        for name, text in (files or {}).items():
            path = folder / kind / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return folder


def write_site(content_dir: Path, site_id: str, text: str) -> Path:
    folder = content_dir / "sites"
    folder.mkdir(exist_ok=True)
    path = folder / f"{site_id}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def run_cli(
    settings: Settings,
    *args: str,
    plugins: dict[str, object] | None = None,
    monkeypatch: Any = None,
    load_plugins: str | None = "",
) -> Result:
    """``mentoring40 ARGS`` in-process, on these settings, without installed plugins (with
    ``load_plugins=None``: all installed ones); with ``plugins`` (and ``monkeypatch``) the
    command's registry holds those test plugins, as if they were installed."""
    if plugins:
        import core.cli.runtime

        assert monkeypatch is not None
        monkeypatch.setattr(
            core.cli.runtime, "build_registry", lambda s, **_: registry_with(s, **plugins)
        )
    env = {
        "DATABASE_URL": settings.database_url,
        "MENTORING40_CONTENT_DIR": str(settings.content_dir),
        "MENTORING40_LOAD_PLUGINS": load_plugins,
        "MENTORING40_THEME": settings.theme,
    }
    return CliRunner().invoke(main, list(args), env=env)


# -- raw requests ---------------------------------------------------------------------------


def raw_get(app: Litestar, raw_path: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``raw_path`` to the app exactly as written (no dot-segment removal, no
    re-encoding), the way a hostile client can. Only for routes that need no database."""
    from urllib.parse import unquote_to_bytes

    path, _, query = raw_path.partition(b"?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": unquote_to_bytes(path).decode("latin-1"),
        "raw_path": path,
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"testserver.local")],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver.local", 80),
        "state": {},
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], headers, body
