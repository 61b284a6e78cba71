"""Which chat backend a language-model agent talks to, and whether its exchanges are recorded
or replayed: the agent's model settings, checked when a scenario file is read.

``ChatSettings.open`` builds the backend an agent uses: the scripted responder or the HTTP
client, wrapped in a recorder (``mode = "record"``), or, for ``mode = "replay"``, the cassette
alone. Each agent has its own cassette, ``<cassette_dir>/<agent name>.jsonl``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agentbed.agents.llm.backends import ChatBackend, HttpBackend
from agentbed.agents.llm.cassette import RecordingBackend, ReplayingBackend
from agentbed.agents.llm.scripted import ScriptedBackend

MODES = ("live", "record", "replay")
BACKENDS = ("scripted", "http")


def check_choice(name: str, value: str, options: tuple[str, ...]) -> None:
    """Raise ValueError unless ``value`` is one of ``options``."""
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(options)}; got {value!r}")


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """An agent's model settings (the ``llm_trader`` parameters of the same names).

    Raises:
        ValueError: a setting out of range, or one the others require missing (the message
            names the parameter).
    """

    backend: str = "scripted"
    base_url: str = ""
    model: str = "scripted"
    api_key_env: str = ""
    temperature: float = 0.0
    max_tokens: int = 256
    timeout_s: float = 30.0
    mode: str = "live"
    cassette_dir: str = ""

    def __post_init__(self) -> None:
        check_choice("backend", self.backend, BACKENDS)
        check_choice("mode", self.mode, MODES)
        if self.backend == "http" and self.mode != "replay" and not self.base_url:
            raise ValueError('base_url is required with backend = "http"')
        if self.mode != "live" and not self.cassette_dir:
            raise ValueError(f'cassette_dir is required with mode = "{self.mode}"')
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        for name, value in (("max_tokens", self.max_tokens), ("timeout_s", self.timeout_s)):
            if not value > 0:
                raise ValueError(f"{name} must be > 0, got {value}")

    def cassette(self, agent: str) -> Path:
        """The cassette of the agent named ``agent``."""
        return Path(self.cassette_dir) / f"{agent}.jsonl"

    def open(self, agent: str) -> ChatBackend:
        """The backend of the agent named ``agent`` (nothing is contacted or read yet)."""
        if self.mode == "replay":
            return ReplayingBackend(self.cassette(agent))
        inner: ChatBackend
        if self.backend == "http":
            inner = HttpBackend(self.base_url, self.timeout_s, self.api_key_env)
        else:
            inner = ScriptedBackend(self.model)
        return RecordingBackend(inner, self.cassette(agent)) if self.mode == "record" else inner
