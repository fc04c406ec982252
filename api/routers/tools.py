"""``GET /v1/tools`` and ``POST /v1/tools/{name}``: the partner's enabled plugin tools, for its agents."""

from fastapi import APIRouter

from api.auth import KeyFirstRoute
from api.deps import AssistantDep, PartnerDep
from api.errors import ERROR_RESPONSES
from api.schemas.tools import ToolPublic, ToolResultPublic, ToolRunCreate, ToolsPublic

router = APIRouter(
    route_class=KeyFirstRoute, prefix="/v1/tools", tags=["agent assist"], responses=ERROR_RESPONSES
)


@router.get("", summary="List the partner's tools")
def list_tools(caller: PartnerDep, assistant: AssistantDep) -> ToolsPublic:
    """The tools the partner's config enables (`tools:`), with what each does."""
    tools = [ToolPublic(name=t.name, description=t.description) for t in assistant.tools.values()]
    return ToolsPublic(tools=tools)


@router.post("/{name}", summary="Run a tool")
def run_tool(name: str, body: ToolRunCreate, caller: PartnerDep, assistant: AssistantDep) -> ToolResultPublic:
    """Run one enabled tool with its arguments; 404 for a tool the partner has not enabled."""
    result = assistant.run_tool(name, body.arguments)
    return ToolResultPublic(ok=result.ok, content=result.content, data=dict(result.data))
