"""evaluation points: what went well and what must improve, with an owner and a due day

`evaluation_point` holds an incident's evaluation points (kind, text, owner, due, open or
closed), versioned for optimistic edits and unique by the client's id within an incident so
that a retried create is not recorded twice.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 06:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import models.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString
Time = models.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "evaluation_point",
        sa.Column("id", String(length=32), nullable=False),
        sa.Column("incident_id", String(length=32), nullable=False),
        sa.Column("client_id", String(length=36), nullable=False),
        sa.Column("kind", String(length=20), nullable=False),
        sa.Column("text", String(), nullable=False),
        sa.Column("owner", String(length=200), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("state", String(length=10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", String(length=32), nullable=False),
        sa.Column("created_at", Time(timezone=True), nullable=True),
        sa.Column("updated_by", String(length=32), nullable=False),
        sa.Column("updated_at", Time(timezone=True), nullable=True),
        sa.Column("closed_at", Time(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["user.id"]),
        sa.ForeignKeyConstraint(["updated_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "client_id"),
    )
    with op.batch_alter_table("evaluation_point", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evaluation_point_incident_id"), ["incident_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("evaluation_point", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_point_incident_id"))
    op.drop_table("evaluation_point")
