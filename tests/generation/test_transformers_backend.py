"""What only the in-process transformers backend does: sampling, cancelling, limits, model folders."""

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from naa.errors import GenerationError, InputError, ModelUnavailableError
from naa.generation import ChatMessage, Completion, Generator, SamplingParams, build_generator
from naa.generation.config import TransformersGeneratorConfig
from naa.generation.transformers_backend import TransformersGenerator

QUESTION = [ChatMessage("user", "Where is my order?")]


def test_warm_up_twice_keeps_the_loaded_model(tiny_generator: Generator) -> None:
    before = tiny_generator.generate(QUESTION, SamplingParams(max_new_tokens=4))
    tiny_generator.warm_up()
    assert tiny_generator.generate(QUESTION, SamplingParams(max_new_tokens=4)) == before


def test_sampling_differs_from_greedy_at_high_temperature(tiny_generator: Generator) -> None:
    params = SamplingParams(max_new_tokens=6, temperature=1.5)
    greedy = tiny_generator.generate(QUESTION, SamplingParams(max_new_tokens=6)).text
    assert {tiny_generator.generate(QUESTION, params).text for _ in range(2)} != {greedy}


def test_abandoned_stream_releases_the_model(tiny_generator: Generator) -> None:
    stream = tiny_generator.stream(QUESTION, SamplingParams(max_new_tokens=200))
    next(stream)
    stream.close()  # e.g. the client disconnected after the first words
    assert tiny_generator.generate(QUESTION, SamplingParams(max_new_tokens=2)).completion_tokens == 2


def test_prompt_longer_than_the_context_is_refused(tiny_generator: Generator) -> None:
    huge = [ChatMessage("user", "refund " * 3000)]
    with pytest.raises(InputError, match="2048"):
        tiny_generator.generate(huge)


def test_missing_model_folder_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    generator = build_generator(TransformersGeneratorConfig(model=str(missing)), tmp_path)
    with pytest.raises(ModelUnavailableError, match=r"no-such-model does not exist"):
        generator.warm_up()


def test_folder_without_a_model_is_refused(tmp_path: Path) -> None:
    generator = build_generator(TransformersGeneratorConfig(model=str(tmp_path)), tmp_path)
    with pytest.raises(ModelUnavailableError, match=r"config\.json"):
        generator.warm_up()


def test_unknown_hub_id_offline_says_what_to_set(tmp_path: Path) -> None:
    generator = build_generator(TransformersGeneratorConfig(model="no-such-org/no-such-model"), tmp_path)
    with pytest.raises(ModelUnavailableError, match=r"generation\.model"):
        generator.warm_up()


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_unavailable_device_says_what_to_set(tiny_lm_dir: Path, tmp_path: Path) -> None:
    generator = build_generator(
        TransformersGeneratorConfig(model=str(tiny_lm_dir), device="cuda:0"), tmp_path
    )
    with pytest.raises(ModelUnavailableError, match=r"generation\.device"):
        generator.warm_up()


