"""/v1/chat/completions is a real OpenAI-compatible server: the official openai client and NAA's own
``openai`` generator backend talk to it over HTTP, served by uvicorn on a free localhost port."""

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from api_support import Keys, parse_sse
from fastapi import FastAPI
from fastapi.testclient import TestClient

from naa.generation.base import ChatMessage, SamplingParams
from naa.generation.config import OpenAIGeneratorConfig
from naa.generation.openai_compat import OpenAIGenerator

QUESTION = [{"role": "user", "content": "how much is roaming in Spain"}]


@pytest.fixture(scope="module")
def base_url(served_url: str) -> str:
    return f"{served_url}/v1"


def _refused(response: httpx.Response, code: str, status: int = 400) -> str:
    """The error's message, checked to be in OpenAI's shape (which its SDKs read) and NAA's."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["type"] == "invalid_request_error"
    assert (body["code"], body["message"]) == (body["error"]["code"], body["error"]["message"])
    assert body["code"] == code
    message: str = body["message"]
    return message


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
    # A streamed reply's intent, citations and handoff flag come on its finish_reason chunk (they were not
    # streamed at all), and only there.
    extras = [c.model_extra["naa"] for c in chunks if (c.model_extra or {}).get("naa")]  # type: ignore[index]
    assert len(extras) == 1 and chunks[-2].choices[0].finish_reason is not None
    assert extras[0]["intent"]["label"] == "roaming" and not extras[0]["handoff"]
    assert extras[0]["citations"][0]["doc_id"] == "roaming.md"


def test_a_bad_key_is_the_clients_authentication_error(base_url: str) -> None:
    client = openai.OpenAI(base_url=base_url, api_key="naa_wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as refused:
        client.chat.completions.create(model="naa", messages=QUESTION)  # type: ignore[arg-type]
    assert refused.value.code == "unauthorized" and "unknown or revoked" in str(refused.value.body)


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"n": 2}, "n"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
        ({"response_format": {"type": "json_schema", "json_schema": {"name": "r"}}}, "response_format"),
        ({"tool_choice": "required"}, "tool_choice"),
        ({"logprobs": True}, "logprobs"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"messages": []}, "messages"),
        ({"stop": "x" * 201}, "stop"),
    ],
)
def test_what_naa_cannot_give_is_the_clients_bad_request_error_naming_the_field(
    base_url: str, keys: Keys, fields: dict[str, Any], param: str
) -> None:
    """OpenAI refuses a bad request with a 400 and `{"error": {...}}`: NAA's 422 `{code, message}` was the
    Python SDK's UnprocessableEntityError, and the npm package's "422 status code (no body)". JSON output,
    a forced tool call and log probabilities were ignored: the client got prose where it expected them."""
    client = openai.OpenAI(base_url=base_url, api_key=keys.acme, max_retries=0)
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(**{"model": "naa", "messages": QUESTION, **fields})
    assert (refused.value.param, refused.value.code) == (param, "invalid_request")
    assert param in refused.value.message


def test_an_unknown_model_is_the_clients_not_found_error_and_naa_can_be_retrieved(
    base_url: str, keys: Keys
) -> None:
    """Any model name was answered, and echoed back as the reply's model; /v1/models/{id} was no route."""
    client = openai.OpenAI(base_url=base_url, api_key=keys.acme, max_retries=0)
    with pytest.raises(openai.NotFoundError, match="'naa'"):
        client.chat.completions.create(model="gpt-4o", messages=QUESTION)  # type: ignore[arg-type]
    naa = client.models.retrieve("naa")
    assert (naa.id, naa.object, naa.owned_by) == ("naa", "model", "acme")
    for other in ("gpt-4o", "meta-llama/Llama-3.1-8B-Instruct"):
        with pytest.raises(openai.NotFoundError) as refused:
            client.models.retrieve(other)
        assert refused.value.message.endswith(
            f"model {other!r} does not exist: this server has one model, 'naa' (GET /v1/models)"
        )


def test_an_error_mid_stream_is_raised_by_the_client_and_logged(
    base_url: str, keys: Keys, decode_fails_mid_reply: None, caplog: pytest.LogCaptureFixture
) -> None:
    """The named `error` event of /v1/chat reached the openai client as a chunk whose choices were None;
    the server's log said nothing of the failure (here and on /v1/chat, below)."""
    client = openai.OpenAI(base_url=base_url, api_key=keys.acme, max_retries=0)
    stream = client.chat.completions.create(model="naa", messages=QUESTION, stream=True, max_tokens=30)  # type: ignore[arg-type]
    contents: list[str] = []
    with pytest.raises(openai.APIError, match="out of memory") as failed:
        for chunk in stream:
            contents.append(chunk.choices[0].delta.content or "")
    assert failed.value.code == "generation_error"
    assert "".join(contents)  # the reply had begun: the status was 200 already
    logged = [r for r in caplog.records if r.name == "api.errors" and r.levelname == "ERROR"]
    assert [r.getMessage() for r in logged] == [f"a streamed completion failed: {failed.value.message}"]
    assert logged[0].exc_info is not None


