"""``switchboard serve --print-login-link`` as a user runs it: the printed one-time link logs in
once, and neither the output nor the access log ever holds the secret."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from switchboard.stack.config import free_port
from switchboard.stack.process import started_process_groups, stop_process_group
from tests.integration.remote.test_dev_remote import get

TOKEN_SECRET = "serve-login-secret-" + "q" * 16
LINK = re.compile(r"console login link \(works once, for 5 minutes\): (\S+)")


def test_the_printed_link_works_once_and_no_secret_reaches_a_log(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("version: 1\nrules: []\ndefault: nobody\n")
    port = free_port()
    log = tmp_path / "serve.log"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "LIVEKIT_URL": "ws://127.0.0.1:9",  # nothing listens: function mode never calls it
        "LIVEKIT_API_KEY": "key",
        "LIVEKIT_API_SECRET": "api-secret-" + "x" * 24,
        "SWITCHBOARD_RULES": str(rules),
        "SWITCHBOARD_STORE_URL": f"sqlite+aiosqlite:///{tmp_path / 'sb.db'}",
        "SWITCHBOARD_TOKEN_SECRET": TOKEN_SECRET,
        "SWITCHBOARD_MODE": "function",
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "switchboard.cli",
                "serve",
                "--port",
                str(port),
                "--print-login-link",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    started_process_groups.append(process.pid)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except (urllib.error.URLError, OSError):
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        found = LINK.search(log.read_text())
        assert found, log.read_text()
        link = found.group(1)
        assert link.startswith(f"http://127.0.0.1:{port}/console/login/")

        status, headers = get(link)
        assert (status, headers["location"]) == (303, "/console")
        cookie = headers["set-cookie"].split(";")[0]
        base = f"http://127.0.0.1:{port}"
        page = urllib.request.Request(f"{base}/console", headers={"Cookie": cookie})
        with urllib.request.urlopen(page, timeout=5) as answer:
            assert answer.status == 200
        assert get(link)[0] == 401  # spent
        # The old way no longer logs in (and the service never echoes what it was given).
        status, headers = get(f"http://127.0.0.1:{port}/console?secret=wrong")
        assert status == 303 and headers["location"].startswith("/console/login")
    finally:
        stop_process_group(process.pid, grace=5)
    output = log.read_text()
    assert "GET /console/login/" in output  # the access log is on
    assert TOKEN_SECRET not in output
    assert env["LIVEKIT_API_SECRET"] not in output
