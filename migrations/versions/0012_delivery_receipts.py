"""the outbox's indexes for an alert's deliveries: receipts found, rows written faster

An SMSC's receipt names its message by the id it answered (`provider_id`): without an index
each receipt's lookup read the whole outbox, which at an alert of 20,000 SMS held the channel
behind its receipts. The index is partial (ids only), so that the hundreds of thousands of
rows an alert writes, none with an id yet, cost it nothing. `ix_outbox_message_drain` goes:
the claims and the reaps read `ix_outbox_message_order` (state, channel, then the drain's
order), and every row written paid for both.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 07:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_HAS_ID = sa.text("provider_id IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_message_drain")
        batch_op.create_index(
            "ix_outbox_message_receipt",
            ["channel", "provider_id"],
            unique=False,
            sqlite_where=_HAS_ID,
            postgresql_where=_HAS_ID,
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_message_receipt")
        batch_op.create_index(
            "ix_outbox_message_drain", ["state", "channel", "next_attempt_at"], unique=False
        )
