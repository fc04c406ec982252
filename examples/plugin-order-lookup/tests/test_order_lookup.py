"""The example plugin's components, on their own and as NAA builds them from a partner file's references."""

import json
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest
from naa_order_lookup import OrderLookupTool, SignaturePostProcessor, plugin

from naa.config.plugins import PluginRef, PluginRegistry, apply_postprocessors, load_plugins


def test_order_lookup_finds_a_sample_order() -> None:
    result = OrderLookupTool().run({"order_id": "a1001"})
    assert result.ok
    assert result.content == "Order A1001 is shipped (placed 2026-11-02, total 42.50 EUR)."
    assert result.data["status"] == "shipped"


def test_order_lookup_reports_an_unknown_order_without_raising() -> None:
    result = OrderLookupTool().run({"order_id": "Z9"})
    assert not result.ok
    assert "Z9" in result.content


def test_order_lookup_reads_the_partners_own_orders_file(tmp_path: Path) -> None:
    orders = tmp_path / "orders.json"
    orders.write_text(
        json.dumps({"B7": {"status": "lost", "placed": "2026-01-01", "total": 5, "currency": "USD"}})
    )
    registry = PluginRegistry([plugin])
    tool = registry.build_ref("tool", PluginRef(name="order_lookup", options={"orders_file": str(orders)}))
    assert tool.run({"order_id": "B7"}).content == "Order B7 is lost (placed 2026-01-01, total 5.00 USD)."


def test_signature_is_appended_once_and_never_to_a_handoff() -> None:
    signature = SignaturePostProcessor("-- Acme support")
    signed = apply_postprocessors([signature], "Refunds take 5 days [1].", intent="refund", action="answer")
    assert signed == "Refunds take 5 days [1].\n\n-- Acme support"
    assert signature.process(signed, intent="refund", action="answer") == signed
    assert signature.process("A colleague will help.", intent="complaint", action="handoff") == (
        "A colleague will help."
    )


def test_installed_package_is_found_through_its_entry_point() -> None:
    try:
        distribution("naa-order-lookup")
    except PackageNotFoundError:
        pytest.skip("pip install -e examples/plugin-order-lookup to check the entry point")
    load_plugins.cache_clear()
    assert "order_lookup" in load_plugins().names("tool")
    assert "signature" in load_plugins().names("postprocessor")
