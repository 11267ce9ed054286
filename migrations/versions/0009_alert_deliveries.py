"""an alert's deliveries in the outbox: the CAP message, the order, the lease

`outbox_message` gains the CAP message a delivery is of (`message_identifier`, which an
Update or Cancel supersedes), its place in the drain (`rank`, closest to the danger first,
with the index the drain reads in that order), the instance holding its lease while it is
being sent (`leased_by`; the lease ends at next_attempt_at) and what the channel answered
(`provider_id`).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 03:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "message_identifier", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True
            )
        )
        batch_op.add_column(sa.Column("rank", sa.BigInteger(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("leased_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
        batch_op.add_column(
            sa.Column("provider_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
        batch_op.create_index(
            "ix_outbox_message_order", ["state", "channel", "rank", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_message_order")
        batch_op.drop_column("provider_id")
        batch_op.drop_column("leased_by")
        batch_op.drop_column("rank")
        batch_op.drop_column("message_identifier")
