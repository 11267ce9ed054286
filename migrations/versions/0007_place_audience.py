"""registration_place carries its registration's audience fields

language, channels (bits: 1 sms, 2 voice, 4 email), confirmed and test_audience are copied
onto each place, so that counting or selecting an area's audience reads one table by its
(lat, lon) index instead of joining 1.2 million registrations.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 03:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("registration_place", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "language",
                sqlmodel.sql.sqltypes.AutoString(length=2),
                nullable=False,
                server_default="fr",
            )
        )
        batch_op.add_column(sa.Column("channels", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("confirmed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("test_audience", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # Existing places take their registration's values.
    op.execute(
        "UPDATE registration_place SET"
        " language = (SELECT r.language FROM registration r WHERE r.id = registration_id),"
        " channels = (SELECT (CASE WHEN r.sms IS NULL THEN 0 ELSE 1 END)"
        " + (CASE WHEN r.voice IS NULL THEN 0 ELSE 2 END)"
        " + (CASE WHEN r.email IS NULL THEN 0 ELSE 4 END)"
        " FROM registration r WHERE r.id = registration_id),"
        " confirmed = (SELECT r.confirmed FROM registration r WHERE r.id = registration_id),"
        " test_audience = (SELECT r.test_audience FROM registration r"
        " WHERE r.id = registration_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("registration_place", schema=None) as batch_op:
        batch_op.drop_column("test_audience")
        batch_op.drop_column("confirmed")
        batch_op.drop_column("channels")
        batch_op.drop_column("language")
