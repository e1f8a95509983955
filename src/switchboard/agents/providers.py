"""Which speech and language providers the agents use: plugins when keys are set, else offline.

Selection is pure (``select_providers`` over env vars and what is installed); ``build_providers``
imports the livekit-plugins-* packages lazily, so none of them is required
(``pip install 'switchboard[providers]'`` adds them).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from switchboard.agents.config import Speech

logger = logging.getLogger("switchboard.agents")

SPEECH_MODE_ENV = "SWITCHBOARD_SPEECH"
"""``offline`` ignores every provider key; ``auto`` (default) uses the ones that are set."""

SttName = Literal["deepgram", "openai"]
LlmName = Literal["openai"]
TtsName = Literal["cartesia", "openai", "espeak", "text-only"]
VadName = Literal["silero", "builtin"]

_PLUGIN_MODULE = {
    "openai": "livekit.plugins.openai",
    "deepgram": "livekit.plugins.deepgram",
    "cartesia": "livekit.plugins.cartesia",
    "silero": "livekit.plugins.silero",
}
_KEY = {"openai": "OPENAI_API_KEY", "deepgram": "DEEPGRAM_API_KEY", "cartesia": "CARTESIA_API_KEY"}


@dataclass(frozen=True, slots=True)
class ProviderPlan:
    """What to build. ``stt`` None means text and DTMF input only; ``llm`` None means the
    deterministic parser alone interprets answers."""

    stt: SttName | None = None
    llm: LlmName | None = None
    tts: TtsName = "text-only"
    vad: VadName | None = None
    notes: tuple[str, ...] = ()

    @property
    def offline(self) -> bool:
        return self.stt is None and self.llm is None and self.tts in ("espeak", "text-only")

    def describe(self) -> str:
        return f"stt={self.stt or 'none'} llm={self.llm or 'none'} tts={self.tts} vad={self.vad}"


def plugin_installed(provider: str) -> bool:
    """Whether the livekit-plugins package for ``provider`` can be imported."""
    try:
        return importlib.util.find_spec(_PLUGIN_MODULE[provider]) is not None
    except ModuleNotFoundError:
        return False


def select_providers(
    env: Mapping[str, str],
    *,
    installed: Callable[[str], bool] = plugin_installed,
    espeak: bool = False,
) -> ProviderPlan:
    """Pick STT, LLM, TTS and VAD from the provider keys in ``env``.

    Preference: STT Deepgram then OpenAI; LLM OpenAI; TTS Cartesia then OpenAI then espeak-ng
    (when ``espeak``) then text only. A key whose plugin is not installed is skipped with a note.
    """
    notes: list[str] = []

    def usable(provider: str) -> bool:
        if not env.get(_KEY[provider], "").strip():
            return False
        if installed(provider):
            return True
        notes.append(
            f"{_KEY[provider]} is set but livekit-plugins-{provider} is not installed; "
            "ignoring it (pip install 'switchboard[providers]')"
        )
        return False

    mode = env.get(SPEECH_MODE_ENV, "auto").strip().lower() or "auto"
    if mode not in ("auto", "offline"):
        notes.append(f"{SPEECH_MODE_ENV}={mode!r} is not 'auto' or 'offline'; using 'auto'")
    offline = mode == "offline"
    openai = not offline and usable("openai")
    stt: SttName | None = None
    if not offline and usable("deepgram"):
        stt = "deepgram"
    elif openai:
        stt = "openai"
    tts: TtsName
    if not offline and usable("cartesia"):
        tts = "cartesia"
    elif openai:
        tts = "openai"
    else:
        tts = "espeak" if espeak else "text-only"
    vad: VadName | None = None
    if stt is not None:
        vad = "silero" if installed("silero") else "builtin"
    return ProviderPlan(
        stt=stt, llm="openai" if openai else None, tts=tts, vad=vad, notes=tuple(notes)
    )


@dataclass(frozen=True, slots=True)
class Providers:
    """Built instances, ready for ``AgentSession(stt=..., tts=..., vad=...)``."""

    plan: ProviderPlan
    stt: Any = None
    llm: Any = None
    tts: Any = None
    vad: Any = None


def plan_from_environment(speech: Speech) -> ProviderPlan:
    """``select_providers`` over ``os.environ`` and the espeak-ng binary on PATH."""
    return select_providers(os.environ, espeak=shutil.which(speech.espeak_binary) is not None)


def build_providers(plan: ProviderPlan, speech: Speech) -> Providers:
    """Instantiate what ``plan`` names; plugins read their own API keys from the environment."""
    stt: Any = None
    if plan.stt == "deepgram":
        stt = _plugin("deepgram").STT()
    elif plan.stt == "openai":
        stt = _plugin("openai").STT()
    tts: Any = None
    if plan.tts == "cartesia":
        tts = _plugin("cartesia").TTS()
    elif plan.tts == "openai":
        tts = _plugin("openai").TTS()
    elif plan.tts == "espeak":
        from switchboard.agents.speech import EspeakTTS

        tts = EspeakTTS(
            binary=speech.espeak_binary,
            voice=speech.espeak_voice,
            words_per_minute=speech.words_per_minute,
        )
    llm = _plugin("openai").LLM(model="gpt-4o-mini") if plan.llm == "openai" else None
    vad = _plugin("silero").VAD.load() if plan.vad == "silero" else None
    return Providers(plan=plan, stt=stt, llm=llm, tts=tts, vad=vad)


def _plugin(provider: str) -> Any:
    return importlib.import_module(_PLUGIN_MODULE[provider])


def providers_for_job(
    speech: Speech,
    room: str = "",
    *,
    env: Mapping[str, str] | None = None,
    installed: Callable[[str], bool] = plugin_installed,
) -> Providers:
    """Build what the environment selects; if a plugin fails to start, fall back to offline."""
    espeak = shutil.which(speech.espeak_binary) is not None
    plan = select_providers(os.environ if env is None else env, installed=installed, espeak=espeak)
    for note in plan.notes:
        logger.warning(note, extra={"room": room})
    logger.info("providers", extra={"room": room, "providers": plan.describe()})
    try:
        return build_providers(plan, speech)
    except Exception:
        logger.exception(
            "speech providers failed to start; continuing offline", extra={"room": room}
        )
        return build_providers(
            select_providers({SPEECH_MODE_ENV: "offline"}, espeak=espeak), speech
        )
