"""``/v1/tools``: the partner's enabled tools (plugin actions) and running one."""

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.request import RequestBody
from naa.config.plugins import ToolValue


class ToolPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "order_lookup", "description": "Look up an order's status by its id."}]
        }
    )

    name: str = Field(..., description="The name to run it by.")
    description: str = Field(..., description="What it does, for the agent.")


class ToolsPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"tools": [{"name": "order_lookup", "description": "Look up an order's status by its id."}]}
            ]
        }
    )

    tools: list[ToolPublic] = Field(..., description="The partner's enabled tools.")


class ToolRunCreate(RequestBody):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"arguments": {"order_id": "A1001"}}]}
    )

    arguments: dict[str, ToolValue] = Field(default_factory=dict, description="The tool's arguments.")


class ToolResultPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ok": True,
                    "content": "Order A1001 is shipped (placed 2026-11-02, total 42.50 EUR).",
                    "data": {"order_id": "A1001", "status": "shipped"},
                }
            ]
        }
    )

    ok: bool = Field(..., description="False when the tool ran but found nothing (e.g. an unknown order id).")
    content: str = Field(..., description="One line for the agent's screen or the conversation.")
    data: dict[str, ToolValue] = Field(default_factory=dict, description="Structured fields of the result.")
