"""POST /v1/chat: turns, stored history, streaming, fallbacks and feedback."""

import json
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from api_support import Keys, SSEvent
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event


def _chat(client: TestClient, keys: Keys, message: str, **extra: object) -> dict:
    response = client.post("/v1/chat", json={"message": message, **extra}, headers=keys.headers("acme"))
    assert response.status_code == 200, response.text
    return response.json()


def test_chat_answers_with_intent_citations_and_timings_and_stores_both_turns(
    client: TestClient, keys: Keys
) -> None:
    body = _chat(client, keys, "how much is roaming in Spain")
    assert body["intent"]["label"] == "roaming"
    assert body["action"] == "answer"
    assert not body["handoff"]
    assert body["citations"][0]["doc_id"] == "roaming.md"
    assert body["citations"][0]["url"] == "https://help.acme.example/roaming"
    assert set(body["timings_ms"]) == {"intent", "retrieval", "generation", "total"}
    assert body["finish_reason"] == "length"  # the tiny random model runs to the partner's 8 tokens
    stored = client.get(f"/v1/conversations/{body['conversation_id']}", headers=keys.headers("acme")).json()
    assert [m["role"] for m in stored["messages"]] == ["customer", "assistant"]
    assert stored["messages"][0]["content"] == "how much is roaming in Spain"
    assert stored["messages"][1]["id"] == body["message_id"]
    assert stored["messages"][1]["citations"][0]["doc_id"] == "roaming.md"
    assert stored["messages"][1]["latency_ms"] == body["timings_ms"]
    # What each turn did is kept, so a partner can count what its help center could not answer.
    assert [m["action"] for m in stored["messages"]] == [None, "answer"]


def test_a_second_turn_continues_the_stored_conversation(client: TestClient, keys: Keys) -> None:
    first = _chat(client, keys, "hello")
    second = _chat(client, keys, "when is my bill due", conversation_id=first["conversation_id"])
    assert second["conversation_id"] == first["conversation_id"]
    stored = client.get(f"/v1/conversations/{first['conversation_id']}", headers=keys.headers("acme")).json()
    assert [m["content"] for m in stored["messages"]][::2] == ["hello", "when is my bill due"]


def test_complaints_are_handed_off_and_greetings_get_the_fixed_reply(client: TestClient, keys: Keys) -> None:
    complaint = _chat(client, keys, "your service is terrible, I want to file a complaint")
    assert (complaint["action"], complaint["handoff"], complaint["citations"]) == ("handoff", True, [])
    greeting = _chat(client, keys, "hi there")
    assert (greeting["action"], greeting["reply"]) == ("smalltalk", "Hello from Acme Mobile!")
    assert complaint["finish_reason"] == greeting["finish_reason"] == "stop"


def test_streamed_turn_sends_intent_passages_tokens_then_done_and_is_stored(
    client: TestClient, keys: Keys, read_sse: Callable[[Iterable[str]], list[SSEvent]]
) -> None:
    request = {"message": "does my plan work abroad", "stream": True}
    with client.stream("POST", "/v1/chat", json=request, headers=keys.headers("acme")) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = read_sse(response.iter_lines())
    names = [name for name, _ in events]
    assert names[:2] == ["intent", "passages"]
    assert names[-1] == "done"
    assert set(names[2:-1]) == {"token"}
    assert json.loads(events[0][1])["label"] == "roaming"
    assert json.loads(events[1][1])["passages"][0]["doc_id"] == "roaming.md"
    done = json.loads(events[-1][1])
    assert (
        done["reply"] == "".join(json.loads(data)["text"] for name, data in events if name == "token").strip()
    )
    stored = client.get(f"/v1/conversations/{done['conversation_id']}", headers=keys.headers("acme")).json()
    assert stored["messages"][-1]["id"] == done["message_id"]


def test_turn_errors_are_statuses_even_when_streaming(client: TestClient, keys: Keys) -> None:
    for stream in (False, True):
        unknown = {"message": "hi", "conversation_id": "no-such-conversation", "stream": stream}
        response = client.post("/v1/chat", json=unknown, headers=keys.headers("acme"))
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        too_long = client.post(
            "/v1/chat", json={"message": "a" * 600, "stream": stream}, headers=keys.headers("acme")
        )
        assert too_long.status_code == 422
        assert too_long.json()["code"] == "invalid_input"
        assert "600 characters" in too_long.json()["message"]


