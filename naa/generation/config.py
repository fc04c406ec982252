"""Partner settings for reply generation: one config class per backend, picked by ``backend``."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from naa.generation.base import SamplingParams

DEFAULT_GENERATOR_MODEL = "SmolLM2-135M-Instruct"


class _SamplingDefaults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_new_tokens: int = Field(192, ge=1, le=8192, description="Longest reply, in tokens.")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="0 is greedy decoding.")
    top_p: float = Field(1.0, gt=0.0, le=1.0, description="Nucleus sampling mass.")
    # OpenAI-compatible servers accept at most four stop strings, so every backend keeps that limit.
    stop: list[str] = Field(
        default_factory=list, max_length=4, description="The reply ends before the first of these strings."
    )
    repeat_cutoff_chars: int | None = Field(
        60,
        ge=8,
        description="The reply ends before a span of this many characters that repeats an earlier part "
        "of it: small models' greedy replies can loop to the token limit. null: never.",
    )

    def default_params(self) -> SamplingParams:
        """The sampling used when a caller passes no ``SamplingParams`` of its own."""
        return SamplingParams(
            max_new_tokens=self.max_new_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            stop=tuple(self.stop),
            repeat_cutoff_chars=self.repeat_cutoff_chars,
        )


class TransformersGeneratorConfig(_SamplingDefaults):
    backend: Literal["transformers"] = "transformers"
    model: str = Field(
        DEFAULT_GENERATOR_MODEL, description="Packaged model name, local folder, or hub id (needs a network)."
    )
    device: str = Field("cpu", description="torch device, e.g. cpu or cuda:0.")
    dtype: Literal["float32", "bfloat16", "float16"] = Field("float32", description="Weights' dtype.")
    max_batch_size: int = Field(
        8,
        ge=1,
        le=256,
        description="Chats decoded together; one arriving while others are being written joins them at the "
        "next decode step.",
    )


class VLLMGeneratorConfig(_SamplingDefaults):
    backend: Literal["vllm"] = "vllm"
    model: str = Field(
        DEFAULT_GENERATOR_MODEL, description="Packaged model name, local folder, or hub id that vLLM loads."
    )
    gpu_memory_utilization: float = Field(
        0.85, gt=0.0, le=1.0, description="Share of GPU memory vLLM may take."
    )
    tensor_parallel_size: int = Field(1, ge=1, description="GPUs one model is split over.")
    max_model_len: int | None = Field(
        None, ge=64, description="Longest prompt plus reply, in tokens; None keeps the model's own limit."
    )


class OpenAIGeneratorConfig(_SamplingDefaults):
    backend: Literal["openai"] = "openai"
    base_url: str = Field(..., description="OpenAI-compatible server, e.g. http://vllm:8000/v1.")
    model: str = Field(..., description="Model name the server knows.")
    api_key: SecretStr = Field(SecretStr("none"), description="Bearer key for the server.")
    timeout_s: float = Field(60.0, gt=0, description="Per-request timeout.")
    max_retries: int = Field(
        2, ge=0, le=10, description="Retries on connection errors and 5xx before giving up."
    )


GeneratorConfig = Annotated[
    TransformersGeneratorConfig | VLLMGeneratorConfig | OpenAIGeneratorConfig, Field(discriminator="backend")
]
