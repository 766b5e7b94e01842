"""Fuzzing: schemathesis generates requests for every operation of our own OpenAPI document
and sends them to the real app (fixture content in a SQLite file, a real Meilisearch, an
API key with every scope) served by uvicorn on a free loopback port. Every answer must be
no 5xx and exactly what the document promises: a documented status code, the documented
content type, a body that matches the documented schema.

Bounded and reproducible: a fixed number of examples per operation, derandomized (the
same requests every run). ``make fuzz`` runs the same test with many more examples
(MENTORING40_FUZZ_EXAMPLES), see docs/FUZZING.md.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from litestar import Litestar
from schemathesis.specs.openapi.checks import positive_data_acceptance

from core.app import create_app
from core.plugins import build_registry
from core.settings import Settings
from search.local_server import LocalMeilisearch
from tests.conftest import FIXTURE_CONTENT, make_settings, sync
from tests.web_support import run_cli

EXAMPLES = int(os.environ.get("MENTORING40_FUZZ_EXAMPLES", "30"))

# Query parameters whose values the API checks against stored data (400 naming them):
# taxonomy filters against the taxonomy, which content and plugins extend; perspective
# against the questionnaire's perspectives. The document cannot list those values.
DATA_CHECKED_PARAMS = {
    **dict.fromkeys(["topic", "phase", "audience", "kind", "source"], "Unknown "),
    "perspective": "has no perspective",
}
# Every parameter refuses text no database can store (NUL), which JSON Schema's string
# type allows: the API's description says so (core.http.input_checks).
UNSTORABLE = "contains a NUL character"
# Bodies whose content is checked against stored data (422): answers against the
# questionnaire definition, tandem tokens against stored results.
DATA_CHECKED_BODIES = {
    "POST /api/v1/questionnaires/{questionnaire_id}/responses",
    "POST /api/v1/tandem-checks",
}


# Rate limits per client would turn most of the fuzzer's requests into 429s: off, for the
# settings that exist (they are MENTORING40_RATE_LIMIT_SEARCH / _SUBMIT where they do).
NO_RATE_LIMITS = {
    name: None
    for name in ("rate_limit_search", "rate_limit_submit")
    if name in Settings.__struct_fields__
}


def fixture_app(settings: Settings) -> Litestar:
    return create_app(settings, build_registry(settings, load_installed=False))


def openapi_document() -> dict[str, Any]:
    """The document the app serves at /schema/openapi.json, built from the code alone, so
    that pytest makes one test per operation while collecting (no database is opened;
    a test checks that the running app serves the same document)."""
    with tempfile.TemporaryDirectory() as folder:
        settings = make_settings(f"sqlite:///{folder}/unused.sqlite", FIXTURE_CONTENT)
        return fixture_app(settings).openapi_schema.to_schema()


DOCUMENT = openapi_document()
schema = schemathesis.openapi.from_dict(DOCUMENT)


@dataclass(frozen=True)
class Served:
    url: str
    key: str
    # Values that exist, mixed into the generated path parameters and tandem bodies so that
    # the fuzzer reaches past 404 and 422 (entries, questionnaires, result tokens).
    known: dict[str, list[Any]]
    tandem: dict[str, str]


# The probe questionnaires of the fixture content: answers that are valid.
PROBE = {
    "geraete": "voll",
    "chaos": "nicht",
    "wlan": "ja",
    "programm": "nein",
    "offenheit": "teils",
}
PROFILE = {
    "themen": ["video", "cloud"],
    "treffen": "vor-ort",
    "ausprobieren": "voll",
    "puenktlich": "voll",
    "berichtslinie": "nein",
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The app over the fixture content in a SQLite file with a real Meilisearch, served by
    uvicorn on a free loopback port for all operations, ready (index settings applied,
    every entry indexed); and an API key with every scope, made with the CLI as an
    operator would."""
    tmp = tmp_path_factory.mktemp("fuzz")
    content = tmp / "content"
    shutil.copytree(FIXTURE_CONTENT, content)
    with LocalMeilisearch(tmp / "meili") as meili:
        app_settings = make_settings(
            f"sqlite:///{tmp / 'var' / 'fuzz.sqlite'}",
            content,
            meili_url=meili.url,
            meili_admin_key=meili.master_key,
            meili_index=f"fuzz_{uuid.uuid4().hex[:10]}",
            **NO_RATE_LIMITS,
        )
        sync(app_settings)
        made = run_cli(
            app_settings,
            "keys", "create", "--name", "fuzz",
            "--scope", "stats:read", "--scope", "responses:export",
        )  # fmt: skip
        assert made.exit_code == 0, made.output
        with serve(fixture_app(app_settings)) as url:
            wait_until_ready(url)
            yield Served(
                url=url,
                key=made.stdout.splitlines()[0],
                **seed_responses(url),
            )


