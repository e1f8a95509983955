"""An optional LLM rephrases an answer the deterministic parser could not read (never decides)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from switchboard.agents.config import (
    ChoiceQuestion,
    NumberQuestion,
    Question,
    TextQuestion,
    YesNoQuestion,
)

logger = logging.getLogger("switchboard.agents")

REPHRASE_TIMEOUT = 6.0
"""Seconds the caller waits at most for the LLM before the answer counts as unclear."""


def rephrase_instructions(question: Question) -> str | None:
    """System prompt asking for a canonical answer to ``question``; None when not useful."""
    if isinstance(question, YesNoQuestion):
        allowed = "exactly `yes` or `no`"
    elif isinstance(question, NumberQuestion):
        allowed = f"one whole number from {question.min} to {question.max}, in digits"
    elif isinstance(question, ChoiceQuestion):
        allowed = "exactly one of: " + ", ".join(f"`{c}`" for c in question.choices)
    else:
        return None
    return (
        f"A caller was asked: {question.prompt!r}. Rewrite their reply as {allowed}. "
        "If the reply does not clearly answer the question, output `unclear`. "
        "Output only the answer, without quotes or punctuation."
    )


async def rephrase(llm: Any, question: Question, reply: str) -> str | None:
    """Ask ``llm`` (a livekit-agents LLM) for a canonical answer; None if unclear or failing."""
    if isinstance(question, TextQuestion):
        return None
    instructions = rephrase_instructions(question)
    if instructions is None:
        return None
    from livekit.agents import llm as lk_llm

    chat = lk_llm.ChatContext.empty()
    chat.add_message(role="system", content=instructions)
    chat.add_message(role="user", content=reply)
    try:
        response = await asyncio.wait_for(llm.chat(chat_ctx=chat).collect(), REPHRASE_TIMEOUT)
    except Exception:
        logger.warning("LLM rephrasing failed", exc_info=True)
        return None
    answer = str(response.text).strip().strip("`'\".").lower()
    return None if not answer or answer == "unclear" else answer
