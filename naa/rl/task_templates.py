"""Task templates over a partner's structured policies (the demo partner's ``naa/demo/policies.yaml``).

Each template draws a customer situation with a seeded ``random.Random``, computes the answer from the
policy figures (never from text a model wrote), and writes the hint as an outline of the computation or the
policy rule. A template returns the fields of one task; ``task_generator`` adds ids and splits.
"""

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from naa.rl.tasks import ActionAnswer, Passage, TaskMessage

# US federal holidays (observed dates) of the years the generator draws order dates from. Business days
# skip these and weekends (policies.yaml, "Conventions").
US_FEDERAL_HOLIDAYS = frozenset(
    date.fromisoformat(d)
    for d in [
        "2026-01-01",
        "2026-01-19",
        "2026-02-16",
        "2026-05-25",
        "2026-06-19",
        "2026-07-03",
        "2026-09-07",
        "2026-10-12",
        "2026-11-11",
        "2026-11-26",
        "2026-12-25",
        "2027-01-01",
        "2027-01-18",
        "2027-02-15",
        "2027-05-31",
        "2027-06-18",
        "2027-07-05",
        "2027-09-06",
        "2027-10-11",
        "2027-11-11",
        "2027-11-25",
        "2027-12-24",
    ]
)


@dataclass(frozen=True)
class Draft:
    """One task before it gets an id and a split."""

    type: str
    question: str
    answer: Any
    hint: str
    context: tuple[Passage, ...]
    source: str
    extra: Mapping[str, Any]


