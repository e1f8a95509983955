"""Provider selection: offline by default, plugins when their keys are set and installed."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from switchboard.agents.config import Speech
from switchboard.agents.providers import (
    ProviderPlan,
    build_providers,
    plugin_installed,
    select_providers,
)
from switchboard.agents.speech import EspeakTTS


def only(*names: str) -> Callable[[str], bool]:
    return lambda provider: provider in names


ALL = only("openai", "deepgram", "cartesia", "silero")


def test_no_keys_is_offline_with_espeak() -> None:
    plan = select_providers({}, installed=ALL, espeak=True)
    assert plan == ProviderPlan(stt=None, llm=None, tts="espeak", vad=None)
    assert plan.offline


def test_no_keys_and_no_espeak_is_text_only() -> None:
    plan = select_providers({}, installed=ALL, espeak=False)
    assert plan.tts == "text-only"
    assert plan.offline


def test_openai_key_alone_covers_everything() -> None:
    plan = select_providers({"OPENAI_API_KEY": "sk-x"}, installed=ALL, espeak=True)
    assert (plan.stt, plan.llm, plan.tts, plan.vad) == ("openai", "openai", "openai", "silero")
    assert not plan.offline


def test_specialists_win_over_openai() -> None:
    env = {"OPENAI_API_KEY": "a", "DEEPGRAM_API_KEY": "b", "CARTESIA_API_KEY": "c"}
    plan = select_providers(env, installed=ALL, espeak=True)
    assert (plan.stt, plan.llm, plan.tts) == ("deepgram", "openai", "cartesia")


def test_deepgram_alone_gives_speech_input_and_offline_voice() -> None:
    plan = select_providers({"DEEPGRAM_API_KEY": "b"}, installed=ALL, espeak=True)
    assert (plan.stt, plan.llm, plan.tts, plan.vad) == ("deepgram", None, "espeak", "silero")


def test_builtin_vad_without_silero_plugin() -> None:
    plan = select_providers({"DEEPGRAM_API_KEY": "b"}, installed=only("deepgram"), espeak=False)
    assert plan.vad == "builtin"


def test_key_without_plugin_is_ignored_with_a_note() -> None:
    plan = select_providers({"CARTESIA_API_KEY": "c"}, installed=only(), espeak=True)
    assert plan.tts == "espeak"
    (note,) = plan.notes
    assert "CARTESIA_API_KEY is set but livekit-plugins-cartesia is not installed" in note
    assert "switchboard[providers]" in note


def test_blank_keys_do_not_count() -> None:
    plan = select_providers({"OPENAI_API_KEY": "  "}, installed=ALL, espeak=True)
    assert plan.offline
    assert plan.notes == ()


@pytest.mark.parametrize("mode", ["offline", "OFFLINE", " offline "])
def test_offline_mode_ignores_keys(mode: str) -> None:
    env = {"SWITCHBOARD_SPEECH": mode, "OPENAI_API_KEY": "a", "DEEPGRAM_API_KEY": "b"}
    plan = select_providers(env, installed=ALL, espeak=True)
    assert plan == ProviderPlan(tts="espeak")


def test_unknown_mode_is_noted_and_treated_as_auto() -> None:
    plan = select_providers({"SWITCHBOARD_SPEECH": "cloud", "OPENAI_API_KEY": "a"}, installed=ALL)
    assert plan.llm == "openai"
    assert "'cloud' is not 'auto' or 'offline'" in plan.notes[0]


def test_describe() -> None:
    assert ProviderPlan(tts="espeak").describe() == "stt=none llm=none tts=espeak vad=None"


def test_plugin_installed_reflects_this_environment() -> None:
    assert plugin_installed("openai") in (True, False)
    assert not plugin_installed("deepgram") or plugin_installed("deepgram")


def test_build_offline_plan() -> None:
    speech = Speech(espeak_voice="en-gb", words_per_minute=150)
    providers = build_providers(ProviderPlan(tts="espeak"), speech)
    assert isinstance(providers.tts, EspeakTTS)
    assert (providers.tts.voice, providers.tts.words_per_minute) == ("en-gb", 150)
    assert providers.stt is None and providers.llm is None and providers.vad is None
    assert build_providers(ProviderPlan(), speech).tts is None


def test_job_providers_fall_back_offline_when_a_plugin_fails() -> None:
    from switchboard.agents.providers import providers_for_job

    speech = Speech(espeak_binary="/nonexistent/espeak-ng")
    if plugin_installed("openai"):
        pytest.skip("livekit-plugins-openai is installed here")
    # Claim the plugin is there: importing it then fails for real, and the job goes offline.
    providers = providers_for_job(
        speech, env={"OPENAI_API_KEY": "sk-test"}, installed=lambda p: p == "openai"
    )
    assert providers.plan == ProviderPlan(tts="text-only")
    assert providers.stt is None and providers.tts is None and providers.llm is None
