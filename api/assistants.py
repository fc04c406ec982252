"""One warmed-up ``Assistant`` per partner, built at the partner's first request and kept for the process.

Building loads an intent model, a FAISS index and a generator: seconds, and hundreds of MB for the
generator. Partners whose ``generation`` settings are identical share one generator instance, so ten
partners on the default model hold it in memory once.
"""

import threading
from collections.abc import Callable

from naa.assistant import Assistant
from naa.config.partner import PartnerConfig
from naa.generation import Generator, build_generator
from naa.workspace import Workspace


class AssistantCache:
    def __init__(self, workspace: Workspace, max_message_chars: int) -> None:
        self._workspace = workspace
        self._max_message_chars = max_message_chars
        self._assistants: dict[str, Assistant] = {}
        self._generators: dict[str, Generator] = {}
        # Builds are rare and heavy: one at a time, so two first requests never load the same model twice.
        self._lock = threading.Lock()

    def get(self, partner_id: str, load_config: Callable[[], PartnerConfig]) -> Assistant:
        """The partner's assistant; ``load_config`` is called only when it is not built yet."""
        assistant = self._assistants.get(partner_id)
        if assistant is not None:
            return assistant
        with self._lock:
            if partner_id not in self._assistants:
                config = load_config()
                assistant = Assistant.from_workspace(
                    config,
                    self._workspace,
                    self._generator(config),
                    max_message_chars=self._max_message_chars,
                )
                assistant.warm_up()
                self._assistants[partner_id] = assistant
            return self._assistants[partner_id]

    def forget(self, partner_id: str) -> None:
        """Drop a partner's assistant so the next request rebuilds it (its index or config changed)."""
        with self._lock:
            self._assistants.pop(partner_id, None)

    def _generator(self, config: PartnerConfig) -> Generator:
        key = config.generation.model_dump_json()
        if key not in self._generators:
            self._generators[key] = build_generator(config.generation, self._workspace.models_dir)
        return self._generators[key]
