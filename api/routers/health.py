"""``GET /healthz`` and ``GET /metrics``: for load balancers and Prometheus; no API key."""

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import SessionDep, StateDep
from api.schemas.health import HealthPublic

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness and database check")
def healthz(session: SessionDep) -> HealthPublic:
    """Answers once the database answers; models load per partner at first use, so they are not checked."""
    session.connection()  # checks out a pooled connection: raises when the database is unreachable
    return HealthPublic(status="ok", database="ok")


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {"example": 'naa_http_requests_total{route="/v1/chat"} 3.0'}}}
    },
)
def metrics(state: StateDep) -> Response:
    """Requests and latency per route, and time per assistant stage, in Prometheus text format."""
    return Response(state.metrics.render(), media_type=state.metrics.content_type)
