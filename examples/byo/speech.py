"""Voice for these examples: OpenAI plugins when ``OPENAI_API_KEY`` is set, else offline.

Not part of the adoption: the same file sits in before/ so both versions run on a machine
without provider keys. Offline, espeak-ng speaks and callers answer with the keypad (DTMF).
"""

import os
from typing import Any


def speech() -> dict[str, Any]:
    """Keyword arguments for ``AgentSession``."""
    if os.environ.get("OPENAI_API_KEY"):
        from livekit.plugins import openai, silero

        return {
            "stt": openai.STT(),
            "llm": openai.LLM(model="gpt-4o-mini"),
            "tts": openai.TTS(),
            "vad": silero.VAD.load(),
        }
    from switchboard.agents.speech import EspeakTTS

    return {
        "tts": EspeakTTS(),
        "vad": None,
        "turn_handling": {"turn_detection": None},
        "user_away_timeout": None,
    }
