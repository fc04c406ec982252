"""Reading a text file a user named (intent examples, retrieval questions): one message per way it fails."""

from pathlib import Path

from naa.errors import ConfigError, NotFoundError


def read_user_text(path: Path, what: str) -> str:
    """The file's UTF-8 text; ``what`` names the file in messages ("intent examples file").

    Raises:
        NotFoundError: the file does not exist.
        ConfigError: it cannot be read (a folder, no permission) or is not UTF-8.
    """
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise NotFoundError(f"{what} {path} does not exist: check the path") from err
    except OSError as err:
        raise ConfigError(f"cannot read {what} {path}: {err.strerror}") from err
    except UnicodeDecodeError as err:
        raise ConfigError(f"cannot read {what} {path}: save it as UTF-8 text") from err
