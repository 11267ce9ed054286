"""alerts: population alerts (BE-Alert) and every CAP message sent for them

`alert` holds an incident's alert as drafted and as last sent (area, texts per language,
CAP fields, channels, the audience estimate); `alert_message` one row per CAP message
(Alert, Update, Cancel) with the alert's content at that moment. Identifiers are the primary
key: unique, never reused.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import models.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString
JSON = models.base.JSONType
Time = models.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "alert",
        sa.Column("id", String(length=32), nullable=False),
        sa.Column("incident_id", String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", String(length=10), nullable=False),
        sa.Column("cap_status", String(length=10), nullable=False),
        sa.Column("anchor_ids", JSON, nullable=False),
        sa.Column("area_labels", JSON, nullable=False),
        sa.Column("geometry", JSON, nullable=False),
        sa.Column("polygons", JSON, nullable=True),
        sa.Column("circles", JSON, nullable=False),
        sa.Column("channels", JSON, nullable=False),
        sa.Column("info", sa.JSON(), nullable=False),
        sa.Column("event", String(length=200), nullable=False),
        sa.Column("category", String(length=20), nullable=False),
        sa.Column("urgency", String(length=20), nullable=False),
        sa.Column("severity", String(length=20), nullable=False),
        sa.Column("certainty", String(length=20), nullable=False),
        sa.Column("expires", Time(timezone=True), nullable=False),
        sa.Column("estimate", JSON, nullable=False),
        sa.Column("created_by", String(length=32), nullable=False),
        sa.Column("created_at", Time(timezone=True), nullable=True),
        sa.Column("updated_at", Time(timezone=True), nullable=True),
        sa.Column("sent_by", String(length=32), nullable=True),
        sa.Column("sent_at", Time(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["user.id"]),
        sa.ForeignKeyConstraint(["sent_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_incident_id"), ["incident_id"], unique=False)

    op.create_table(
        "alert_message",
        sa.Column("identifier", String(length=100), nullable=False),
        sa.Column("alert_id", String(length=32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("msg_type", String(length=10), nullable=False),
        sa.Column("cap_status", String(length=10), nullable=False),
        sa.Column("sender", String(length=200), nullable=False),
        sa.Column("sent", Time(timezone=True), nullable=False),
        sa.Column("references", JSON, nullable=False),
        sa.Column("content", JSON, nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alert.id"]),
        sa.PrimaryKeyConstraint("identifier"),
        sa.UniqueConstraint("alert_id", "number"),
    )
    with op.batch_alter_table("alert_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_message_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_message_sent"), ["sent"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alert_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_message_sent"))
        batch_op.drop_index(batch_op.f("ix_alert_message_alert_id"))
    op.drop_table("alert_message")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_incident_id"))
    op.drop_table("alert")
