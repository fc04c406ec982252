"""The one exception hierarchy of NAA.

Every error a user can cause is an ``NAAError`` with a message that names the object and the fix.
The API maps each class to one HTTP status in ``api/errors.py``; the CLI prints the message on one line.
"""


class NAAError(Exception):
    """Root of all NAA errors; ``code`` is the machine-readable name used by the API."""

    code = "naa_error"
    retryable = False


class ConfigError(NAAError):
    """Bad configuration or input: a partner file, a training file, a request field."""

    code = "invalid_config"


class InputError(NAAError):
    """A request or file the user sent cannot be processed as given (empty, too large, unreadable)."""

    code = "invalid_input"


class PromptTooLongError(InputError):
    """The prompt and the reply's budget do not fit in the generator model's context."""


class NotFoundError(NAAError):
    """A partner, knowledge base, document, conversation or model that does not exist."""

    code = "not_found"


class ConflictError(NAAError):
    """The object already exists (a document id, a partner id)."""

    code = "conflict"


class HandedOffError(ConflictError):
    """A chat turn in a conversation the assistant has handed to a human: a person answers it now."""

    code = "handed_off"


class ModelUnavailableError(NAAError):
    """A model or model server cannot be reached or loaded; retrying later may succeed."""

    code = "model_unavailable"
    retryable = True


class ServiceUnavailableError(NAAError):
    """The database or the job queue (broker) cannot be reached; retrying later may succeed."""

    code = "service_unavailable"
    retryable = True


class RetrievalError(NAAError):
    """The knowledge-base index cannot answer (missing, corrupt, built with another embedding model)."""

    code = "retrieval_error"


class GenerationError(NAAError):
    """The generator failed to produce a reply."""

    code = "generation_error"


class TrainingError(NAAError):
    """A training run cannot start or continue."""

    code = "training_error"