def test_feedback_is_stored_against_an_assistant_message(client: TestClient, keys: Keys) -> None:
    turn = _chat(client, keys, "explain my invoice")
    feedback = {
        "message_id": turn["message_id"],
        "rating": "down",
        "corrected_reply": "Bills are due on the 5th [1].",
    }
    created = client.post("/v1/feedback", json=feedback, headers=keys.headers("acme"))
    assert created.status_code == 201
    listed = client.get("/v1/feedback", params={"rating": "down"}, headers=keys.headers("acme")).json()
    assert created.json()["id"] in [f["id"] for f in listed["feedback"]]
    unknown = client.post(
        "/v1/feedback", json={**feedback, "message_id": "nope"}, headers=keys.headers("acme")
    )
    assert unknown.status_code == 404


def test_conversations_are_listed_newest_first_and_exported_as_a_json_file(
    client: TestClient, keys: Keys
) -> None:
    turn = _chat(client, keys, "pay my phone bill")
    listed = client.get("/v1/conversations", params={"limit": 200}, headers=keys.headers("acme")).json()
    assert turn["conversation_id"] in [c["id"] for c in listed["conversations"]]
    export = client.get("/v1/conversations/export", headers=keys.headers("acme"))
    assert export.headers["content-disposition"] == 'attachment; filename="conversations-acme.json"'
    exported = {c["id"]: c for c in export.json()["conversations"]}
    assert exported[turn["conversation_id"]]["messages"][1]["id"] == turn["message_id"]


def test_a_card_number_in_a_message_is_never_stored(client: TestClient, keys: Keys) -> None:
    body = _chat(client, keys, "charge my card 4111 1111 1111 1111 for the roaming pack")
    stored = client.get(f"/v1/conversations/{body['conversation_id']}", headers=keys.headers("acme")).json()
    assert stored["messages"][0]["content"] == "charge my card [card number removed] for the roaming pack"


def test_after_a_handoff_the_assistant_no_longer_answers_and_people_carry_on(
    client: TestClient, keys: Keys
) -> None:
    """A help desk routes a handed-off conversation to an agent: the assistant must not talk over them."""
    acme = keys.headers("acme")
    handed = _chat(client, keys, "your service is terrible, I want to file a complaint")
    answered = _chat(client, keys, "explain my invoice")
    assert handed["handoff"]
    conversation_id = handed["conversation_id"]
    for stream in (False, True):
        refused = client.post(
            "/v1/chat",
            json={"message": "when is my bill due", "conversation_id": conversation_id, "stream": stream},
            headers=acme,
        )
        assert (refused.status_code, refused.json()["code"]) == (409, "handed_off"), stream
        assert f"POST /v1/conversations/{conversation_id}/messages" in refused.json()["message"]
    url = f"/v1/conversations/{conversation_id}/messages"
    customer = client.post(url, json={"role": "customer", "content": "when is my bill due"}, headers=acme)
    assert customer.status_code == 201, customer.text
    suggested = client.post("/v1/suggest", json={"conversation_id": conversation_id}, headers=acme)
    assert suggested.status_code == 200, suggested.text
    agent = client.post(url, json={"role": "agent", "content": "On the 5th."}, headers=acme)
    assert agent.status_code == 201, agent.text

    stored = client.get(f"/v1/conversations/{conversation_id}", headers=acme).json()
    assert [m["role"] for m in stored["messages"]] == ["customer", "assistant", "customer", "agent"]
    assert stored["handoff"] is True
    listed = client.get("/v1/conversations", params={"limit": 200, "handoff": True}, headers=acme).json()
    assert next(c for c in listed["conversations"] if c["id"] == conversation_id)["handoff"] is True
    assert answered["conversation_id"] not in [c["id"] for c in listed["conversations"]]
    # A conversation the assistant has not handed off goes on as before.
    assert _chat(client, keys, "roaming charges in France", conversation_id=answered["conversation_id"])
    documented = client.get("/openapi.json").json()["paths"]["/v1/chat"]["post"]["responses"]["409"]
    assert "`handed_off`" in documented["description"]


