"""One stage on its own: /v1/intents/classify and /v1/search; and agent assist, /v1/suggest."""

import pytest
from api_support import Keys
from fastapi import FastAPI
from fastapi.testclient import TestClient


def test_classify_returns_one_calibrated_prediction_per_text_in_order(client: TestClient, keys: Keys) -> None:
    texts = ["I lost my card", "how long does an international transfer take"]
    response = client.post("/v1/intents/classify", json={"texts": texts}, headers=keys.headers("globex"))
    assert response.status_code == 200
    predictions = response.json()["predictions"]
    assert [p["label"] for p in predictions] == ["card_lost", "transfer"]
    assert all(0 <= p["confidence"] <= 1 and p["top"][0]["label"] == p["label"] for p in predictions)


def test_each_partner_classifies_with_its_own_intents(client: TestClient, keys: Keys) -> None:
    acme = client.post(
        "/v1/intents/classify", json={"texts": ["I lost my card"]}, headers=keys.headers("acme")
    )
    assert acme.json()["predictions"][0]["label"] in (
        "greeting",
        "complaint",
        "roaming",
        "bill",
        "out_of_scope",
    )


def test_search_returns_the_partners_passages_best_first(client: TestClient, keys: Keys) -> None:
    query = {"query": "what does international wire transfer cost", "top_k": 1}
    response = client.post("/v1/search", json=query, headers=keys.headers("globex"))
    passages = response.json()["passages"]
    assert len(passages) == 1
    assert passages[0]["doc_id"] == "transfers.md"
    assert "15 dollars" in passages[0]["text"]
    too_many = client.post("/v1/search", json={"query": "x", "top_k": 500}, headers=keys.headers("globex"))
    assert too_many.status_code == 422


@pytest.mark.parametrize(
    ("route", "body", "message"),
    [
        ("/v1/intents/classify", {"texts": ["hello", ""]}, "the texts[1] message is empty"),
        ("/v1/intents/classify", {"texts": ["   "]}, "the texts[0] message is empty"),
        ("/v1/intents/classify", {"texts": ["hello", "a" * 501]}, "the texts[1] message has 501 characters"),
        ("/v1/search", {"query": " \n "}, "the query message is empty"),
        ("/v1/search", {"query": "refund " * 100}, "the query message has 699 characters"),
    ],
)
def test_classify_and_search_refuse_a_text_chat_would_refuse_naming_it(
    app: FastAPI, client: TestClient, keys: Keys, route: str, body: dict[str, object], message: str
) -> None:
    """A blank text was classified (as greeting, 0.79) and a megabyte one took seconds of CPU."""
    assert app.state.naa.settings.max_message_chars == 500
    response = client.post(route, json=body, headers=keys.headers("acme"))
    assert (response.status_code, response.json()["code"]) == (422, "invalid_input")
    assert response.json()["message"].startswith(message), response.json()


def test_suggest_gives_distinct_replies_and_the_intent_for_a_customer_agent_conversation(
    client: TestClient, keys: Keys
) -> None:
    messages = [
        {"role": "customer", "content": "hello"},
        {"role": "agent", "content": "Hi! How can I help?"},
        {"role": "customer", "content": "how much is roaming outside the EU"},
    ]
    response = client.post("/v1/suggest", json={"messages": messages, "n": 3}, headers=keys.headers("acme"))
    assert response.status_code == 200
    body = response.json()
    assert body["intent"]["label"] == "roaming"
    replies = [s["reply"] for s in body["suggestions"]]
    assert 1 <= len(replies) <= 3
    assert len(set(replies)) == len(replies)
    assert body["suggestions"][0]["citations"][0]["doc_id"] == "roaming.md"


def test_suggest_needs_the_customer_to_have_the_last_word(client: TestClient, keys: Keys) -> None:
    messages = [{"role": "customer", "content": "hello"}, {"role": "agent", "content": "Hi!"}]
    response = client.post("/v1/suggest", json={"messages": messages}, headers=keys.headers("acme"))
    assert (response.status_code, response.json()["code"]) == (422, "invalid_input")


def test_suggest_checks_every_turn_sent_as_a_stored_turn_is_checked(client: TestClient, keys: Keys) -> None:
    # Only the last turn was checked: one 15 MB agent turn held a CPU core for 12 s of tokenizing.
    question = {"role": "customer", "content": "what does roaming cost"}
    for turn, problem in [
        (
            {"role": "agent", "content": "a" * 600},
            "the messages[0] message has 600 characters; the limit is 500",
        ),
        ({"role": "customer", "content": " \n "}, "the messages[0] message is empty"),
    ]:
        response = client.post(
            "/v1/suggest", json={"messages": [turn, question]}, headers=keys.headers("acme")
        )
        assert (response.status_code, response.json()) == (422, {"code": "invalid_input", "message": problem})


def _stored_conversation(client: TestClient, keys: Keys, turns: list[tuple[str, str]]) -> str:
    conversation = client.post("/v1/conversations", json={"channel": "console"}, headers=keys.headers("acme"))
    conversation_id: str = conversation.json()["id"]
    for role, content in turns:
        added = client.post(
            f"/v1/conversations/{conversation_id}/messages",
            json={"role": role, "content": content},
            headers=keys.headers("acme"),
        )
        assert added.status_code == 201, added.text
    return conversation_id


def test_suggest_reads_a_stored_conversation_by_its_id(client: TestClient, keys: Keys) -> None:
    conversation_id = _stored_conversation(
        client,
        keys,
        [("customer", "hello"), ("agent", "Hi! How can I help?"), ("customer", "what does roaming cost")],
    )
    response = client.post(
        "/v1/suggest", json={"conversation_id": conversation_id, "n": 2}, headers=keys.headers("acme")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["intent"]["label"] == "roaming"
    assert 1 <= len(body["suggestions"]) <= 2
    assert body["suggestions"][0]["citations"][0]["doc_id"] == "roaming.md"


def test_suggest_takes_either_messages_or_a_conversation_id(client: TestClient, keys: Keys) -> None:
    answered = _stored_conversation(client, keys, [("customer", "hello"), ("agent", "Hi!")])
    last_word = client.post("/v1/suggest", json={"conversation_id": answered}, headers=keys.headers("acme"))
    assert (last_word.status_code, last_word.json()["code"]) == (422, "invalid_input")
    messages = [{"role": "customer", "content": "hello"}]
    for body in ({"messages": messages, "conversation_id": answered}, {"n": 1}):
        response = client.post("/v1/suggest", json=body, headers=keys.headers("acme"))
        assert (response.status_code, response.json()["code"]) == (422, "invalid_request"), body
        assert "either messages or conversation_id" in response.json()["message"]
    unknown = client.post("/v1/suggest", json={"conversation_id": "nope"}, headers=keys.headers("acme"))
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
