"""The configuration of one RL training run (a YAML file for ``naa rl train --config``).

Variants and loss options are ``Literal`` fields; combinations that cannot work fail here, at load time,
with the field to change, never deep inside the training loop.

    config = RLConfig.from_yaml(Path("rl.yaml"))   # or RLConfig(tasks=Path("tasks.jsonl"), variant="guide")
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from naa.config.validation import describe
from naa.errors import ConfigError
from naa.generation.config import DEFAULT_GENERATOR_MODEL
from naa.generation.model_files import relative_to_file
from naa.rl.losses import Aggregation, GammaMode

Variant = Literal["vanilla", "filtered", "guide"]


@dataclass(frozen=True)
class GroupRule:
    """What a variant does with a prompt's group of G rewards (DESIGN.md "Guide-GRPO", step 2)."""

    drop_equal: bool  # drop groups whose rewards are all equal and draw another prompt
    hint_failed: bool  # resample a group with no correct completion with the hint in context


GROUP_RULES: dict[Variant, GroupRule] = {
    "vanilla": GroupRule(drop_equal=False, hint_failed=False),
    "filtered": GroupRule(drop_equal=True, hint_failed=False),
    "guide": GroupRule(drop_equal=True, hint_failed=True),
}

_GUIDE_ONLY = ("gamma_mode", "gamma_value", "gamma_quantile")
_LORA_ONLY = ("lora_rank", "lora_alpha", "lora_dropout", "lora_target_modules")
_WARMUP_ONLY = ("warmup_batch_size", "warmup_lr")
# Versions are referred to by name (`version:<name>`, PUT /v1/generator): a plain identifier, never one that
# reads as a path or a hub id (`org/name`) or holds spaces.
_RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class RLConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # what to train, on what, where
    model: str = Field(
        DEFAULT_GENERATOR_MODEL,
        description="Packaged model name or a local folder written by save_pretrained.",
    )
    tasks: Path = Field(..., description="JSONL task file; its train split is trained on.")
    output_dir: Path = Field(Path("runs/rl"), description="Run folder: metrics, checkpoints, final model.")
    run_name: str = Field(
        "rl-run",
        min_length=1,
        # model_versions.name is String(200): a longer name would fail registration, at the end of the run.
        max_length=200,
        description="Name of the model version the run registers: letters, digits, '.', '_' and '-'.",
    )
    # the algorithm
    variant: Variant = Field(
        "guide", description="guide = Guide-GRPO; filtered and vanilla GRPO are baselines."
    )
    group_size: int = Field(8, ge=2, description="G: completions sampled per prompt.")
    batch_prompts: int = Field(
        8, ge=1, description="Groups kept per optimisation step and process (accelerate launch: x processes)."
    )
    max_draw_rounds: int = Field(
        4,
        ge=1,
        description="Re-draw rounds to fill a batch after filtering; a step may end with fewer groups.",
    )
    success_threshold: float = Field(
        1.0, gt=0.0, le=1.0, description="A completion counts as correct when its reward reaches this."
    )
    reward: str | None = Field(None, description="A reward plugin used for every task that names none.")
    epsilon: float = Field(0.2, gt=0.0, lt=1.0, description="PPO clip range on on-policy tokens.")
    gamma_mode: GammaMode = Field("quantile", description="Policy-shaping gamma: batch quantile or constant.")
    gamma_quantile: float = Field(0.9, gt=0.0, lt=1.0, description="Quantile of guided ratios used as gamma.")
    gamma_value: float = Field(1.0, gt=0.0, description="Gamma when gamma_mode is constant.")
    aggregation: Aggregation = Field("seq_mean_token_mean", description="How token losses become one loss.")
    kl_coef: float = Field(
        0.0, ge=0.0, description="Weight of the k3 KL penalty to the start model; 0 is off."
    )
    entropy_coef: float = Field(0.0, ge=0.0, description="Weight of the entropy bonus; 0 is off.")
    ppo_epochs: int = Field(1, ge=1, description="Optimisation passes over each batch.")
    advantage_eps: float = Field(1e-6, gt=0.0, description="eps in (r - mean) / (std + eps).")
    # supervised warm-up before RL (naa/rl/warmup.py)
    warmup_steps: int = Field(
        0,
        ge=0,
        description="Supervised steps on the train tasks' demonstrations before RL, for a model that never "
        "writes the final JSON block; 0 is off. The warmed model (output_dir/warmup) is RL's start model.",
    )
    warmup_batch_size: int = Field(8, ge=1, description="Demonstrations per warm-up step.")
    warmup_lr: float = Field(
        2e-5, gt=0.0, allow_inf_nan=False, description="AdamW learning rate of the warm-up (every weight)."
    )
    # optimisation
    steps: int = Field(100, ge=1, description="Optimisation steps of the run.")
    lr: float = Field(1e-5, gt=0.0, allow_inf_nan=False, description="AdamW learning rate.")
    weight_decay: float = Field(0.0, ge=0.0, description="AdamW weight decay.")
    max_grad_norm: float = Field(1.0, gt=0.0, description="Gradient norm clip.")
    micro_batch_size: int = Field(16, ge=1, description="Completions per forward/backward pass.")
    finetune: Literal["lora", "full"] = Field(
        "lora", description="Train LoRA adapters (peft) or every weight."
    )
    lora_rank: int = Field(16, ge=1, description="LoRA rank r.")
    lora_alpha: int = Field(32, ge=1, description="LoRA scaling alpha.")
    lora_dropout: float = Field(0.0, ge=0.0, lt=1.0, description="LoRA dropout (0 keeps ratios exact).")
    lora_target_modules: tuple[str, ...] = Field(
        ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
        description="Module names that get adapters.",
    )
    dtype: Literal["float32", "bfloat16"] = Field("float32", description="Weights' dtype; bfloat16 on GPUs.")
    # sampling
    rollout_backend: Literal["transformers", "static", "vllm"] = Field(
        "transformers",
        description="transformers = generate; static = a static KV cache and one decode step per token "
        "(CUDA graphs with compile_rollout); vllm needs the vllm package, weights synced after each step.",
    )
    compile_rollout: bool | None = Field(
        None,
        description="static backend only: compile its decode step (torch.compile reduce-overhead, CUDA "
        "graphs); every batch of a run has one shape, so it compiles once (about a minute on an H200). "
        "None = on with CUDA, off on CPU.",
    )
    rollout_batch_size: int = Field(256, ge=1, description="Sequences per generate call.")
    max_new_tokens: int = Field(128, ge=1, description="Completion budget; also Dr. GRPO's normaliser.")
    temperature: float = Field(1.0, gt=0.0, le=2.0, description="Sampling temperature of rollouts.")
    top_p: float = Field(1.0, gt=0.0, le=1.0, description="Nucleus mass of rollouts.")
    # bookkeeping
    seed: int = Field(0, description="Seeds sampling, data order and initialisation.")
    checkpoint_every: int = Field(
        10, ge=1, description="Steps between checkpoints (one is also kept at the end)."
    )
    keep_checkpoints: int = Field(2, ge=1, description="Newest checkpoints kept on disk.")

    @field_validator("run_name")
    @classmethod
    def _run_name_names_a_version(cls, name: str) -> str:
        if not _RUN_NAME.fullmatch(name):
            raise ValueError(
                f"{name!r} is not a version name: use letters, digits, '.', '_' and '-', "
                "starting with a letter or digit"
            )
        return name

    @model_validator(mode="after")
    def _options_match_variant(self) -> Self:
        set_fields = self.model_fields_set
        if self.variant != "guide":
            wrong = [name for name in _GUIDE_ONLY if name in set_fields]
            if wrong:
                raise ValueError(
                    f"only variant guide uses {', '.join(wrong)}; remove them or set variant: guide"
                )
        if self.variant == "vanilla" and "max_draw_rounds" in set_fields:
            raise ValueError("vanilla GRPO keeps every group and never re-draws; remove max_draw_rounds")
        if self.finetune == "full":
            wrong = [name for name in _LORA_ONLY if name in set_fields]
            if wrong:
                raise ValueError(
                    f"only finetune: lora uses {', '.join(wrong)}; remove them or set finetune: lora"
                )
        if self.warmup_steps == 0:
            wrong = [name for name in _WARMUP_ONLY if name in set_fields]
            if wrong:
                raise ValueError(
                    f"only a warm-up (warmup_steps above 0) uses {', '.join(wrong)}; set warmup_steps or "
                    "remove them"
                )
        if self.rollout_backend != "static" and "compile_rollout" in set_fields:
            raise ValueError("compile_rollout applies only to rollout_backend: static; set that or remove it")
        if self.gamma_mode == "quantile" and "gamma_value" in set_fields:
            raise ValueError(
                "gamma_value is used only with gamma_mode: constant; set that or remove gamma_value"
            )
        if self.gamma_mode == "constant" and "gamma_quantile" in set_fields:
            raise ValueError("gamma_quantile is used only with gamma_mode: quantile; set that or remove it")
        return self

    @property
    def group_rule(self) -> GroupRule:
        return GROUP_RULES[self.variant]

    @property
    def token_bound(self) -> int:
        """The most completion tokens the run can sample and train on, every draw round filtered away
        and every completion running to ``max_new_tokens``: how a server sizes a run before queueing it."""
        rounds = 1 if self.variant == "vanilla" else self.max_draw_rounds
        per_round = self.batch_prompts * self.group_size * self.max_new_tokens
        rl = self.steps * per_round * (rounds + self.ppo_epochs)
        return rl + self.warmup_steps * self.warmup_batch_size * self.max_new_tokens

    @property
    def warmed_model_dir(self) -> Path | None:
        """Where the warm-up writes RL's start model; None when the run has no warm-up."""
        return self.output_dir / "warmup" if self.warmup_steps else None

    @classmethod
    def from_yaml(cls, path: Path) -> "RLConfig":
        """Load a run file; relative paths in it are taken relative to the file's folder.

        Raises:
            ConfigError: unreadable file or invalid fields (the message names the field).
        """
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as err:
            raise ConfigError(f"cannot read RL config {path}: {err}") from err
        if not isinstance(data, dict):
            raise ConfigError(f"RL config {path} must be a mapping of fields")
        for key in ("tasks", "output_dir"):
            if isinstance(data.get(key), str) and not Path(data[key]).is_absolute():
                data[key] = str(path.parent / data[key])
        if isinstance(data.get("model"), str):
            data["model"] = relative_to_file(data["model"], path.parent)
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise ConfigError(f"RL config {path} is invalid: {describe(err)}") from err
