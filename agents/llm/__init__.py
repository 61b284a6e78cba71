"""Language-model agents: a market trader (swaps, bundles, intents), an escrow buyer (with
credential checks) and an escrow seller whose decisions come from a chat model with tool
calling, through an OpenAI-compatible endpoint or an in-process scripted responder, with every
exchange recordable to and replayable from a cassette (see ``docs/llm-agents.md``)."""

from __future__ import annotations

from agentbed.agents.llm.agent import LLMTrader
from agentbed.agents.llm.backends import ChatUnavailable, HttpBackend, LLMConfigError
from agentbed.agents.llm.cassette import CassetteError, CassetteMismatch
from agentbed.agents.llm.conversation import ChatAgent, ToolError
from agentbed.agents.llm.escrow_agent import LLMBuyer
from agentbed.agents.llm.scripted import ScriptedBackend
from agentbed.agents.llm.seller_agent import LLMSeller

__all__ = [
    "CassetteError",
    "CassetteMismatch",
    "ChatAgent",
    "ChatUnavailable",
    "HttpBackend",
    "LLMBuyer",
    "LLMConfigError",
    "LLMSeller",
    "LLMTrader",
    "ScriptedBackend",
    "ToolError",
]
