"""``switchboard serve --print-login-link`` as a user runs it: the printed one-time link logs in
once, and neither the output nor the access log ever holds the secret."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path

from tests.integration.remote.test_dev_remote import get
from tests.support.serve import Readiness, start_serve

TOKEN_SECRET = "serve-login-secret-" + "q" * 16
LINK = re.compile(r"console login link \(works once, for 5 minutes\): (\S+)")


def test_the_printed_link_works_once_and_no_secret_reaches_a_log(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("version: 1\nrules: []\ndefault: nobody\n")
    env = {
        "LIVEKIT_URL": "ws://127.0.0.1:9",  # nothing listens: function mode never calls it
        "LIVEKIT_API_KEY": "key",
        "LIVEKIT_API_SECRET": "api-secret-" + "x" * 24,
        "SWITCHBOARD_TOKEN_SECRET": TOKEN_SECRET,
        "SWITCHBOARD_MODE": "function",
    }
    # /readyz would wait for a LiveKit that is not there: the process answering is enough.
    served = start_serve(
        env, tmp_path, rules, extra_args=["--print-login-link"], readiness=Readiness.ALIVE
    )
    base = served.url
    log = served.process.log_path
    try:
        found = LINK.search(log.read_text())
        assert found, log.read_text()
        link = found.group(1)
        assert link.startswith(f"{base}/console/login/")

        status, headers = get(link)
        assert (status, headers["location"]) == (303, "/console")
        cookie = headers["set-cookie"].split(";")[0]
        page = urllib.request.Request(f"{base}/console", headers={"Cookie": cookie})
        with urllib.request.urlopen(page, timeout=5) as answer:
            assert answer.status == 200
        assert get(link)[0] == 401  # spent
        # The old way no longer logs in (and the service never echoes what it was given).
        status, headers = get(f"{base}/console?secret=wrong")
        assert status == 303 and headers["location"].startswith("/console/login")
    finally:
        served.stop()
    output = log.read_text()
    assert "GET /console/login/" in output  # the access log is on
    assert TOKEN_SECRET not in output
    assert env["LIVEKIT_API_SECRET"] not in output
