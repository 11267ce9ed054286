"""the directory's contacts (issue 14): contacts, their history, the read log, the search
index and the contacts listed in incidents

`contact` holds persons and functions with their methods (JSON), disciplines, tags, optional
location, review dates and a version; `contact_change` who changed which fields from what to
what; `contact_read` every read of methods outside an incident; `contact_term` one normalised
word (or whole tag or discipline) per row, the search index kept identical on both backends
(its token compares bytewise: collation "C" on PostgreSQL); `incident_contact` the contacts
listed in an incident, by hand or by a plan's activation (plan_id, whose table comes in 0014).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 07:45:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import postgresql

import models.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString
Time = models.base.UTCDateTime


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "contact",
        sa.Column("kind", String(length=10), nullable=False),
        sa.Column("name", String(length=200), nullable=False),
        sa.Column("function", String(length=200), nullable=True),
        sa.Column("note", String(length=2000), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("id", String(length=32), nullable=False),
        sa.Column("organisation_id", String(length=32), nullable=False),
        sa.Column("methods", _json(), nullable=True),
        sa.Column("disciplines", _json(), nullable=True),
        sa.Column("tags", _json(), nullable=True),
        sa.Column("reviewed_at", Time(timezone=True), nullable=True),
        sa.Column("review_due", Time(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", String(length=32), nullable=True),
        sa.Column("created_at", Time(timezone=True), nullable=True),
        sa.Column("updated_by", String(length=32), nullable=True),
        sa.Column("updated_at", Time(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["user.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["updated_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contact_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_contact_review_due"), ["review_due"], unique=False)

    op.create_table(
        "contact_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", String(length=10), nullable=False),
        sa.Column("changed_by", String(length=32), nullable=True),
        sa.Column("changed_at", Time(timezone=True), nullable=True),
        sa.Column("before", _json(), nullable=True),
        sa.Column("after", _json(), nullable=True),
        sa.ForeignKeyConstraint(["changed_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("contact_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_change_contact_id"), ["contact_id"])

    op.create_table(
        "contact_read",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", String(length=32), nullable=True),
        sa.Column("user_id", String(length=32), nullable=False),
        sa.Column("at", Time(timezone=True), nullable=True),
        sa.Column("how", String(length=10), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("contact_read", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_read_contact_id"), ["contact_id"])
        batch_op.create_index(batch_op.f("ix_contact_read_user_id"), ["user_id"])

    op.create_table(
        "contact_term",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", String(length=32), nullable=False),
        sa.Column("kind", String(length=1), nullable=False),
        sa.Column(
            "token",
            sa.String(length=40).with_variant(sa.String(length=40, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contact_id", "kind", "token"),
    )
    with op.batch_alter_table("contact_term", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contact_term_lookup", ["kind", "token", "contact_id", "weight"], unique=False
        )

    op.create_table(
        "incident_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", String(length=32), nullable=False),
        sa.Column("contact_id", String(length=32), nullable=False),
        sa.Column("listed_by", String(length=32), nullable=True),
        sa.Column("listed_at", Time(timezone=True), nullable=True),
        sa.Column("plan_id", String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"]),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.ForeignKeyConstraint(["listed_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "contact_id"),
    )
    with op.batch_alter_table("incident_contact", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_contact_contact_id"), ["contact_id"])
        batch_op.create_index(batch_op.f("ix_incident_contact_incident_id"), ["incident_id"])


def downgrade() -> None:
    op.drop_table("incident_contact")
    op.drop_table("contact_term")
    op.drop_table("contact_read")
    op.drop_table("contact_change")
    op.drop_table("contact")
