"""Admin: partners and their API keys."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from api.schemas.request import RequestBody
from naa.config.partner import PartnerConfig, check_intent_names, check_text_paths, parse_partner_yaml
from naa.workspace import Workspace

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
        description=(
            "The partner file's text (the schema of naa.config.partner.PartnerConfig). Its paths "
            "(intent.examples, knowledge_base.sources) are absolute paths on the server: text has no "
            "folder to resolve relative ones against."
        ),
    )

    def partner_config(self, workspace: Workspace) -> PartnerConfig:
        """Validate the YAML now, so a typo is the admin's 422 instead of the first customer's 500.

        Besides the schema: every path is absolute and exists (``check_text_paths``; a relative one found
        under the partner's folder in the data dir, or the data dir, is named in the message), and the
        handoff intents are ones the examples define (``check_intent_names``).
        """
        config = parse_partner_yaml(self.config_yaml, "config_yaml")
        bases = (workspace.partner_dir(config.id), workspace.data_dir)
        check_text_paths(config, "config_yaml", bases)
        check_intent_names(config, "config_yaml")
        return config


class PartnerUpdate(PartnerCreate):
    """The whole partner file again, as for the create: it replaces the stored one."""


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
