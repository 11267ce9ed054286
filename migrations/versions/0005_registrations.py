"""registrations: the public's contact points for population alerts (BE-Alert)

`registration` holds a person's language, channels (E.164 numbers, an e-mail) and flags;
`registration_place` their 1 to 5 places, indexed on (lat, lon) for the bounding-box
pre-filter of an area's selection (the exact point-in-area test is shapely's). Deleting a
registration deletes its places.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 01:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import models.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "registration",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("sms", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("voice", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
        sa.Column("test_audience", sa.Boolean(), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registration_external_id"), ["external_id"], unique=True
        )

    op.create_table(
        "registration_place",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("registration_id", sa.String(length=32), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["registration_id"], ["registration.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("registration_place", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registration_place_registration_id"),
            ["registration_id"],
            unique=False,
        )
        batch_op.create_index("ix_registration_place_lat_lon", ["lat", "lon"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("registration_place", schema=None) as batch_op:
        batch_op.drop_index("ix_registration_place_lat_lon")
        batch_op.drop_index(batch_op.f("ix_registration_place_registration_id"))
    op.drop_table("registration_place")
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registration_external_id"))
    op.drop_table("registration")
