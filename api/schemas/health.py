"""``GET /healthz``."""

from typing import Literal

from pydantic import BaseModel, ConfigDict


class HealthPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok", "database": "ok"}]})

    status: Literal["ok"]
    database: Literal["ok"]