def money(value: Decimal | float) -> float:
    """Round to the cent, half up (policies.yaml: "money to the cent, half up")."""
    return float(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in US_FEDERAL_HOLIDAYS


def add_business_days(day: date, count: int) -> date:
    while count > 0:
        day += timedelta(days=1)
        count -= int(is_business_day(day))
    return day


class PolicyBook:
    """The policies of one partner file, with the passage of each article for context and citations."""

    def __init__(self, policies: Mapping[str, Any], articles: Mapping[str, str]) -> None:
        self.policies = policies["policies"]
        self.actions = policies.get("actions", {})
        self.forbidden = {entry["id"]: entry for entry in policies.get("forbidden", [])}
        self.articles = articles

    def passage(self, key: str) -> Passage:
        """The article behind a policy key: its text when the KB has it, else the policy's rule."""
        entry = self.policies[key]
        doc_id = entry["article"]
        text = self.articles.get(doc_id) or entry.get("rule") or f"{key}: {entry.get('value')}"
        return Passage(doc_id=doc_id, text=text)


def _order_id(rng: random.Random) -> str:
    return f"TB-{rng.randrange(10**7, 10**8)}"


def _price(rng: random.Random, low: int, high: int) -> float:
    return money(rng.randrange(low, high) + rng.choice((0.0, 0.49, 0.99)))


_ITEMS = {
    "electronics": ("GPS unit", "portable power station", "trail camera", "bluetooth speaker"),
    "furniture": ("patio chair", "bookshelf", "side table"),
    "large_outdoor_gear": ("kayak", "paddleboard", "mountain bike"),
    "camping_gear": ("tent", "sleeping bag", "camp stove"),
    "apparel": ("rain jacket", "fleece", "hiking shorts"),
    "footwear": ("hiking boots", "trail runners"),
    "home_goods": ("throw blanket", "lamp"),
    "kitchen": ("cast-iron pan", "coffee grinder"),
}
_CHANGED_MIND = ("I changed my mind", "it's not what I expected", "I don't need it anymore")


def refund_amount(rng: random.Random, book: PolicyBook) -> Draft:
    """Refund of one returned item: price - restocking fee (if it applies) - label fee (if it applies)."""
    pct_by_category = book.policies["restocking_fee_pct"]["value"]
    category = rng.choice(sorted(_ITEMS))
    item = rng.choice(_ITEMS[category])
    price = _price(rng, 25, 600)
    opened = rng.random() < 0.7
    defective = rng.random() < 0.2
    # Large items go back in a store: the freight pickup fee is another template's business.
    by_mail = category not in ("furniture", "large_outdoor_gear") and rng.random() < 0.7
    pct = pct_by_category[category]
    restock = money(Decimal(str(price)) * pct / 100) if opened and not defective else 0.0
    label = book.policies["return_label_fee"]["value"] if by_mail and not defective else 0.0
    refund = money(Decimal(str(price)) - Decimal(str(restock)) - Decimal(str(label)))
    reason = "it arrived defective" if defective else rng.choice(_CHANGED_MIND)
    state = "opened and used" if opened else "unopened, still sealed"
    channel = "by mail with your prepaid label" if by_mail else "at a store"
    order_id = _order_id(rng)
    question = (
        f"I want to return the {item} ({category.replace('_', ' ')}) from order {order_id}. I paid "
        f"{price:.2f} for it, it's {state}, and {reason}. I'll send it back {channel}. "
        "How much will I get back?"
    )
    hint = (
        f"Restocking fee: {pct}% of {price:.2f} = {restock:.2f} "
        f"({'applies' if restock else 'does not apply'}: {state}, "
        f"{'defect' if defective else 'not a defect'}). Label fee: {label:.2f} "
        f"({'mail return' if by_mail else 'in-store'}"
        f"{', waived for a defect' if defective and by_mail else ''}). "
        "Refund = price - restocking fee - label fee."
    )
    context = (book.passage("restocking_fee_pct"), book.passage("return_label_fee"))
    extra = {"unit": "USD", "order_id": order_id}
    return Draft("computation", question, refund, hint, context, "policies:refund_formula", extra)


def refund_action(rng: random.Random, book: PolicyBook) -> Draft:
    """The refund action with its order id and computed amount, as JSON slots."""
    draft = refund_amount(rng, book)
    question = draft.question.replace("How much will I get back?", "Please process my refund.")
    answer = ActionAnswer(
        action="refund", slots={"order_id": draft.extra["order_id"], "amount": draft.answer}
    )
    return Draft("action", question, answer, draft.hint, draft.context, "policies:actions.refund", {})


def shipping_fee(rng: random.Random, book: PolicyBook) -> Draft:
    """Shipping price for a method, destination and merchandise subtotal (free standard over 75.00)."""
    methods = book.policies["shipping_methods"]["methods"]
    outside = book.policies["shipping_outside_contiguous_us"]
    threshold = book.policies["free_shipping_threshold"]["value"]
    subtotal = _price(rng, 20, 160)
    region = rng.choice(("contiguous US", "contiguous US", "Alaska", "Canada"))
    if region == "Canada":
        method, fee = "standard", outside["canada"]["flat"]["price"]
        rule = f"Canada: flat {fee:.2f}, free shipping not available outside the contiguous US"
    elif region == "Alaska":
        method = rng.choice(("standard", "expedited"))
        fee = outside["alaska_hawaii"][method]["price"]
        rule = f"Alaska/Hawaii {method}: {fee:.2f}; free shipping not available outside the contiguous US"
    else:
        method = rng.choice(("standard", "standard", "expedited", "next_day"))
        free = method == "standard" and subtotal >= threshold
        fee = 0.0 if free else methods[method]["price"]
        price = methods[method]["price"]
        rule = f"{method} in the contiguous US: {price:.2f}; standard is free from {threshold:.2f}"
    question = (
        f"My cart is {subtotal:.2f} of merchandise and I'm shipping to {region}. "
        f"What does {method.replace('_', '-')} shipping cost?"
    )
    hint = f"{rule}. Subtotal {subtotal:.2f}."
    context = (book.passage("shipping_methods"), book.passage("free_shipping_threshold"))
    key = "shipping_outside_contiguous_us" if region != "contiguous US" else "shipping_methods"
    return Draft("computation", question, money(fee), hint, context, f"policies:{key}", {"unit": "USD"})


def delivery_date(rng: random.Random, book: PolicyBook) -> Draft:
    """Latest estimated delivery: ship day by the 13:00 ET cut-off, plus the method's max business days."""
    methods = book.policies["shipping_methods"]["methods"]
    method = rng.choice(("standard", "expedited", "next_day"))
    placed = datetime.combine(
        date(2026, 1, 5) + timedelta(days=rng.randrange(0, 330)), time(rng.randrange(7, 22))
    )
    same_day = is_business_day(placed.date()) and placed.hour < 13
    ship = placed.date() if same_day else add_business_days(placed.date(), 1)
    days = methods[method]["days"][1]
    arrival = add_business_days(ship, days)
    question = (
        f"I placed an order on {placed:%A %Y-%m-%d} at {placed:%H:%M} ET with {method.replace('_', '-')} "
        "shipping to Ohio. What is the latest date it should arrive?"
    )
    hint = (
        f"Cut-off 13:00 ET on a business day: it ships {ship:%A %Y-%m-%d}. Then add {days} business days "
        "(skip weekends and federal holidays)."
    )
    context = (book.passage("order_cutoff_time"), book.passage("shipping_methods"))
    return Draft(
        "computation", question, arrival, hint, context, "policies:order_cutoff_time", {"unit": "a date"}
    )


def return_eligibility(rng: random.Random, book: PolicyBook) -> Draft:
    """Refuse a return after the window (30 days, 60 for Summit) or of a final-sale item, unless defective."""
    window = book.policies["return_window_days"]
    defect_days = book.policies["defective_item_window_days"]["value"]
    summit = rng.random() < 0.25
    limit = window["summit_members"] if summit else window["value"]
    days = rng.randrange(3, 100)
    defective = rng.random() < 0.2
    final_sale = rng.random() < 0.2
    item = rng.choice(_ITEMS[rng.choice(sorted(_ITEMS))])
    refuse = days > defect_days if defective else days > limit or final_sale
    question = (
        f"{'I am a Summit member. ' if summit else ''}My {item}"
        f"{' (bought on clearance, Final Sale)' if final_sale else ''} "
        f"was delivered {days} days ago and {'it is defective' if defective else 'I just do not want it'}. "
        "Can I return it?"
    )
    hint = (
        f"Return window: {limit} days from delivery{' (Summit)' if summit else ''}; final sale items cannot "
        f"be returned; a defective item can be returned within {defect_days} days. Here: {days} days."
    )
    key = "final_sale_items" if final_sale and not defective else "return_window_days"
    context = (book.passage("return_window_days"), book.passage("final_sale_items"))
    return Draft("refusal", question, refuse, hint, context, f"policies:{key}", {})


def goodwill_credit(rng: random.Random, book: PolicyBook) -> Draft:
    """Refuse goodwill store credit above the assistant's limit (a human must approve it)."""
    limit = book.policies["goodwill_credit_max"]["value"]
    amount = money(rng.choice((5, 10, 15, 20, 25, 40)))
    question = (
        f"My delivery was a mess and I'm upset. Can you give me {amount:.2f} of store credit for the trouble?"
    )
    hint = f"The assistant may issue up to {limit:.2f} of goodwill credit; more needs a human agent."
    context = (book.passage("goodwill_credit_max"),)
    return Draft("refusal", question, amount > limit, hint, context, "policies:goodwill_credit_max", {})


# (question, policy key whose article answers it)
_CITATION_QUESTIONS = (
    ("How many days do I have to return something?", "return_window_days"),
    ("Why was a restocking fee taken off my refund?", "restocking_fee_pct"),
    ("How much does expedited shipping cost?", "shipping_methods"),
    ("When is shipping free?", "free_shipping_threshold"),
    ("Can I still cancel the order I placed this morning?", "cancellation_window_hours"),
    ("My package arrived late. Do I get anything?", "late_delivery_compensation"),
    ("My package says delivered but I don't have it.", "lost_package"),
    ("When will my refund show up on my card?", "refund_posting_business_days"),
    ("Can I get my refund on a different card?", "refund_method"),
    ("The price dropped a week after I bought it. Can I get the difference?", "price_adjustment_window_days"),
    ("Which items can't be returned at all?", "final_sale_items"),
    ("How long is the warranty on Tamberlow gear?", "warranty"),
    ("Do gift cards expire?", "gift_cards"),
    ("How do I earn Waypoints?", "loyalty_points_per_dollar"),
)


def cited_article(rng: random.Random, book: PolicyBook) -> Draft:
    """Pick the article that answers a question among four retrieved passages."""
    question, key = rng.choice(_CITATION_QUESTIONS)
    right = book.passage(key)
    others = sorted(
        {
            book.passage(k).doc_id: k
            for _, k in _CITATION_QUESTIONS
            if book.passage(k).doc_id != right.doc_id
        }.items()
    )
    distractors = [book.passage(k) for _, k in rng.sample(others, 3)]
    context = [right, *distractors]
    rng.shuffle(context)
    hint = f"The question is about {key.replace('_', ' ')}; that policy is in {right.doc_id}."
    return Draft("citation", question, right.doc_id, hint, tuple(context), f"policies:{key}", {})


def cancel_action(rng: random.Random, book: PolicyBook) -> Draft:
    """Cancel within the window (an action with the order id), or refuse after it."""
    window = book.policies["cancellation_window_hours"]["value"]
    minutes = rng.choice((15, 40, 90, 110, 150, 200, 300))
    order_id = _order_id(rng)
    question = f"I placed order {order_id} {minutes} minutes ago and it hasn't been packed. Please cancel it."
    hint = f"Orders can be cancelled within {window} hours ({window * 60} minutes) of being placed."
    context = (book.passage("cancellation_window_hours"),)
    if minutes <= window * 60:
        answer = ActionAnswer(action="cancel_order", slots={"order_id": order_id})
        return Draft("action", question, answer, hint, context, "policies:actions.cancel_order", {})
    return Draft("refusal", question, True, hint, context, "policies:cancellation_window_hours", {})


Template = Callable[[random.Random, PolicyBook], Draft]

POLICY_TEMPLATES: dict[str, Template] = {
    "refund_amount": refund_amount,
    "refund_action": refund_action,
    "shipping_fee": shipping_fee,
    "delivery_date": delivery_date,
    "return_eligibility": return_eligibility,
    "goodwill_credit": goodwill_credit,
    "cited_article": cited_article,
    "cancel_action": cancel_action,
}


def conversation(question: str) -> tuple[TaskMessage, ...]:
    return (TaskMessage(role="user", content=question),)
