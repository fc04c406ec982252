"""Admin: partners and their API keys."""

from datetime import datetime

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.config import JsonDict

from api.schemas.request import RequestBody
from naa.config.partner import PartnerConfig
from naa.errors import ConfigError

_PARTNER_YAML = """id: acme
name: Acme Telecom
intent:
  examples: /srv/acme/intents.yaml
knowledge_base:
  sources: [/srv/acme/help-center]
handoff:
  always: [complaint]
"""


class PartnerCreate(RequestBody):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"config_yaml": _PARTNER_YAML}]}
    )

    config_yaml: str = Field(
        ...,
        min_length=1,
        description="The partner file's text (the schema of naa.config.partner.PartnerConfig).",
    )

    def partner_config(self) -> PartnerConfig:
        """Validate the YAML now, so a typo is the admin's 422 instead of the first customer's 500."""
        try:
            raw = yaml.safe_load(self.config_yaml)
        except yaml.YAMLError as err:
            raise ConfigError(f"config_yaml is not valid YAML: {err}") from err
        if not isinstance(raw, dict):
            raise ConfigError("config_yaml must be a mapping of partner settings (id, name, ...)")
        try:
            return PartnerConfig.model_validate(raw)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ConfigError(f"config_yaml: {where}: {first['msg']}") from err


class PartnerPublic(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [{"id": "acme", "name": "Acme Telecom", "created_at": "2026-11-27T09:00:00Z"}]
        },
    )

    id: str
    name: str
    created_at: datetime


class PartnersPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"partners": [{"id": "acme", "name": "Acme Telecom", "created_at": "2026-11-27T09:00:00Z"}]}
            ]
        }
    )

    partners: list[PartnerPublic]


_KEY_EXAMPLE: JsonDict = {
    "id": "5c2e0d0f8f5a4a3c9b1e2d3c4b5a6978",
    "partner_id": "acme",
    "name": "agent console",
    "prefix": "naa_Xk3dP9aQ",
    "created_at": "2026-11-27T09:00:00Z",
    "revoked_at": None,
}


class ApiKeyCreate(RequestBody):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "agent console"}]})

    name: str = Field(..., min_length=1, max_length=200, description="What the key is for.")


class ApiKeyPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_KEY_EXAMPLE]})

    id: str
    partner_id: str
    name: str
    prefix: str = Field(..., description="The key's first characters, to tell keys apart.")
    created_at: datetime
    revoked_at: datetime | None


class ApiKeysPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"keys": [_KEY_EXAMPLE]}]})

    keys: list[ApiKeyPublic]


class ApiKeyCreated(ApiKeyPublic):
    model_config = ConfigDict(json_schema_extra={"examples": [{**_KEY_EXAMPLE, "key": "naa_Xk3dP9aQ..."}]})

    key: str = Field(..., description="The full key: shown once, only its hash is stored.")


class PartnerCreated(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "partner": {"id": "acme", "name": "Acme Telecom", "created_at": "2026-11-27T09:00:00Z"},
                    "api_key": {**_KEY_EXAMPLE, "key": "naa_Xk3dP9aQ..."},
                }
            ]
        }
    )

    partner: PartnerPublic
    api_key: ApiKeyCreated = Field(..., description="A first key for the partner.")
