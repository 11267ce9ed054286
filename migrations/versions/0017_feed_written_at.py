"""feedentry.written_at: when an entry's author wrote it, if it was sent later

An entry written offline waits in the web app's queue and reaches the hub minutes later:
created_at is the hub's time (it orders the feed and the log), written_at the author's, as
their device said (issue 19, item 13). Nullable: entries posted live, and every entry before
this revision, have none.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 08:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feedentry", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("written_at", models.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("feedentry", schema=None) as batch_op:
        batch_op.drop_column("written_at")
