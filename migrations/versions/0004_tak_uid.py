"""vehicle.tak_uid: TAK devices registered by their CoT uid

A TAK device (ATAK, iTAK, WinTAK) names itself by the `uid` of its CoT events; registering it
(`crisishub device add … --tak-uid UID`) stores that uid on its vehicle, so that its position
events over the TAK listener (hub/tak/) become the vehicle's fixes. Nullable (every vehicle
registered before, and every OsmAnd or OwnTracks one, has none) and unique (one uid, one
vehicle: PostgreSQL and SQLite both let several NULLs through a unique index).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 23:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("vehicle", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("tak_uid", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_vehicle_tak_uid"), ["tak_uid"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("vehicle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vehicle_tak_uid"))
        batch_op.drop_column("tak_uid")
