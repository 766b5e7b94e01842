"""Real-browser tests: Chromium (Playwright) against the app served by uvicorn.

One stack per test package: a real Meilisearch, the app over the shipped content (plus
a test site ``partnertest``) on a fresh SQLite file, and two small partner web servers
on other origins that embed the app with ``embed.js``. Nothing is mocked.

Chromium comes from the system (``/usr/bin/chromium``, Debian's package; ``make
install`` installs it when run as root); Playwright's own browser download is not used.
Without Chromium the tests are skipped with the reason, except in CI, where they fail.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from core.plugins import build_registry
from core.settings import PROJECT_ROOT, Settings
from search.local_server import LocalMeilisearch, free_port
from tests.conftest import SHIPPED_CONTENT, sync

CHROMIUM = Path(os.environ.get("MENTORING40_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HERE = Path(__file__).resolve().parent
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"

# Every shipped theme and the shipped site that uses it (embeds take their site's theme).
THEME_SITES = {"default": "werkzeugkasten", "musterverband": "musterverband", "nrw": "nrw"}
QUICKCHECK = "quickcheck-reverse-mentoring"
PARTNER_SITE = "partnertest"
# Generous: a slow, busy machine must not fail a test; a real failure still ends.
TIMEOUT_MS = 30_000
STARTUP_SECONDS = 60.0


def _missing(reason: str) -> None:
    """Skip outside CI, fail in CI (like the PostgreSQL fixture)."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI requires the browser tests)")
    pytest.skip(reason)


def require_chromium() -> None:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        _missing(
            f"Chromium not found at {CHROMIUM}; run `make install` as root (it installs "
            "Debian's chromium) or `apt-get install chromium`, or set MENTORING40_CHROMIUM"
        )


def require_axe() -> Path:
    if not AXE_JS.is_file():
        _missing(f"axe-core is not installed ({AXE_JS} missing); run `make install`")
    return AXE_JS


# -- HTTP helpers ----------------------------------------------------------------------------


