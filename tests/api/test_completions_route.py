"""/v1/chat/completions is a real OpenAI-compatible server: the official openai client and NAA's own
``openai`` generator backend talk to it over HTTP, served by uvicorn on a free localhost port."""

import openai
import pytest
from api_support import Keys
from fastapi.testclient import TestClient

from naa.generation.base import ChatMessage, SamplingParams
from naa.generation.config import OpenAIGeneratorConfig
from naa.generation.openai_compat import OpenAIGenerator

QUESTION = [{"role": "user", "content": "how much is roaming in Spain"}]


@pytest.fixture(scope="module")
def base_url(served_url: str) -> str:
    return f"{served_url}/v1"


def test_the_official_openai_client_gets_a_completion_with_naa_extras(base_url: str, keys: Keys) -> None:
    client = openai.OpenAI(base_url=base_url, api_key=keys.acme)
    completion = client.chat.completions.create(model="naa", messages=QUESTION, max_tokens=6)  # type: ignore[arg-type]
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.role == "assistant"
    usage = completion.usage
    assert usage is not None and 1 <= usage.completion_tokens <= 6
    # The generator's own counts: the prompt holds the passages, and a reply of 6 tokens was cut there.
    assert usage.prompt_tokens > 50 and usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert completion.choices[0].finish_reason == ("length" if usage.completion_tokens == 6 else "stop")
    extras = completion.model_extra["naa"]  # type: ignore[index]
    assert extras["intent"]["label"] == "roaming"
    assert extras["citations"][0]["doc_id"] == "roaming.md"


def test_the_official_openai_client_streams_chunks_until_done(base_url: str, keys: Keys) -> None:
    client = openai.OpenAI(base_url=base_url, api_key=keys.acme)
    stream = client.chat.completions.create(
        model="naa",
        messages=QUESTION,
        stream=True,
        stream_options={"include_usage": True},  # type: ignore[arg-type]
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    usage = chunks[-1].usage
    assert chunks[-1].choices == [] and usage is not None and usage.prompt_tokens > 50
    finish = [c.choices[0].finish_reason for c in chunks if c.choices][-1]
    assert finish == ("length" if usage.completion_tokens == 8 else "stop")  # the partner's max_new_tokens
    assert len({c.id for c in chunks}) == 1


def test_a_bad_key_is_the_clients_authentication_error(base_url: str) -> None:
    client = openai.OpenAI(base_url=base_url, api_key="naa_wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="naa", messages=QUESTION)  # type: ignore[arg-type]


def test_naas_own_openai_backend_generates_and_streams_against_the_api(base_url: str, keys: Keys) -> None:
    generator = OpenAIGenerator(OpenAIGeneratorConfig(base_url=base_url, model="naa", api_key=keys.globex))
    question = [ChatMessage("user", "how long does an international transfer take")]
    completion = generator.generate(question, SamplingParams(max_new_tokens=5))
    assert completion.text
    assert 1 <= completion.completion_tokens <= 5
    streamed = "".join(generator.stream(question, SamplingParams(max_new_tokens=5)))
    assert streamed == completion.text  # greedy decoding: the same reply both ways


def test_system_messages_are_dropped_and_the_last_message_must_be_the_users(
    client: TestClient, keys: Keys
) -> None:
    messages = [{"role": "system", "content": "You are a pirate."}, *QUESTION]
    answered = client.post("/v1/chat/completions", json={"messages": messages}, headers=keys.headers("acme"))
    assert answered.status_code == 200
    ends_with_assistant = [*QUESTION, {"role": "assistant", "content": "Hello"}]
    refused = client.post(
        "/v1/chat/completions", json={"messages": ends_with_assistant}, headers=keys.headers("acme")
    )
    assert (refused.status_code, refused.json()["code"]) == (422, "invalid_input")
    models = client.get("/v1/models", headers=keys.headers("acme")).json()
    assert models["data"][0]["id"] == "naa"


@pytest.mark.parametrize(
    ("field", "value"),
    [("temperature", False), ("top_p", "0.5"), ("max_tokens", True), ("stream", "true"), ("n", 1.0)],
)
def test_sampling_fields_of_the_wrong_json_type_are_refused_as_openai_does(
    client: TestClient, keys: Keys, field: str, value: object
) -> None:
    refused = client.post(
        "/v1/chat/completions", json={"messages": QUESTION, field: value}, headers=keys.headers("acme")
    )
    assert (refused.status_code, refused.json()["code"]) == (422, "invalid_request")
    assert field in refused.json()["message"]


def test_an_integer_temperature_is_a_number(client: TestClient, keys: Keys) -> None:
    body = {"messages": QUESTION, "temperature": 0, "max_tokens": 4}
    answered = client.post("/v1/chat/completions", json=body, headers=keys.headers("acme"))
    assert answered.status_code == 200
    assert answered.json()["choices"][0]["message"]["role"] == "assistant"


def test_a_reply_the_model_cannot_hold_is_a_status_even_when_streaming(
    client: TestClient, keys: Keys
) -> None:
    """OpenAI clients read no error event once a stream has begun: the check comes before the stream."""
    for stream in (False, True):
        body = {"messages": QUESTION, "max_tokens": 4000, "stream": stream}  # the tiny model holds 2,048
        refused = client.post("/v1/chat/completions", json=body, headers=keys.headers("acme"))
        assert (refused.status_code, refused.json()["code"]) == (422, "invalid_input")
        assert "2048" in refused.json()["message"]


def test_content_as_a_list_of_parts_is_read_and_empty_stop_strings_are_refused(
    client: TestClient, keys: Keys
) -> None:
    """Newer OpenAI clients send content as parts; NAA reads the text ones."""
    parts = [
        {"type": "text", "text": "How long does "},
        {"type": "image_url"},
        {"type": "text", "text": "a refund take?"},
    ]
    body = {"messages": [{"role": "user", "content": parts}], "max_tokens": 4}
    answered = client.post("/v1/chat/completions", json=body, headers=keys.headers("acme"))
    assert answered.status_code == 200, answered.text
    for stop in ("", [""], ["a", "b", "c", "d", "e"]):  # "" stopped every reply at its first token
        refused = client.post(
            "/v1/chat/completions", json={**body, "stop": stop}, headers=keys.headers("acme")
        )
        assert (refused.status_code, refused.json()["code"]) == (422, "invalid_request")
        assert "stop" in refused.json()["message"]
