"""Hub ids in model settings. NAA never downloads a model (the CLI and the server run with HF_HUB_OFFLINE),
so a hub id loads only from the local Hugging Face cache: a name that is not there is said at once."""

from collections.abc import Iterable

from naa.errors import ModelUnavailableError


def check_cached(kind: str, name: str, packaged: Iterable[str], setting: str) -> None:
    """Raises ModelUnavailableError when downloads are off and the cache holds no ``name``: loading it would
    fail anyway, after the hub client's retries, with a message about internet connections.

    Args:
        kind: what the model is, for the message ("generator model", "embedding model").
        packaged: the names that load from an installed package instead, for the message.
        setting: where the name was given, for the message ("generation.model").
    """
    # Imported here: huggingface_hub reads HF_HUB_OFFLINE once, at its import, which the CLI's module imports
    # would otherwise bring before its main() sets the variable.
    from huggingface_hub import try_to_load_from_cache
    from huggingface_hub.constants import is_offline_mode

    if is_offline_mode() and not isinstance(try_to_load_from_cache(name, "config.json"), str):
        raise ModelUnavailableError(
            f"{kind} {name!r} is not a packaged model ({', '.join(packaged)}), a model folder, or in the "
            f"Hugging Face cache, and NAA does not download models: set {setting} to a local model "
            "folder or a packaged model"
        )
