"""What only the in-process transformers backend does: sampling, cancelling, limits, model folders."""

import threading
import time
from pathlib import Path
from typing import Any, cast

import pytest
import torch

from naa.errors import InputError, ModelUnavailableError
from naa.generation import ChatMessage, Generator, SamplingParams, build_generator
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
    with pytest.raises(ModelUnavailableError, match=r"no-such-model.*generation\.model"):
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


def _batched(
    generator: TransformersGenerator,
    requests: list[tuple[list[ChatMessage], SamplingParams]],
    stop_after: int,
) -> tuple[list[str], list[int]]:
    """Run ``requests`` while the model is busy with another reply, so they queue and run batched; the
    second request's caller stops reading after ``stop_after`` pieces. Gives the texts and batch sizes."""
    blocker = generator.stream(QUESTION, SamplingParams(max_new_tokens=500))
    next(blocker)  # the model is generating: new requests wait
    texts: list[str] = [""] * len(requests)

    def ask(i: int) -> None:
        messages, params = requests[i]
        stream = generator.stream(messages, params)
        for count, piece in enumerate(stream, start=1):
            texts[i] += piece
            if i == 1 and count == stop_after:
                stream.close()  # a client gone mid-reply
                return

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(generator._pending) < len(requests) and time.monotonic() < deadline:
        time.sleep(0.01)
    sizes: list[int] = []
    real = generator._model.generate  # type: ignore[union-attr]

    def recording(**kwargs: Any) -> Any:
        sizes.append(kwargs["input_ids"].shape[0])
        return real(**kwargs)

    generator._model.generate = recording  # type: ignore[union-attr, method-assign]
    try:
        blocker.close()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        del generator._model.generate  # type: ignore[union-attr]
    return texts, sizes


def test_chats_arriving_while_the_model_is_busy_run_as_one_batch_with_their_own_replies(
    tiny_generator: Generator,
) -> None:
    generator = cast(TransformersGenerator, tiny_generator)
    questions = [[ChatMessage("user", q)] for q in ("Where is my order?", "Can I get a refund?", "Hi")]
    budgets = [6, 12, 3]  # each row stops at its own budget
    alone = [
        generator.generate(q, SamplingParams(max_new_tokens=n))
        for q, n in zip(questions, budgets, strict=True)
    ]
    requests = [(q, SamplingParams(max_new_tokens=n)) for q, n in zip(questions, budgets, strict=True)]
    texts, sizes = _batched(generator, requests, stop_after=10**6)
    assert sizes == [3]  # one generate call for the three
    assert texts == [c.text for c in alone]  # greedy: the same reply as alone, despite the left padding


def test_a_caller_leaving_a_batch_ends_only_its_own_row(tiny_generator: Generator) -> None:
    generator = cast(TransformersGenerator, tiny_generator)
    requests = [(QUESTION, SamplingParams(max_new_tokens=40)) for _ in range(3)]
    full = generator.generate(QUESTION, SamplingParams(max_new_tokens=40)).text
    texts, sizes = _batched(generator, requests, stop_after=1)
    assert sizes == [3]
    assert texts[0] == texts[2] == full and len(texts[1]) < len(full)


def test_chats_sampled_differently_are_not_batched_together(tiny_generator: Generator) -> None:
    generator = cast(TransformersGenerator, tiny_generator)
    greedy, hot = SamplingParams(max_new_tokens=4), SamplingParams(max_new_tokens=4, temperature=1.0)
    _, sizes = _batched(
        generator, [(QUESTION, greedy), (QUESTION, hot), (QUESTION, greedy)], stop_after=10**6
    )
    assert sorted(sizes) == [1, 2]


def test_chats_that_would_overflow_the_context_together_run_apart(tiny_generator: Generator) -> None:
    generator = cast(TransformersGenerator, tiny_generator)
    long_question = [ChatMessage("user", "refund " * 400)]
    encoded = generator._tokenizer.apply_chat_template(  # type: ignore[union-attr]
        [{"role": "user", "content": long_question[0].content}], add_generation_prompt=True, return_dict=True
    )
    # Padded to the long prompt and run to the short one's budget, the batch would pass the 2048 positions.
    short_budget = 2048 - len(encoded["input_ids"]) + 10
    requests = [
        (long_question, SamplingParams(max_new_tokens=4)),
        (QUESTION, SamplingParams(max_new_tokens=short_budget)),
    ]
    _, sizes = _batched(generator, requests, stop_after=10**6)
    assert sizes == [1, 1]