class _Gate:
    """Wraps the model's forward: records each call's (rows, tokens) and can hold the decode loop between
    steps, so that chats arriving meanwhile are admitted at one known step; ``fail_next`` makes one call
    raise; ``run_inside`` functions run once, on the decoding thread, inside the next call."""

    def __init__(self, generator: TransformersGenerator) -> None:
        self.model: Any = generator._model
        self.forward = self.model.forward
        self.open = threading.Event()
        self.open.set()
        self.held = threading.Event()  # a call waits at the closed gate
        self.shapes: list[tuple[int, int]] = []
        self.fail_next = False
        self.run_inside: list[Callable[[], object]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self.open.is_set():
            self.held.set()
        self.open.wait(timeout=30)
        self.shapes.append(tuple(kwargs["input_ids"].shape))
        while self.run_inside:
            self.run_inside.pop()()
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("out of memory")
        return self.forward(*args, **kwargs)

    def __enter__(self) -> "_Gate":
        self.model.forward = self
        return self

    def __exit__(self, *exc: object) -> None:
        self.open.set()
        del self.model.forward

    def decode_rows(self) -> list[int]:
        return [rows for rows, tokens in self.shapes if tokens == 1]


@pytest.fixture
def generator(tiny_lm_dir: Path, tmp_path: Path) -> TransformersGenerator:
    """A generator of its own whose rows ignore the end token: every reply runs to its budget, so a reply
    still running when others join is certain."""
    generator = TransformersGenerator(TransformersGeneratorConfig(model=str(tiny_lm_dir)), tmp_path)
    generator.warm_up()
    assert generator._batch is not None
    generator._batch.eos_ids = set()
    return generator


def _join_mid_reply(
    generator: TransformersGenerator, requests: list[tuple[list[ChatMessage], SamplingParams]], gate: _Gate
) -> tuple[str, list[str]]:
    """Start a 200-token reply, hold the loop after its first token, queue ``requests`` (the second one's
    caller leaves after its first piece when its budget is 40), let them all join at the next step.
    Gives the first reply's text and theirs."""
    blocker = generator.stream(QUESTION, SamplingParams(max_new_tokens=200))
    first = next(blocker)
    gate.open.clear()
    assert gate.held.wait(timeout=30)  # the loop is inside a step: nothing joins before the gate opens
    texts: list[str] = [""] * len(requests)

    def ask(i: int) -> None:
        messages, params = requests[i]
        stream = generator.stream(messages, params)
        for piece in stream:
            texts[i] += piece
            if i == 1 and params.max_new_tokens == 40:
                stream.close()  # a client gone mid-reply
                return

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(generator._pending) < len(requests) and time.monotonic() < deadline:
        time.sleep(0.01)
    gate.open.set()
    for thread in threads:
        thread.join(timeout=60)
    return first + "".join(blocker), texts


def test_a_greedy_reply_matches_generate_token_for_token(generator: TransformersGenerator) -> None:
    model: Any = generator._model
    prompt = generator._tokenizer.apply_chat_template(  # type: ignore[union-attr]
        [{"role": "user", "content": QUESTION[0].content}], add_generation_prompt=True, return_tensors="pt"
    )["input_ids"]
    expected = model.generate(prompt, do_sample=False, max_new_tokens=30, min_new_tokens=30)
    expected = expected[0, prompt.shape[1] :]
    reply = generator.generate(QUESTION, SamplingParams(max_new_tokens=30))
    assert reply.text == generator._tokenizer.decode(expected, skip_special_tokens=True)  # type: ignore[union-attr]
    assert (reply.completion_tokens, reply.finish_reason) == (30, "length")


def test_chats_arriving_mid_reply_join_it_and_each_get_their_own_reply(
    generator: TransformersGenerator,
) -> None:
    questions = [
        [ChatMessage("user", "Where is my order? " * 20)],  # longer than the running row: its cache is padded
        [ChatMessage("user", "Can I get a refund?")],
        [ChatMessage("user", "Hi")],  # shorter: padded to the batch
    ]
    budgets = [6, 12, 3]  # each row ends at its own budget
    requests = [(q, SamplingParams(max_new_tokens=n)) for q, n in zip(questions, budgets, strict=True)]
    alone = [generator.generate(q, params).text for q, params in requests]
    first_alone = generator.generate(QUESTION, SamplingParams(max_new_tokens=200)).text
    with _Gate(generator) as gate:
        first, texts = _join_mid_reply(generator, requests, gate)
    assert texts == alone  # greedy: the same replies as alone, despite the padding
    assert first == first_alone  # the running reply too, through joins and leaves
    assert [rows for rows, tokens in gate.shapes if tokens > 1] == [1, 3]  # the three read in one pass...
    decode = gate.decode_rows()
    joined = decode.index(4)  # ...joined the running reply at one step, their first tokens drawn already...
    assert decode[joined : joined + 11] == [4] * 2 + [3] * 3 + [2] * 6  # ...and left at their budgets
    assert set(decode[joined + 11 :]) == {1} and len(decode) == 199  # the first went on to its 200th


def test_a_caller_leaving_ends_only_its_own_row(generator: TransformersGenerator) -> None:
    full = generator.generate(QUESTION, SamplingParams(max_new_tokens=40)).text
    with _Gate(generator) as gate:
        _, texts = _join_mid_reply(generator, [(QUESTION, SamplingParams(max_new_tokens=40))] * 3, gate)
    assert texts[0] == texts[2] == full and len(texts[1]) < len(full)


def test_a_stream_closed_on_the_decoding_thread_leaves_the_model_serving(
    generator: TransformersGenerator,
) -> None:
    """A client that goes mid-reply leaves its stream to the garbage collector, which closes it on whatever
    thread it runs in: here the decoding one, inside a model step (closing once waited there forever)."""
    gone = generator.stream(QUESTION, SamplingParams(max_new_tokens=200))
    next(gone)
    replies: list[Completion] = []
    with _Gate(generator) as gate:
        gate.run_inside.append(gone.close)
        chat = threading.Thread(
            target=lambda: replies.append(generator.generate(QUESTION, SamplingParams(max_new_tokens=5))),
            daemon=True,
        )
        chat.start()
        chat.join(timeout=60)
    assert [r.completion_tokens for r in replies] == [5]
    assert gate.decode_rows()[-1] == 1  # the closed reply's row left the batch


def test_greedy_and_sampled_chats_share_a_batch(generator: TransformersGenerator) -> None:
    greedy, hot = SamplingParams(max_new_tokens=8), SamplingParams(max_new_tokens=8, temperature=1.0)
    alone = generator.generate(QUESTION, greedy).text
    with _Gate(generator) as gate:
        _, texts = _join_mid_reply(generator, [(QUESTION, greedy), (QUESTION, hot), (QUESTION, greedy)], gate)
    assert 4 in gate.decode_rows()
    assert texts[0] == texts[2] == alone


def test_a_failed_step_fails_the_batchs_callers_and_the_next_chat_is_answered(
    generator: TransformersGenerator,
) -> None:
    stream = generator.stream(QUESTION, SamplingParams(max_new_tokens=20))
    with _Gate(generator) as gate:
        gate.fail_next = True
        with pytest.raises(GenerationError, match="out of memory"):
            list(stream)
    assert generator.generate(QUESTION, SamplingParams(max_new_tokens=5)).completion_tokens == 5


def test_a_sliding_window_model_takes_newcomers_once_its_batch_has_ended(
    tiny_lm_dir: Path, tmp_path: Path
) -> None:
    """A sliding-window cache keeps only its last window of keys, so its batch is never joined mid-reply."""
    from transformers import AutoTokenizer, LlamaForCausalLM, MistralConfig, MistralForCausalLM

    llama = LlamaForCausalLM.from_pretrained(tiny_lm_dir)
    config = MistralConfig(**{**llama.config.to_dict(), "sliding_window": 16, "model_type": "mistral"})
    MistralForCausalLM(config).save_pretrained(tmp_path / "mistral")
    AutoTokenizer.from_pretrained(tiny_lm_dir).save_pretrained(tmp_path / "mistral")
    generator = TransformersGenerator(TransformersGeneratorConfig(model=str(tmp_path / "mistral")), tmp_path)
    generator.warm_up()
    assert generator._batch is not None and not generator._batch.joinable
    generator._batch.eos_ids = set()
    alone = generator.generate(QUESTION, SamplingParams(max_new_tokens=30)).text
    with _Gate(generator) as gate:
        first, texts = _join_mid_reply(generator, [(QUESTION, SamplingParams(max_new_tokens=30))] * 2, gate)
    assert max(gate.decode_rows()) == 2  # the two newcomers ran together, after the running reply
    assert texts == [alone, alone]
    assert first == generator.generate(QUESTION, SamplingParams(max_new_tokens=200)).text


def test_the_decoding_thread_is_waited_for_when_the_process_exits(generator: TransformersGenerator) -> None:
    """A daemon decoding thread still inside torch as `naa ask` exited, its reply read, aborted the process
    (exit 134) in about one run in six; Python waits for a thread that is not a daemon."""
    stream = generator.stream(QUESTION, SamplingParams(max_new_tokens=50))
    next(stream)
    decoding = [thread for thread in threading.enumerate() if thread.name == "naa-generate"]
    stream.close()
    assert decoding and not any(thread.daemon for thread in decoding)
