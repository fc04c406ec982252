"""Example partner plugin: an order-lookup tool and a signature post-processor.

NAA finds this package through the ``naa.plugins`` entry point in its pyproject; nothing in NAA names it.
"""

import json
from collections.abc import Mapping
from pathlib import Path

from naa.config.plugins import Plugin, ToolResult, ToolValue

_SAMPLE_ORDERS = Path(__file__).with_name("orders.json")


class OrderLookupTool:
    """Looks up an order by id in a JSON file mapping order id -> fields.

    >>> tool = OrderLookupTool()
    >>> tool.run({"order_id": "A1001"}).content
    'Order A1001 is shipped (placed 2026-11-02, total 42.50 EUR).'
    """

    name = "order_lookup"
    description = "Look up an order's status, date and total by its order id (e.g. A1001)."

    def __init__(self, orders_file: str | None = None) -> None:
        path = Path(orders_file) if orders_file else _SAMPLE_ORDERS
        if not path.is_file():
            raise ValueError(f"orders_file {path} does not exist")
        self._orders: dict[str, dict[str, ToolValue]] = json.loads(path.read_text(encoding="utf-8"))

    def run(self, arguments: Mapping[str, ToolValue]) -> ToolResult:
        order_id = str(arguments.get("order_id") or "").strip().upper()
        order = self._orders.get(order_id)
        if order is None:
            return ToolResult(ok=False, content=f"No order {order_id or '(no id given)'} was found.")
        content = (
            f"Order {order_id} is {order['status']} (placed {order['placed']}, "
            f"total {float(order['total'] or 0):.2f} {order['currency']})."
        )
        return ToolResult(ok=True, content=content, data={"order_id": order_id, **order})


class SignaturePostProcessor:
    """Appends a signature to replies the assistant wrote itself; a handoff is signed by the human agent."""

    def __init__(self, signature: str = "-- Your support team") -> None:
        self.signature = signature

    def process(self, reply: str, *, intent: str, action: str) -> str:
        if action == "handoff" or reply.rstrip().endswith(self.signature):
            return reply
        return f"{reply.rstrip()}\n\n{self.signature}"


plugin = Plugin(
    name="order-lookup",
    components={
        "tool": {"order_lookup": OrderLookupTool},
        "postprocessor": {"signature": SignaturePostProcessor},
    },
)
