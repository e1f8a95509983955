"""Each extra of the wheel, installed alone into a fresh venv, does its job; a base install has
none of the service stack and says which extra a command needs."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from switchboard.stack.config import free_port
from tests.package.venvs import ROOT, SERVICE_STACK, Venv, clean_env, install

SEED_RULES = ROOT / "examples" / "rules" / "seed.yaml"
DOCTOR_GOOD = ROOT / "tests" / "fixtures" / "doctor" / "SB101" / "good"
DOCTOR_BAD = ROOT / "tests" / "fixtures" / "doctor" / "SB101" / "bad"
TOKEN_SECRET = "package-smoke-secret"
PLUGINS = ("openai", "deepgram", "cartesia", "silero")


def test_base_install_checks_rules_and_has_no_service_stack(wheel: Path, tmp_path: Path) -> None:
    venv = install(wheel, "base", tmp_path)
    checked = venv.run("switchboard", "rules", "check", SEED_RULES)
    assert checked.returncode == 0, checked.stderr
    assert "OK" in checked.stdout
    event = ROOT / "examples" / "rules" / "events" / "seed-outbound-room.json"
    simulated = venv.run("switchboard", "simulate", SEED_RULES, event)
    assert simulated.returncode == 0, simulated.stderr
    assert venv.run("switchboard", "doctor", "--file", DOCTOR_GOOD).returncode == 0
    bad = venv.run("switchboard", "doctor", "--file", DOCTOR_BAD)
    assert bad.returncode != 0 and "SB101" in bad.stdout, bad.stderr
    handoff = venv.run("python", "-c", "import switchboard.handoff")
    assert handoff.returncode == 0, handoff.stderr
    assert [m for m in (*SERVICE_STACK, "livekit.agents") if venv.has(m)] == []
    for command, extra in ((["serve"], "service"), (["agent", "qualifier"], "agents")):
        refused = venv.run("switchboard", *command)
        assert refused.returncode == 2
        assert f"pip install 'livekit-switchboard[{extra}]'" in refused.stderr, refused.stderr


@pytest.fixture
def serving(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Venv, str, str]]:
    """``switchboard serve`` from the venv of ``request.param``: (venv, base URL, login link)."""
    venv = install(request.getfixturevalue("wheel"), request.param, tmp_path)
    port = free_port()
    env = {
        "LIVEKIT_URL": f"ws://127.0.0.1:{free_port()}",  # nothing listens: healthz does not care
        "LIVEKIT_API_KEY": "smoke",
        "LIVEKIT_API_SECRET": "smoke-secret-smoke-secret-smoke-secret",
        "SWITCHBOARD_RULES": str(SEED_RULES),
        "SWITCHBOARD_STORE_URL": f"sqlite+aiosqlite:///{tmp_path / 'switchboard.db'}",
        "SWITCHBOARD_TOKEN_SECRET": TOKEN_SECRET,
    }
    log = (tmp_path / "serve.log").open("w+")
    process = subprocess.Popen(
        [venv.bin("switchboard"), "serve", "--port", str(port), "--print-login-link"],
        cwd=tmp_path,
        env=clean_env(venv, env),
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        link = re.search(r"login link \(.*?\): (\S+)", (tmp_path / "serve.log").read_text())
        assert link, (tmp_path / "serve.log").read_text()
        yield venv, url, link.group(1)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def assert_phone_page_works(url: str, login_link: str) -> None:
    """/phone (after the console login) loads phone.js, which imports the vendored client."""
    with httpx.Client(base_url=url, follow_redirects=True, timeout=10) as http:
        assert http.get(login_link).status_code == 200
        page = http.get("/phone")
        assert page.status_code == 200 and "/console/static/phone.js" in page.text
        script = http.get("/console/static/phone.js").text
        vendored = re.search(r'from "(/console/static/vendor/[^"]+)"', script)
        assert vendored, script[:300]
        client = http.get(vendored.group(1))
    assert client.status_code == 200, vendored.group(1)
    assert "javascript" in client.headers["content-type"] and len(client.content) > 100_000


@pytest.mark.parametrize("serving", ["service"], indirect=True)
def test_service_install_serves_healthz_and_the_phone(serving: tuple[Venv, str, str]) -> None:
    venv, url, login_link = serving
    assert_phone_page_works(url, login_link)
    assert not venv.has("livekit.agents")


def test_agents_install_runs_the_bundled_agents(wheel: Path, tmp_path: Path) -> None:
    venv = install(wheel, "agents", tmp_path)
    helped = venv.run("switchboard", "agent", "qualifier", "--help")
    assert helped.returncode == 0 and "usage" in helped.stdout.lower(), helped.stderr
    entry = "import switchboard.agents.launcher, switchboard.agents.qualifier"
    imported = venv.run("python", "-c", f"{entry}, switchboard.agents.outbound_caller")
    assert imported.returncode == 0, imported.stderr
    assert not venv.has("starlette")


def function_app_loads(venv: Venv, directory: Path) -> subprocess.CompletedProcess[str]:
    """Import azure/function_app.py as the Functions host does, from a folder of its own."""
    directory.mkdir()
    (directory / "function_app.py").write_text((ROOT / "azure" / "function_app.py").read_text())
    env = {
        "LIVEKIT_URL": "ws://127.0.0.1:7880",
        "LIVEKIT_API_KEY": "smoke",
        "LIVEKIT_API_SECRET": "smoke-secret-smoke-secret-smoke-secret",
        "SWITCHBOARD_RULES": str(SEED_RULES),
        "SWITCHBOARD_STORE_URL": f"sqlite+aiosqlite:///{directory / 'switchboard.db'}",
    }
    probe = (
        "import sys, function_app\n"
        "print(sorted(f.get_function_name() for f in function_app.app.get_functions()))\n"
        "print('livekit.rtc' in sys.modules)\n"
    )
    return venv.run("python", "-c", probe, cwd=directory, env=env)


def test_azure_install_loads_the_function_app_without_livekit_rtc(
    wheel: Path, tmp_path: Path
) -> None:
    venv = install(wheel, "azure", tmp_path)
    loaded = function_app_loads(venv, tmp_path / "app")
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split("\n")[:2] == ["['http_app_func', 'maintain']", "False"]
    assert not venv.has("livekit.agents")


def test_providers_install_has_the_speech_plugins(wheel: Path, tmp_path: Path) -> None:
    venv = install(wheel, "providers", tmp_path)
    modules = ", ".join(f"livekit.plugins.{plugin}" for plugin in PLUGINS)
    imported = venv.run("python", "-c", f"import switchboard.agents.launcher, {modules}")
    assert imported.returncode == 0, imported.stderr


@pytest.mark.parametrize("serving", ["all"], indirect=True)
def test_all_install_does_everything(serving: tuple[Venv, str, str], tmp_path: Path) -> None:
    venv, url, login_link = serving
    assert_phone_page_works(url, login_link)
    assert venv.run("switchboard", "agent", "outbound-caller", "--help").returncode == 0
    modules = ", ".join(f"livekit.plugins.{plugin}" for plugin in PLUGINS)
    assert venv.run("python", "-c", f"import {modules}").returncode == 0
    assert function_app_loads(venv, tmp_path / "app").returncode == 0
