"""The query parameters of the list routes that page through their rows, newest first."""

from typing import Annotated

from fastapi import Query

# SQL's OFFSET is a 64-bit integer in PostgreSQL and SQLite alike: past it, the query fails (a 500).
MAX_OFFSET = 2**63 - 1

Limit = Annotated[int, Query(ge=1, le=200, description="Rows to return.")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip, for the next page.")]