def http_get(url: str, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Accept": "application/json, text/html"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers.items()), error.read()


def get_json(url: str) -> Any:
    status, _, body = http_get(url)
    assert status == 200, (url, status, body[:500])
    return json.loads(body)


def post_json(url: str, payload: Any) -> Any:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def wait_until(check: Callable[[], Any], what: str, timeout: float = STARTUP_SECONDS) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (OSError, ValueError) as exc:  # not listening yet, half-written answer
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; last: {last!r}")


# -- the app in a subprocess -----------------------------------------------------------------


class AppServer:
    """``uvicorn core.app:create_app_from_env`` on 127.0.0.1, configured by environment."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self.ready = False
        command = [sys.executable, "-m", "uvicorn", "core.app:create_app_from_env", "--factory"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                command, env=env, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT
            )

    def wait_healthy(self) -> None:
        if self.ready:
            return

        def healthy() -> bool:
            if self.process.poll() is not None:
                tail = self.log.read_text(errors="replace")[-3000:]
                raise AssertionError(f"the app exited ({self.process.returncode}):\n{tail}")
            return http_get(f"{self.url}/health", timeout=2)[0] == 200

        wait_until(healthy, f"the app on {self.url}")
        self.ready = True

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# -- partner web pages on other origins ------------------------------------------------------


class PartnerServer:
    """A tiny threading http.server on 127.0.0.1 that serves fixed HTML pages."""

    def __init__(self, port: int, pages: dict[str, str]) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path.split("?")[0])
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the test output clean

        self.url = f"http://127.0.0.1:{port}"
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


def partner_page(title: str, embed: str) -> str:
    return (
        '<!doctype html>\n<html lang="de"><head><meta charset="utf-8">'
        f"<title>{title}</title></head>\n<body><header><h1>{title}</h1>"
        "<p>Eine Partnerseite auf einer anderen Origin.</p></header>\n"
        f'<main id="partner">\n{embed}\n</main>\n<footer><p>Fußzeile des Partners</p></footer>'
        "</body></html>\n"
    )


def embed_script(app: str, site: str, **data: str) -> str:
    attrs = "".join(f' data-{name}="{value}"' for name, value in data.items())
    return f'<script src="{app}/embed.js" data-site="{site}"{attrs} async></script>'


# -- the stack --------------------------------------------------------------------------------


@dataclass
class Stack:
    root: Path
    app: AppServer
    partner: PartnerServer
    foreign: PartnerServer
    base_env: dict[str, str]
    meili: LocalMeilisearch
    _themed: dict[str, AppServer] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.app.url

    def start_workspace(self, theme: str) -> AppServer:
        """Start (without waiting) an app whose workspace uses ``theme``, on the same
        database and search index."""
        if theme not in self._themed:
            env = {**self.base_env, "MENTORING40_THEME": theme}
            self._themed[theme] = AppServer(env, free_port(), self.root / f"app-{theme}.log")
        return self._themed[theme]

    def workspace(self, theme: str) -> str:
        """The base URL of the app whose workspace uses ``theme``, once it answers."""
        if theme == "default":
            return self.app.url
        server = self.start_workspace(theme)
        server.wait_healthy()
        return server.url

    def stop(self) -> None:
        for server in self._themed.values():
            server.stop()
        self.app.stop()


def _write_partner_site(content: Path, partner_origin: str) -> None:
    (content / "sites" / f"{PARTNER_SITE}.yaml").write_text(
        "# Test site of the browser tests: embeddable from the local partner server only.\n"
        "label: Partnertest\n"
        "theme: musterverband\n"
        f"origins: [{partner_origin}]\n"
        f"questionnaires: [{QUICKCHECK}]\n",
        encoding="utf-8",
    )


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require_chromium()
    root = tmp_path_factory.mktemp("browser")
    app_port, partner_port, foreign_port = free_port(), free_port(), free_port()
    while len({app_port, partner_port, foreign_port}) < 3:
        partner_port, foreign_port = free_port(), free_port()
    app_url = f"http://127.0.0.1:{app_port}"
    partner_origin = f"http://127.0.0.1:{partner_port}"

    content = root / "content"
    shutil.copytree(SHIPPED_CONTENT, content)
    _write_partner_site(content, partner_origin)

    with contextlib.ExitStack() as cleanup:
        meili = LocalMeilisearch(root / "meili")
        cleanup.enter_context(meili)
        database_url = f"sqlite:///{root / 'var' / 'browser.sqlite'}"
        index = f"browser_{uuid.uuid4().hex[:10]}"
        settings = Settings(
            database_url=database_url,
            content_dir=content,
            meili_url=meili.url,
            meili_admin_key=meili.master_key,
            meili_index=index,
        )
        sync(settings, build_registry(settings))
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("MENTORING40_", "MEILI_", "DATABASE_URL"))
        }
        env.update(
            DATABASE_URL=database_url,
            MENTORING40_CONTENT_DIR=str(content),
            MEILI_URL=meili.url,
            MEILI_ADMIN_KEY=str(meili.master_key),
            MEILI_INDEX=index,
            PYTHONUNBUFFERED="1",
        )
        app = AppServer(env, app_port, root / "app.log")
        cleanup.callback(app.stop)
        app.wait_healthy()

        partner = PartnerServer(
            partner_port,
            {
                "/search.html": partner_page(
                    "Partner: Suche", embed_script(app_url, PARTNER_SITE, view="search")
                ),
                "/quickcheck.html": partner_page(
                    "Partner: Quickcheck",
                    embed_script(
                        app_url, PARTNER_SITE, view="quickcheck", questionnaire=QUICKCHECK
                    ),
                ),
                "/element.html": partner_page(
                    "Partner: Element",
                    f'<script src="{app_url}/embed.js" async></script>\n'
                    f'<mentoring40-embed site="{PARTNER_SITE}" view="entry" '
                    'entry="kick-off-workshop"></mentoring40-embed>',
                ),
                # musterverband allows only https://www.example.org: refused here.
                "/musterverband.html": partner_page(
                    "Partner: fremde Site", embed_script(app_url, "musterverband", view="search")
                ),
            },
        )
        cleanup.callback(partner.stop)
        # An origin that no site lists.
        foreign = PartnerServer(
            foreign_port,
            {
                "/search.html": partner_page(
                    "Fremde Seite", embed_script(app_url, PARTNER_SITE, view="search")
                )
            },
        )
        cleanup.callback(foreign.stop)

        # The outbox worker fills the index in the background: wait until search answers.
        published = get_json(f"{app_url}/api/v1/entries?page_size=1")["meta"]["pagination"]

        def indexed() -> bool:
            status, _, body = http_get(f"{app_url}/api/v1/search?q=")
            # 503 until the worker has created the index.
            # Until the index is filled, the database answers (meta.search says so): the
            # search pages' facets need the index itself.
            meta = json.loads(body)["meta"] if status == 200 else {}
            return (
                meta.get("search", {}).get("engine") == "meilisearch"
                and meta["pagination"]["total"] == published["total"]
            )

        wait_until(indexed, "the search index to hold every published entry")
        running = Stack(
            root=root,
            app=app,
            partner=partner,
            foreign=foreign,
            base_env=env,
            meili=meili,
        )
        cleanup.callback(running.stop)
        # The other themes' workspaces start in the background while the first tests run
        # (after indexing, so that they find nothing left to index).
        for theme in THEME_SITES:
            if theme != "default":
                running.start_workspace(theme)
        yield running


# -- the browser ------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def browser(stack: Stack) -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)  # assertions wait as long as actions
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser context (empty storage) per test, JavaScript on."""
    ctx = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    ctx.set_default_navigation_timeout(TIMEOUT_MS)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


# -- Quickcheck answers derived from the API definition --------------------------------------


def definition(base: str, perspective: str) -> dict[str, Any]:
    doc: dict[str, Any] = get_json(
        f"{base}/api/v1/questionnaires/{QUICKCHECK}?perspective={perspective}"
    )["data"]
    return doc


def evaluate(condition: dict[str, Any] | None, answers: dict[str, Any]) -> bool:
    """The declarative visibility conditions, as far as the shipped questionnaires use them."""
    if condition is None:
        return True
    if "all" in condition:
        return all(evaluate(c, answers) for c in condition["all"])
    if "any" in condition:
        return any(evaluate(c, answers) for c in condition["any"])
    if "not" in condition:
        return not evaluate(condition["not"], answers)
    value = answers.get(condition["item"])
    op, wanted = condition["op"], condition.get("value")
    if op == "answered":
        return (value not in (None, "keine-angabe")) == bool(wanted)
    if op == "eq":
        return value == wanted
    if op == "ne":
        return value != wanted
    if op == "in":
        return value in wanted
    if op == "not_in":
        return value not in wanted
    if op == "contains":
        return isinstance(value, list) and wanted in value
    raise AssertionError(f"the test does not know the condition operator {op!r}")


def plan_answers(doc: dict[str, Any]) -> list[tuple[dict[str, Any], Any]]:
    """(item, answer) for every item that is visible and required, in form order: the
    first offered option (the best score on a Likert scale; ``ja`` for yes/no so that
    follow-up questions appear), the minimum for numbers."""
    answers: dict[str, Any] = {}
    plan: list[tuple[dict[str, Any], Any]] = []
    for item in doc["items"]:
        if not item.get("required") or not evaluate(item.get("visible_if"), answers):
            continue
        kind = item["type"]
        codes = [o["code"] for o in item.get("options") or [] if o["code"] != "keine-angabe"]
        value: Any
        if kind == "number":
            value = int(item.get("min") or 0)
        elif kind in {"text"}:
            value = "Antwort aus dem Browsertest"
        elif kind == "multiple_choice":
            value = codes[: max(1, int(item.get("min_choices") or 1))]
        elif kind == "ranking":
            value = codes
        elif kind == "yes_no" and "ja" in codes:
            value = "ja"
        else:
            value = codes[0]
        answers[item["id"]] = value
        plan.append((item, value))
    return plan


def submit_quickcheck(base: str, perspective: str = "unternehmen") -> dict[str, Any]:
    """A real response through the JSON API; its result page is then shown by the pages."""
    doc = definition(base, perspective)
    answers = {item["id"]: value for item, value in plan_answers(doc)}
    body = post_json(
        f"{base}/api/v1/questionnaires/{QUICKCHECK}/responses",
        {"version": doc["version"], "perspective": perspective, "mode": "real", "answers": answers},
    )
    result: dict[str, Any] = body["data"]
    return result
