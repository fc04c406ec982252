"""One warmed-up ``Assistant`` per partner, built at the partner's first request and kept for the process.

Building loads an intent model, a FAISS index and a generator: seconds, and hundreds of MB for the
generator. Partners whose ``generation`` settings are identical share one generator instance, so ten
partners on the default model hold it in memory once. A partner's assistant is rebuilt when its intent
model on disk changes (a training job finished) or when its partner row serves something else (another
config, or a generator version switched by ``PUT /v1/generator``): every request passes the row's
revision, read from the database, so each API replica sees a switch at its next request for the partner.
The knowledge base reloads a changed index by itself.
"""

import threading
from collections.abc import Callable, Hashable

from naa.assistant import Assistant, make_generator
from naa.config.partner import PartnerConfig
from naa.generation import Generator
from naa.intent.model_files import META_FILE
from naa.storage.models import Partner
from naa.workspace import Workspace


def serving_revision(partner: Partner) -> Hashable:
    """What decides the assistant a partner row asks for, besides the intent model on disk."""
    return partner.config_yaml, partner.config_path, partner.generator_version_id


class AssistantCache:
    def __init__(self, workspace: Workspace, max_message_chars: int) -> None:
        self._workspace = workspace
        self._max_message_chars = max_message_chars
        self._assistants: dict[str, tuple[Assistant, Hashable]] = {}
        self._generators: dict[str, Generator] = {}
        # Builds are rare and heavy: one at a time, so two first requests never load the same model twice.
        self._lock = threading.Lock()

    def get(self, partner_id: str, revision: Hashable, load_config: Callable[[], PartnerConfig]) -> Assistant:
        """The partner's assistant; ``load_config`` is called only when it is (re)built.

        ``revision`` changes whenever the partner's stored config or serving generator version does.
        """
        version = (revision, self._intent_version(partner_id))
        cached = self._assistants.get(partner_id)
        if cached is not None and cached[1] == version:
            return cached[0]
        with self._lock:
            cached = self._assistants.get(partner_id)
            if cached is None or cached[1] != version:
                config = load_config()
                assistant = Assistant.from_workspace(
                    config,
                    self._workspace,
                    self._generator(config),
                    max_message_chars=self._max_message_chars,
                )
                assistant.warm_up()
                cached = self._assistants[partner_id] = (assistant, version)
                self._drop_unused_generators()
            return cached[0]

    def built(self, partner_id: str) -> Assistant | None:
        """The partner's assistant if one is built, without building one: what this replica serves now."""
        cached = self._assistants.get(partner_id)
        return None if cached is None else cached[0]

    def _drop_unused_generators(self) -> None:
        # A switched generator version would otherwise stay in memory for the life of the process.
        used = {id(assistant.generator) for assistant, _ in self._assistants.values()}
        self._generators = {key: gen for key, gen in self._generators.items() if id(gen) in used}

    def _intent_version(self, partner_id: str) -> int | None:
        # Training writes the model's metadata file last, so its mtime marks a complete new model.
        meta = self._workspace.intent_dir(partner_id) / META_FILE
        return meta.stat().st_mtime_ns if meta.exists() else None

    def _generator(self, config: PartnerConfig) -> Generator:
        key = config.generation.model_dump_json()
        if key not in self._generators:
            self._generators[key] = make_generator(config, self._workspace)
        return self._generators[key]
