"""A real Label Studio server on 127.0.0.1 for the review tests, one per test session.

Import the fixture into a test module (``from tests.label_studio_fixture import label_studio``).
The server comes from its own virtual environment, because ``label-studio`` pins versions of
openai and pyarrow that clash with lrsgro's. Point ``LRSGRO_LABEL_STUDIO_EXE`` at its
``bin/label-studio`` (``.ci/install_label_studio.sh`` prints the line).

``LRSGRO_LS_TEMPLATE_DB`` may name a ``label_studio.sqlite3`` made once by ``label-studio init``
with the settings below. Starting from a copy of it skips the database migrations, which took
about 30 s on a 2-core machine.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

EXE_ENV = "LRSGRO_LABEL_STUDIO_EXE"
TEMPLATE_ENV = "LRSGRO_LS_TEMPLATE_DB"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-pass-123"
# A legacy API token preset at start. It is a test-only value for a server bound to loopback.
ADMIN_TOKEN = "0123456789abcdef0123456789abcdef01234567"
START_TIMEOUT_S = 240.0
STOP_TIMEOUT_S = 20.0

# Label Studio reads LABEL_STUDIO_<NAME>, then HEARTEX_<NAME>, then the plain <NAME>, so a plain
# USERNAME or PORT in the caller's environment would silently change the server.
_DROPPED_ENV = ("USERNAME", "PASSWORD", "HOST", "PORT")


@dataclass(frozen=True)
class LabelStudioServer:
    """A running server: its URL, the admin's token and the local-files document root."""

    url: str
    token: str
    files_root: Path
    data_dir: Path
    pid: int


def find_label_studio() -> str | None:
    """Return the ``label-studio`` executable from ``LRSGRO_LABEL_STUDIO_EXE`` or PATH, or None."""
    configured = os.environ.get(EXE_ENV)
    if configured:
        return configured if Path(configured).is_file() else None
    return shutil.which("label-studio")


def server_env(data_dir: Path, files_root: Path) -> dict[str, str]:
    """Return the child environment: loopback only, preset admin and token, no outbound calls."""
    env = {key: value for key, value in os.environ.items() if key not in _DROPPED_ENV}
    env.update(
        LABEL_STUDIO_BASE_DATA_DIR=str(data_dir),
        LABEL_STUDIO_USERNAME=ADMIN_EMAIL,
        LABEL_STUDIO_PASSWORD=ADMIN_PASSWORD,
        LABEL_STUDIO_USER_TOKEN=ADMIN_TOKEN,
        # Stored in the organisation when the first user is created, so it must be set from the
        # first start (or the `label-studio init` that made the template database).
        LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN="true",
        LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK="true",
        LOCAL_FILES_SERVING_ENABLED="true",
        LOCAL_FILES_DOCUMENT_ROOT=str(files_root),
        SENTRY_DSN="",
        FRONTEND_SENTRY_DSN="",
        LATEST_VERSION_CHECK="false",
        COLLECT_ANALYTICS="false",
    )
    return env


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabelStudioServer]:
    """Start Label Studio on a free loopback port with a fresh data directory; stop it by PID."""
    exe = find_label_studio()
    if exe is None:
        pytest.skip(
            f"Label Studio server not found: set {EXE_ENV} to its bin/label-studio "
            "(run .ci/install_label_studio.sh) or put label-studio on PATH"
        )

    data_dir = tmp_path_factory.mktemp("lsdata")
    files_root = tmp_path_factory.mktemp("lsfiles")
    template = os.environ.get(TEMPLATE_ENV)
    if template and Path(template).is_file():
        shutil.copyfile(template, data_dir / "label_studio.sqlite3")

    port = _free_port()
    log_path = data_dir / "server.log"
    command = [
        exe,
        "start",
        "--no-browser",
        "--internal-host",
        "127.0.0.1",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(
            command,
            env=server_env(data_dir, files_root),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(url, process, log_path)
        _check_token(url)
        yield LabelStudioServer(url, ADMIN_TOKEN, files_root, data_dir, process.pid)
    finally:
        _stop(process)


def sign_up_reviewer(server: LabelStudioServer, email: str, password: str) -> str:
    """Sign a second user up through the organisation's invite link, as a browser would.

    Returns the new user's legacy API token. Signing up through the invite link puts the user
    into the admin's organisation, so their annotations land in the same projects.
    """
    invite = _get_json(f"{server.url}/api/invite", server.token)
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    signup_url = server.url + invite["invite_url"]

    with opener.open(signup_url, timeout=30) as response:
        page = response.read().decode("utf-8")
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if match is None:
        raise RuntimeError(f"no CSRF token in the sign-up page {signup_url}")

    form = {"csrfmiddlewaretoken": match.group(1), "email": email, "password": password, "allow_newsletters": "false"}
    request = urllib.request.Request(
        signup_url, data=urllib.parse.urlencode(form).encode(), headers={"Referer": signup_url}
    )
    with opener.open(request, timeout=30):
        pass
    with opener.open(f"{server.url}/api/current-user/token", timeout=30) as response:
        return json.loads(response.read())["token"]


def _get_json(url: str, token: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _free_port() -> int:
    # Label Studio moves to the next port when its port is busy, so the fixture picks one itself.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise RuntimeError(f"Label Studio exited with status {process.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"Label Studio did not answer {url}/health within {START_TIMEOUT_S:.0f} s; see {log_path}")


def _check_token(url: str) -> None:
    try:
        _get_json(f"{url}/api/current-user/whoami", ADMIN_TOKEN)
    except urllib.error.HTTPError as error:
        raise RuntimeError(
            f"Label Studio refused the preset token (HTTP {error.code}); a template database made "
            f"without LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true causes this. Rebuild {TEMPLATE_ENV} "
            "with .ci/install_label_studio.sh"
        ) from error


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    # The server runs in its own session; signal only its process group, found by its PID.
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