def test_an_error_mid_stream_of_the_chat_route_is_logged(
    base_url: str, keys: Keys, decode_fails_mid_reply: None, caplog: pytest.LogCaptureFixture
) -> None:
    body = {"message": QUESTION[0]["content"], "stream": True}
    with httpx.stream("POST", f"{base_url}/chat", json=body, headers=keys.headers("acme")) as response:
        name, data = parse_sse(response.iter_lines())[-1]
    assert name == "error" and "out of memory" in data
    assert [r.getMessage() for r in caplog.records if r.name == "api.errors"] == [
        f"a streamed reply failed: {json.loads(data)['message']}"
    ]


@pytest.fixture
def decode_fails_mid_reply(app: FastAPI, client: TestClient, keys: Keys) -> Iterator[None]:
    """acme's generator model fails at its third decode step, as a GPU out of memory would; its end token
    is ignored meanwhile, so that every reply reaches that step."""
    client.post("/v1/chat/completions", json={"messages": QUESTION}, headers=keys.headers("acme"))
    assistant = app.state.naa.assistants.built("acme")
    generator: Any = assistant.generator
    model, batch = generator._model, generator._batch
    forward, eos_ids, calls = model.forward, batch.eos_ids, []

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["input_ids"].shape)
        if len(calls) == 4:  # the prompt, then the third decode step
            raise RuntimeError("out of memory")
        return forward(*args, **kwargs)

    model.forward, batch.eos_ids = failing, set()
    try:
        yield
    finally:
        del model.forward
        batch.eos_ids = eos_ids


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
    assert "must end with a customer (user) message" in _refused(refused, "invalid_input")
    models = client.get("/v1/models", headers=keys.headers("acme")).json()
    assert models["data"][0]["id"] == "naa"


def test_an_earlier_turn_no_prompt_can_hold_is_refused_before_it_is_tokenized(
    client: TestClient, keys: Keys
) -> None:
    # The prompt dropped such a turn only after tokenizing it: one 15 MB turn held a CPU core for 20 s.
    long_reply = {"role": "assistant", "content": "word " * 14_000}
    refused = client.post(
        "/v1/chat/completions", json={"messages": [long_reply, *QUESTION]}, headers=keys.headers("acme")
    )
    assert "messages[0] has 70000 characters; an earlier turn may have at most 65536" in _refused(
        refused, "invalid_request"
    )
    assert refused.json()["error"]["param"] == "messages"
    # A client's system message is dropped unread, so its length is the client's business.
    system = {"role": "system", "content": "word " * 14_000}
    answered = client.post(
        "/v1/chat/completions",
        json={"messages": [system, *QUESTION], "max_tokens": 2},
        headers=keys.headers("acme"),
    )
    assert answered.status_code == 200, answered.text


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
    assert field in _refused(refused, "invalid_request")
    assert refused.json()["error"]["param"] == field


def test_every_openai_field_may_be_null_as_in_openais_api(client: TestClient, keys: Keys) -> None:
    """`n` and `stream` refused null, which OpenAI's API takes for "the default"."""
    fields = ("n", "stream", "stream_options", "max_tokens", "temperature", "top_p", "stop")
    nulls = dict.fromkeys((*fields, "response_format", "tool_choice", "logprobs"))
    answered = client.post(
        "/v1/chat/completions", json={"messages": QUESTION, **nulls}, headers=keys.headers("acme")
    )
    assert answered.status_code == 200, answered.text


def test_a_string_that_is_not_text_is_a_bad_request_naming_the_field(client: TestClient, keys: Keys) -> None:
    # JSON may spell a lone surrogate, which the tokenizer cannot encode (a 500 once).
    headers = {**keys.headers("acme"), "content-type": "application/json"}
    body = rb'{"messages": [{"role": "user", "content": "a\ud800"}]}'
    refused = client.post("/v1/chat/completions", content=body, headers=headers)
    assert _refused(refused, "invalid_request").startswith(
        "body: messages.0.content contains a lone surrogate"
    )


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
        assert "2048" in _refused(refused, "invalid_input")


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
        assert "stop" in _refused(refused, "invalid_request")


def test_a_stop_string_of_any_length_is_honoured(client: TestClient, keys: Keys) -> None:
    """The four-item limit of `stop` applied to a single string too: any stop word of 5 characters or more
    was refused."""

    def reply(**fields: object) -> str:
        body = {"messages": QUESTION, "max_tokens": 24, **fields}
        answered = client.post("/v1/chat/completions", json=body, headers=keys.headers("acme"))
        assert answered.status_code == 200, answered.text
        text: str = answered.json()["choices"][0]["message"]["content"]
        return text

    whole = reply()
    stop = whole[len(whole) // 2 :][:6]
    assert len(stop) == 6, whole
    for sent in (stop, [stop]):
        cut = reply(stop=sent)
        assert stop not in cut and whole.startswith(cut) and len(cut) < len(whole)


def test_the_openai_routes_document_their_400_and_not_fastapis_422(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path, method in [
        ("/v1/chat/completions", "post"),
        ("/v1/models", "get"),
        ("/v1/models/{model}", "get"),
    ]:
        responses = paths[path][method]["responses"]
        assert "422" not in responses, path
        assert responses["4XX"]["content"]["application/json"]["schema"]["$ref"].endswith("/OpenAIErrorBody")
    assert "400" in paths["/v1/chat/completions"]["post"]["responses"]
