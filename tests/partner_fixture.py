"""A small but real partner for chain-level tests: four intents, three articles, the tiny random LM."""

from pathlib import Path

import yaml

INTENTS = {
    "shipping_cost": [
        "how much is shipping",
        "what does delivery cost",
        "shipping price to my house",
        "is shipping free",
        "cost of express delivery",
        "how much do you charge for shipping",
        "delivery fee please",
        "what are your shipping rates",
    ],
    "return_item": [
        "how do i return a jacket",
        "i want to send this back",
        "can i return my order",
        "return window for shoes",
        "how many days to return something",
        "start a return",
        "return policy please",
        "i need to return a gift",
    ],
    "greeting": [
        "hello",
        "hi",
        "hey there",
        "good morning",
        "hi!",
        "hello, anyone there?",
        "hey",
        "good evening",
    ],
    "complaint": [
        "this is unacceptable",
        "i am very unhappy with your service",
        "worst store ever",
        "i want to file a complaint",
        "your service is terrible",
        "i'm furious about my order",
        "this is a disgrace",
        "complaint about the staff",
    ],
}

ARTICLES = {
    "shipping.md": "---\ntitle: Shipping rates\nurl: https://help.example/shipping\n---\n# Shipping rates\n\n"
    "Standard shipping costs 5 dollars and takes 3 to 5 days. Orders over 50 dollars ship free.\n",
    "returns.md": "---\ntitle: Return policy\nurl: https://help.example/returns\n---\n# Return policy\n\n"
    "You can return any item within 30 days of delivery for a full refund to the original payment method.\n",
    "giftcards.md": "# Gift cards\n\nGift cards never expire and can be used online or in store.\n",
}


def write_partner(root: Path, model_dir: Path) -> Path:
    """Write the partner's files under ``root`` and return the path of its YAML config."""
    (root / "kb").mkdir(parents=True)
    for name, text in ARTICLES.items():
        (root / "kb" / name).write_text(text, encoding="utf-8")
    (root / "intents.yaml").write_text(yaml.safe_dump(INTENTS), encoding="utf-8")
    config = {
        "id": "acme",
        "name": "Acme Outfitters",
        "intent": {"examples": "intents.yaml", "epochs": 2, "trainable_layers": 1, "threshold": 0.2},
        "knowledge_base": {"sources": ["kb"]},
        "retrieval": {"min_score": 0.2},
        "generation": {"backend": "transformers", "model": str(model_dir), "max_new_tokens": 12},
        "handoff": {"always": ["complaint"], "smalltalk": {"greeting": "Hello! How can I help?"}},
    }
    path = root / "partner.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path