def test_the_customer_turn_keeps_the_time_it_arrived_not_the_time_the_reply_was_done(
    client: TestClient, keys: Keys, read_sse: Callable[[Iterable[str]], list[SSEvent]]
) -> None:
    plain = _chat(client, keys, "why is my bill so high")
    request = {"message": "roaming charges in France", "stream": True}
    with client.stream("POST", "/v1/chat", json=request, headers=keys.headers("acme")) as response:
        streamed = json.loads(read_sse(response.iter_lines())[-1][1])
    for turn in (plain, streamed):
        stored = client.get(f"/v1/conversations/{turn['conversation_id']}", headers=keys.headers("acme"))
        conversation = stored.json()
        customer, reply = (datetime.fromisoformat(m["created_at"]) for m in conversation["messages"])
        # Stamped before the chain ran, not when its reply was saved beside it.
        assert reply - customer >= timedelta(milliseconds=turn["timings_ms"]["total"])
        assert datetime.fromisoformat(conversation["created_at"]) == customer


def test_feedback_rates_assistant_replies_only_and_is_listed_page_by_page(
    client: TestClient, keys: Keys
) -> None:
    turn = _chat(client, keys, "pay my phone bill")
    stored = client.get(f"/v1/conversations/{turn['conversation_id']}", headers=keys.headers("acme")).json()
    customer_turn = stored["messages"][0]["id"]
    refused = client.post(
        "/v1/feedback", json={"message_id": customer_turn, "rating": "up"}, headers=keys.headers("acme")
    )
    assert (refused.status_code, refused.json()["code"]) == (422, "invalid_input")
    assert refused.json()["message"].startswith(f"message_id: message {customer_turn!r} is a customer turn")
    listed = client.get("/v1/feedback", headers=keys.headers("acme")).json()["feedback"]
    assert customer_turn not in [f["message_id"] for f in listed]
    rated = [
        client.post(
            "/v1/feedback", json={"message_id": turn["message_id"], "rating": r}, headers=keys.headers("acme")
        ).json()["id"]
        for r in ("up", "down")
    ]
    pages = [
        client.get("/v1/feedback", params={"limit": 1, "offset": offset}, headers=keys.headers("acme")).json()
        for offset in (0, 1)
    ]
    assert [page["feedback"][0]["id"] for page in pages] == rated[::-1]


def test_no_database_connection_is_held_while_the_model_writes(
    app: FastAPI, client: TestClient, keys: Keys
) -> None:
    """The request's connection goes back to the pool once the history is read, and the turn is saved on
    one taken again: held through generation, 16 turns at once took all 15 and stalled every request."""
    pool = app.state.naa.sessions.kw["bind"].pool
    first = _chat(client, keys, "explain my invoice")
    in_use: list[int] = []  # connections checked out, as each checkout happens

    def record(*args: object) -> None:
        in_use.append(pool.checkedout())

    event.listen(pool, "checkout", record)
    try:
        chat = {"message": "when is my bill due", "conversation_id": first["conversation_id"]}
        _chat(client, keys, **chat)
    finally:
        event.remove(pool, "checkout", record)
    # The save took a connection of its own; the request's one was back in the pool by then.
    assert len(in_use) >= 2
    assert max(in_use) == 1, in_use


def test_a_turn_that_starts_a_conversation_may_name_its_channel(client: TestClient, keys: Keys) -> None:
    # The console created an empty conversation first, to have it stored as console rather than api: a
    # refused first message then left it behind in the list.
    acme = keys.headers("acme")
    started = _chat(client, keys, "how much is roaming in Spain", channel="console")
    stored = client.get(f"/v1/conversations/{started['conversation_id']}", headers=acme).json()
    assert stored["channel"] == "console"
    before = client.get("/v1/conversations", params={"limit": 200}, headers=acme).json()["conversations"]
    refused = client.post("/v1/chat", json={"message": "x" * 10_000, "channel": "console"}, headers=acme)
    assert refused.status_code == 422
    after = client.get("/v1/conversations", params={"limit": 200}, headers=acme).json()["conversations"]
    assert after == before  # nothing stored, no empty conversation
    both = {"message": "and in France?", "channel": "web", "conversation_id": started["conversation_id"]}
    mixed = client.post("/v1/chat", json=both, headers=acme)
    assert mixed.status_code == 422 and "channel applies to the conversation a turn starts" in mixed.text
    assert client.post("/v1/chat", json={"message": "hi", "channel": "Web!"}, headers=acme).status_code == 422
