"""vehicle.sidc: the APP-6 / MIL-STD-2525 symbol a vehicle or unit is drawn with

A vehicle whose symbol identification code is set is drawn on the map with that symbol
(milsymbol) instead of the default arrow: set by a manager (`crisishub device add … --sidc`,
PATCH …/vehicles/{id}) or taken from a TAK device's CoT type. Nullable: every vehicle
registered before has none and keeps the arrow.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 08:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("vehicle", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sidc", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("vehicle", schema=None) as batch_op:
        batch_op.drop_column("sidc")
