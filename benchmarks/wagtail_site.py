"""A Wagtail site with the same entries, for benchmarks/serve_bench.py: Wagtail API v2
(``/api/v2/pages/<id>/``) under gunicorn with 2 workers, as the issue's anchor measured.

Set up in a venv of its own (``WAGTAIL_VENV``, default var/wagtail-venv) with Wagtail and
gunicorn from the package index; one page model with the fields our detail answer has,
exposed through ``api_fields``. Raises when anything cannot be set up (the benchmark then
skips Wagtail with the reason).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("WAGTAIL_VENV", PROJECT_ROOT / "var" / "wagtail-venv"))
PACKAGES = ["wagtail==8.0.1", "gunicorn==27.0.1"]

SETTINGS = """
from pathlib import Path
BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "benchmark-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [
    "toolbox", "wagtail.api.v2", "rest_framework", "wagtail.sites", "wagtail.users",
    "wagtail.documents", "wagtail.images", "wagtail.admin", "wagtail",
    "modelcluster", "taggit", "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles",
]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
USE_TZ = True
STATIC_URL = "/static/"
WAGTAIL_SITE_NAME = "bench"
WAGTAILADMIN_BASE_URL = "http://localhost"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
              "OPTIONS": {"context_processors": []}}]
"""

URLS = """
from django.urls import path
from wagtail.api.v2.router import WagtailAPIRouter
from wagtail.api.v2.views import PagesAPIViewSet
api = WagtailAPIRouter("wagtailapi")
api.register_endpoint("pages", PagesAPIViewSet)
urlpatterns = [path("api/v2/", api.urls)]
"""

MODELS = """
from django.db import models
from wagtail.api import APIField
from wagtail.models import Page

class EntryPage(Page):
    summary = models.TextField()
    kind = models.CharField(max_length=60)
    topics = models.JSONField(default=list)
    phases = models.JSONField(default=list)
    audiences = models.JSONField(default=list)
    tags = models.JSONField(default=list)
    source = models.CharField(max_length=120)
    duration = models.CharField(max_length=120, null=True)
    updated_at = models.DateField()
    materials = models.JSONField(default=list)
    related = models.JSONField(default=list)
    body_markdown = models.TextField()
    body_html = models.TextField()
    links_to = models.JSONField(default=list)
    linked_from = models.JSONField(default=list)
    api_fields = [APIField(n) for n in (
        "summary", "kind", "topics", "phases", "audiences", "tags", "source", "duration",
        "updated_at", "materials", "related", "body_markdown", "body_html", "links_to",
        "linked_from")]
"""

LOAD = """
import json, sys
import django
django.setup()
from wagtail.models import Page
from toolbox.models import EntryPage
root = Page.objects.get(depth=2)
ids = []
for e in json.load(open(sys.argv[1])):
    page = EntryPage(title=e["title"], slug=e["slug"], **{k: e[k] for k in (
        "summary", "kind", "topics", "phases", "audiences", "tags", "source", "duration",
        "updated_at", "materials", "related", "body_markdown", "body_html", "links_to",
        "linked_from")})
    root.add_child(instance=page)
    ids.append(page.id)
print(json.dumps(ids))
"""


def _run(command: list[str], cwd: Path, log: Path, env: dict[str, str]) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}\n{done.stdout}\n{done.stderr}\n")
    if done.returncode:
        raise RuntimeError(f"{' '.join(command[:3])} failed (see {log})")
    return done.stdout


def start_wagtail(
    stack: contextlib.ExitStack,
    folder: Path,
    entries: list[dict[str, Any]],
    database_url: str | None,
) -> tuple[str, list[str], subprocess.Popen[bytes]]:
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "setup.log"
    python = VENV / "bin" / "python"
    if not python.exists():
        _run([sys.executable, "-m", "venv", str(VENV)], PROJECT_ROOT, log, dict(os.environ))
    _run(
        [str(python), "-m", "pip", "install", "-q", *PACKAGES], PROJECT_ROOT, log, dict(os.environ)
    )
    (folder / "toolbox").mkdir(exist_ok=True)
    (folder / "toolbox" / "__init__.py").write_text("")
    (folder / "toolbox" / "models.py").write_text(MODELS)
    (folder / "settings.py").write_text(SETTINGS)
    (folder / "urls.py").write_text(URLS)
    (folder / "load.py").write_text(LOAD)
    (folder / "entries.json").write_text(json.dumps(entries, ensure_ascii=False))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "settings", "PYTHONPATH": str(folder)}
    django = [str(python), "-m", "django"]
    _run([*django, "makemigrations", "toolbox"], folder, log, env)
    _run([*django, "migrate", "--noinput"], folder, log, env)
    ids = json.loads(_run([str(python), "load.py", "entries.json"], folder, log, env))
    port = 0
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gunicorn = [str(VENV / "bin" / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}"]
    with (folder / "gunicorn.log").open("wb") as out:
        process = subprocess.Popen(
            [*gunicorn, "django.core.wsgi:get_wsgi_application()"],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    stack.callback(process.terminate)
    base = f"http://127.0.0.1:{port}"
    paths = [f"/api/v2/pages/{i}/" for i in ids]
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base + paths[0], timeout=5) as answer:
                if answer.status == 200:
                    break
        except OSError as exc:
            if time.monotonic() > deadline or process.poll() is not None:
                log = folder / "gunicorn.log"
                raise RuntimeError(f"gunicorn did not answer (see {log})") from exc
            time.sleep(0.5)
    return base, paths, process
