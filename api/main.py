"""Assembles the API: state, middleware, error handlers, routers. Nothing else happens here.

``create_app(settings)`` is what ``naa serve``, the tests and the benchmark run; each call builds an
independent app (its own database engine, assistants and metrics), so tests can run several side by side.
"""

import logging
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.routing import Match, Mount
from starlette.types import Scope

from api.assistants import AssistantCache
from api.deps import AppState, check_path_ids
from api.errors import register_error_handlers
from api.head import HeadAsGetMiddleware
from api.limits import BodySizeLimitMiddleware
from api.metrics import Metrics, MetricsMiddleware
from api.routers import (
    admin,
    chat,
    completions,
    conversations,
    feedback,
    health,
    jobs,
    kb,
    retrieval,
    suggest,
    tools,
    training,
)
from naa.config.settings import NAASettings
from naa.storage.session import init_db, make_engine, make_session_factory
from naa.workspace import Workspace
from pipelines.celery_app import make_celery

# The web console's built assets (`npm run build` in frontend/); served at / when present.
CONSOLE_DIR = Path(__file__).resolve().parent.parent / "frontend" / "dist"

# Uploaded help-center files are the largest bodies; 20 MiB holds a long PDF manual.
DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024
# JSON bodies are parsed in the event loop (api.limits); the largest a route takes by design, 10,000
# training questions, is about 1 MiB.
DEFAULT_MAX_JSON_BYTES = 4 * 1024 * 1024

_TAGS = [
    {"name": "chat", "description": "Customer turns: intent, retrieval, a cited reply or a handoff."},
    {"name": "agent assist", "description": "Suggested replies for a human agent."},
    {
        "name": "openai compatible",
        "description": "The OpenAI chat-completions protocol, for existing clients.",
    },
    {"name": "intents", "description": "The intent classifier on its own."},
    {"name": "knowledge base", "description": "Documents, indexing jobs and retrieval."},
    {"name": "conversations", "description": "Stored conversations and feedback."},
    {"name": "training", "description": "RL training runs, model versions, the generator serving."},
    {"name": "admin", "description": "Partners and API keys (admin key only)."},
    {"name": "operations", "description": "Health and Prometheus metrics."},
]


class _ConsoleMount(Mount):
    """The console at ``/``, chosen only when no API route's path matches.

    A mount at ``/`` matches every path fully, so it used to answer an API path called with another
    method (``GET /v1/chat``: a 404; ``OPTIONS /v1/chat``: a 405 that allowed GET and HEAD). Reported as a
    partial match, it loses to the API route's own partial match, whose 405 names the allowed methods.
    """

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        return (Match.PARTIAL if match == Match.FULL else match), child_scope


def create_app(
    settings: NAASettings,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_json_bytes: int = DEFAULT_MAX_JSON_BYTES,
) -> FastAPI:
    """Build the API for ``settings``; the database schema is created or upgraded here."""
    url = settings.resolved_database_url()
    init_db(url)
    engine = make_engine(url)
    workspace = Workspace(settings.data_dir)
    metrics = Metrics()
    app = FastAPI(
        title="NAA API",
        version="0.1.0",
        summary="Customer-service neural agent assistant: intent, retrieval, grounded generation.",
        openapi_tags=_TAGS,
        dependencies=[Depends(check_path_ids)],
    )
    app.state.naa = AppState(
        settings=settings,
        workspace=workspace,
        engine=engine,
        sessions=make_session_factory(engine),
        assistants=AssistantCache(workspace, settings.max_message_chars),
        metrics=metrics,
        jobs_app=make_celery(settings),
    )
    register_error_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=max_body_bytes, max_json_bytes=max_json_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)  # outside the limit, so it times 413s too
    app.add_middleware(HeadAsGetMiddleware)  # outermost: the routers and metrics see a HEAD as its GET
    for module in (
        chat,
        suggest,
        tools,
        completions,
        retrieval,
        kb,
        jobs,
        training,
        conversations,
        feedback,
        admin,
        health,
    ):
        app.include_router(module.router)
    if CONSOLE_DIR.is_dir():  # mounted last, so every API route matches first
        app.router.routes.append(
            _ConsoleMount("/", app=StaticFiles(directory=CONSOLE_DIR, html=True), name="console")
        )
    return app


# The API's own lines (a database outage, a failed stream, a model conversion) as an operator reads them
# among uvicorn's: with time, level and source. Unset, Python printed them bare, and dropped INFO.
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def app_from_env() -> FastAPI:
    """The app for ``NAA_*`` environment settings: ``uvicorn --factory api.main:app_from_env`` (the API
    image's command). Its logging is set up here, unless the process has set up its own."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    return create_app(NAASettings.from_env())
