"""partners.generator_version_id: the generator model version serving a partner (PUT /v1/generator).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 10:16:00.770389

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # Batch mode: on SQLite this copies the table (no ALTER support); on PostgreSQL it is a plain ALTER.
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.add_column(sa.Column("generator_version_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.drop_column("generator_version_id")
