"""Conversations stored turn by turn (agent assist): start one, add customer and agent turns, read them."""

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

from api_support import Keys
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.routers.conversations import _export_json


def _start(client: TestClient, keys: Keys, **body: object) -> dict:
    response = client.post("/v1/conversations", json=body or None, headers=keys.headers("acme"))
    assert response.status_code == 201, response.text
    return response.json()


def _add(client: TestClient, keys: Keys, conversation_id: str, role: str, content: str) -> dict:
    response = client.post(
        f"/v1/conversations/{conversation_id}/messages",
        json={"role": role, "content": content},
        headers=keys.headers("acme"),
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_turns_added_by_hand_show_in_the_detail_the_list_and_the_export_in_order(
    client: TestClient, keys: Keys
) -> None:
    started = _start(client, keys, channel="console")
    assert (started["channel"], started["messages"]) == ("console", [])
    turns = [
        ("customer", "Hi, my bill went up this month."),
        ("agent", "Sorry about that! Roaming charges are listed on your invoice."),
        ("customer", "I was in France last week."),
    ]
    added = [_add(client, keys, started["id"], role, content) for role, content in turns]
    assert [(m["role"], m["content"]) for m in added] == turns
    assert all((m["intent"], m["citations"], m["handoff"]) == (None, [], False) for m in added)

    stored = client.get(f"/v1/conversations/{started['id']}", headers=keys.headers("acme")).json()
    assert [(m["id"], m["role"], m["content"]) for m in stored["messages"]] == [
        (m["id"], m["role"], m["content"]) for m in added
    ]
    listed = client.get("/v1/conversations", params={"limit": 200}, headers=keys.headers("acme")).json()
    assert {"id": started["id"], "channel": "console", "preview": turns[0][1]}.items() <= next(
        c for c in listed["conversations"] if c["id"] == started["id"]
    ).items()
    exported = client.get("/v1/conversations/export", headers=keys.headers("acme")).json()
    conversation = next(c for c in exported["conversations"] if c["id"] == started["id"])
    assert [(m["role"], m["content"]) for m in conversation["messages"]] == turns


def test_a_conversation_started_without_a_body_is_on_the_api_channel(client: TestClient, keys: Keys) -> None:
    response = client.post("/v1/conversations", headers=keys.headers("acme"))
    assert response.status_code == 201, response.text
    assert response.json()["channel"] == "api"


def test_turns_are_stored_stripped_with_card_numbers_masked(client: TestClient, keys: Keys) -> None:
    started = _start(client, keys)
    customer = _add(client, keys, started["id"], "customer", "  pay with 4111 1111 1111 1111 please \n")
    agent = _add(client, keys, started["id"], "agent", "Charged 4111-1111-1111-1111.")
    assert customer["content"] == "pay with [card number removed] please"
    assert agent["content"] == "Charged [card number removed]."


def test_bad_turns_are_refused_with_a_message_and_nothing_is_stored(client: TestClient, keys: Keys) -> None:
    started = _start(client, keys)
    url = f"/v1/conversations/{started['id']}/messages"
    refused = {
        "assistant": ({"role": "assistant", "content": "I am the bot"}, "invalid_request", "body.role"),
        "unknown role": ({"role": "supervisor", "content": "hi"}, "invalid_request", "body.role"),
        "no content": ({"role": "customer"}, "invalid_request", "body.content"),
        "empty": ({"role": "customer", "content": ""}, "invalid_request", "body.content"),
        "blank": ({"role": "agent", "content": "   "}, "invalid_input", "the agent message is empty"),
        "too long": ({"role": "customer", "content": "a" * 600}, "invalid_input", "600 characters"),
        "extra field": ({"role": "agent", "content": "hi", "intent": "x"}, "invalid_request", "body.intent"),
    }
    for case, (body, code, message) in refused.items():
        response = client.post(url, json=body, headers=keys.headers("acme"))
        assert response.status_code == 422, case
        assert response.json()["code"] == code, case
        assert message in response.json()["message"], (case, response.json())
    stored = client.get(f"/v1/conversations/{started['id']}", headers=keys.headers("acme")).json()
    assert stored["messages"] == []


def test_a_bad_channel_or_an_unknown_conversation_is_refused(client: TestClient, keys: Keys) -> None:
    for channel in ("", "Web Chat", "x" * 33):
        response = client.post("/v1/conversations", json={"channel": channel}, headers=keys.headers("acme"))
        assert (response.status_code, response.json()["code"]) == (422, "invalid_request"), channel
    unknown = client.post(
        "/v1/conversations/no-such-conversation/messages",
        json={"role": "customer", "content": "hi"},
        headers=keys.headers("acme"),
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    assert "no-such-conversation" in unknown.json()["message"]


def test_a_chat_turn_continues_a_conversation_started_by_hand(client: TestClient, keys: Keys) -> None:
    started = _start(client, keys, channel="console")
    _add(client, keys, started["id"], "customer", "hello")
    _add(client, keys, started["id"], "agent", "Hi! How can I help?")
    reply = client.post(
        "/v1/chat",
        json={"message": "when is my bill due", "conversation_id": started["id"]},
        headers=keys.headers("acme"),
    )
    assert reply.status_code == 200, reply.text
    stored = client.get(f"/v1/conversations/{started['id']}", headers=keys.headers("acme")).json()
    assert [m["role"] for m in stored["messages"]] == ["customer", "agent", "customer", "assistant"]


def test_turns_posted_at_the_same_moment_are_all_stored(client: TestClient, keys: Keys) -> None:
    """Concurrent posts to one conversation each get a 201 and a turn of their own, none lost."""
    started = _start(client, keys)
    writers, turns = 8, 5
    start = threading.Barrier(writers)

    def post(writer: int) -> list[int]:
        start.wait()
        url = f"/v1/conversations/{started['id']}/messages"
        return [
            client.post(
                url, json={"role": "agent", "content": f"{writer}-{turn}"}, headers=keys.headers("acme")
            ).status_code
            for turn in range(turns)
        ]

    with ThreadPoolExecutor(writers) as pool:
        codes = [code for codes in pool.map(post, range(writers)) for code in codes]
    assert codes == [201] * writers * turns
    stored = client.get(f"/v1/conversations/{started['id']}", headers=keys.headers("acme")).json()
    assert sorted(m["content"] for m in stored["messages"]) == sorted(
        f"{w}-{t}" for w in range(writers) for t in range(turns)
    )


def test_an_offset_past_64_bits_is_refused_and_the_largest_lists_nothing(
    client: TestClient, keys: Keys
) -> None:
    # Found by schemathesis: the database's OFFSET overflowed, a 500 (PostgreSQL: bigint out of range).
    huge = client.get("/v1/conversations", params={"offset": 2**63}, headers=keys.headers("acme"))
    assert (huge.status_code, huge.json()["code"]) == (422, "invalid_request")
    assert huge.json()["message"].startswith("query.offset")
    largest = client.get("/v1/conversations", params={"offset": 2**63 - 1}, headers=keys.headers("acme"))
    assert largest.json() == {"conversations": []}


def test_conversations_are_listed_by_channel_and_a_filter_is_never_ignored(
    client: TestClient, keys: Keys
) -> None:
    email = _start(client, keys, channel="email")
    _start(client, keys, channel="web")

    def listed(**params: object) -> list[dict]:
        response = client.get(
            "/v1/conversations", params={"limit": 200, **params}, headers=keys.headers("acme")
        )
        assert response.status_code == 200, response.text
        return response.json()["conversations"]

    assert [(c["id"], c["handoff"]) for c in listed(channel="email")][:1] == [(email["id"], False)]
    assert {c["channel"] for c in listed(channel="email")} == {"email"}
    assert email["id"] in [c["id"] for c in listed(handoff=False)]
    assert email["id"] not in [c["id"] for c in listed(handoff=True)]
    for bad in ({"handoff": "maybe"}, {"channel": "x" * 33}):
        refused = client.get("/v1/conversations", params=bad, headers=keys.headers("acme"))
        assert (refused.status_code, refused.json()["code"]) == (422, "invalid_request"), bad
        assert refused.json()["message"].startswith(f"query.{next(iter(bad))}"), refused.json()


def test_an_export_holds_no_database_connection_while_the_client_reads_a_page(
    app: FastAPI, client: TestClient, keys: Keys
) -> None:
    """A slow download must not keep a pooled connection: 15 of them took them all (others waited 30 s)."""
    _start(client, keys)
    sessions = app.state.naa.sessions
    pool = sessions.kw["bind"].pool
    with closing(_export_json(sessions, "acme")) as chunks:
        header, first_page = next(chunks), next(chunks)  # the generator now waits for the client
        assert header.startswith(b'{"partner_id":"acme"') and first_page.startswith(b'{"id":')
        assert pool.checkedout() == 0
        assert b"".join(chunks).endswith(b"]}")
