"""timeline: the indexes the state at a time T reads by

`ix_event_incident_at` (incident_id, at, seq): the last seq logged at or before T is one range
of it, where the (incident_id, seq) constraint would have every event of the incident read.
`ix_feedentry_incident_seq` (incident_id, seq): the last hundred entries up to a seq are the end
of a range, where the incident_id index alone had every entry of the incident fetched and
sorted; the live snapshot reads the feed the same way and gains as much.
Positions need nothing new: the (vehicle_id, ts) unique constraint is already the index of
"the last fix at or before T".

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index("ix_event_incident_at", ["incident_id", "at", "seq"], unique=False)
    with op.batch_alter_table("feedentry", schema=None) as batch_op:
        batch_op.create_index("ix_feedentry_incident_seq", ["incident_id", "seq"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("feedentry", schema=None) as batch_op:
        batch_op.drop_index("ix_feedentry_incident_seq")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("ix_event_incident_at")