@contextmanager
def serve(app: Litestar) -> Iterator[str]:
    """Run ``app`` in uvicorn (in a thread, with its lifespan) on a free loopback port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # In a thread uvicorn leaves signals alone; log_config=None keeps the app's logging.
    server = uvicorn.Server(
        uvicorn.Config(app, lifespan="on", ws="none", log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive(), "uvicorn stopped while starting"
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


def post_json(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 201, answer.read()
        data: dict[str, Any] = json.loads(answer.read())["data"]
        return data


def seed_responses(url: str) -> dict[str, Any]:
    """Stored responses, so that statistics have groups to show (at least 5), results have
    tokens and the tandem check has a mentor's and a mentee's profile."""
    tokens = [
        post_json(
            f"{url}/api/v1/questionnaires/probe/responses",
            {"version": 1, "perspective": "mitarbeitende", "answers": PROBE},
        )["token"]
        for _ in range(5)
    ]
    tandem = {
        role: post_json(
            f"{url}/api/v1/questionnaires/probe-profil/responses",
            {"version": 1, "perspective": role, "answers": PROFILE},
        )["token"]
        for role in ("mentor", "mentee")
    }
    known = {
        "slug": ["ueberblick", "arbeitsablauf", "aufgabenliste"],
        "questionnaire_id": ["probe", "probe-profil"],
        "token": [*tokens, *tandem.values()],
        # query parameters
        "perspective": ["mitarbeitende", "unternehmen", "mentor", "mentee"],
        "lang": ["de", "en"],
        "topic": ["barrieren", "wissen-sichern"],
        "version": [1],
    }
    return {"known": known, "tandem": tandem}


def wait_until_ready(url: str, timeout: float = 30) -> None:
    """Fuzz a working installation: /ready is 200 (search index settings applied, nothing
    waiting too long in the outbox)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/ready", timeout=5) as answer:
                if answer.status == 200:
                    return
                problem = str(answer.status)
        except OSError as exc:  # 503 (HTTPError) until ready
            problem = str(exc)
        assert time.monotonic() < deadline, f"the app did not become ready: {problem}"
        time.sleep(0.2)


def test_the_fuzzed_document_is_the_served_one(served: Served) -> None:
    with urllib.request.urlopen(f"{served.url}/schema/openapi.json", timeout=10) as answer:
        assert schemathesis.openapi.from_file(answer.read().decode()).raw_schema == DOCUMENT


def refused_by_the_data(case: schemathesis.Case, response: schemathesis.Response) -> bool:
    """Whether a schema-valid request was refused for something only the stored data
    decides: a value not in the taxonomy or the questionnaire (400 naming only such
    parameters), or a Quickcheck body whose answers or tokens do not fit what is stored
    (422)."""
    if response.status_code == 400:
        params = response.json().get("invalid_params", [])
        return bool(params) and all(
            DATA_CHECKED_PARAMS.get(p["name"], "\0") in p["reason"] or UNSTORABLE in p["reason"]
            for p in params
        )
    return response.status_code == 422 and case.operation.label in DATA_CHECKED_BODIES


def positive_data_accepted(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """schemathesis's positive_data_acceptance (a request the document allows is not
    refused), except for refusals that only the stored data can decide."""
    if refused_by_the_data(case, response):
        return None
    return positive_data_acceptance(ctx, response, case)


def use_known_values(case: schemathesis.Case, data: st.DataObject, served: Served) -> None:
    """Often, in a request the document allows, a value that exists instead of the generated
    one (3 times in 4): an entry slug, a questionnaire id, a result token, a perspective, a
    language, a topic, a version, the tandem's tokens, valid answers. Only in positive
    cases: a negative case must stay invalid."""

    def often(label: str) -> bool:
        return data.draw(st.integers(0, 3), label=label) > 0

    for name, values in served.known.items():
        for where in (case.path_parameters, case.query):
            if where and name in where and often(name):
                where[name] = data.draw(st.sampled_from(values), label=name)
    label = case.operation.label
    if label == "POST /api/v1/tandem-checks" and often("tandem"):
        case.body = dict(served.tandem)
    if label == "POST /api/v1/questionnaires/{questionnaire_id}/responses" and often("answers"):
        case.path_parameters = {"questionnaire_id": "probe"}
        mode = data.draw(st.sampled_from(["real", "test"]), label="mode")
        case.body = {"version": 1, "perspective": "mitarbeitende", "mode": mode, "answers": PROBE}


# Statuses seen per operation, for the last test.
SEEN: Counter[tuple[str, int]] = Counter()


@schema.parametrize()
@schema.given(data=st.data())
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    # Each example is an HTTP round trip and the bodies' schemas are large: Hypothesis's
    # speed and size warnings would fire on the shared test machine, not on a problem.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
def test_every_operation_answers_as_documented(
    case: schemathesis.Case, data: st.DataObject, served: Served
) -> None:
    if case.meta is not None and case.meta.generation.mode.is_positive:
        use_known_values(case, data, served)
    response = case.call_and_validate(
        base_url=served.url,
        headers={"Authorization": f"Bearer {served.key}"},
        excluded_checks=[positive_data_acceptance],
        additional_checks=[positive_data_accepted],
    )
    SEEN[case.operation.label, response.status_code] += 1


def test_the_fuzzer_got_past_keys_and_identifiers() -> None:
    """The fuzzed requests reached the protected routes with their key and found existing
    things (runs after the fuzz test, which fills SEEN)."""
    if not SEEN:
        pytest.skip("the fuzz test did not run in this session")
    for operation in (
        "GET /api/v1/entries/{slug}",
        "GET /api/v1/questionnaires/{questionnaire_id}",
        "GET /api/v1/questionnaires/{questionnaire_id}/stats",
        "GET /api/v1/questionnaires/{questionnaire_id}/export",
        "POST /api/v1/questionnaires/{questionnaire_id}/responses",
        "GET /api/v1/results/{token}",
        "POST /api/v1/tandem-checks",
    ):
        ok = sum(n for (label, status), n in SEEN.items() if label == operation and status < 300)
        assert ok > 0, (operation, sorted(SEEN.items()))
