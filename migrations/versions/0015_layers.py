"""reference layers (issue 16): layers and their features

`layer` holds a reference layer an administrator uploaded (name, category, symbol, colour,
format and file name, its feature count, its version, which the ETag of GET /api/layers/{id}
follows, the box of all its features and the largest width and height of one feature's box);
`layer_feature` each feature's GeoJSON geometry, properties and name, with its bounding box
indexed by (layer_id, min_lon, min_lat) for the inside query's range read.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 08:16:11
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import postgresql

import models.base

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "layer",
        sa.Column("id", _text(32), nullable=False),
        sa.Column("name", _text(100), nullable=False),
        sa.Column("category", _text(20), nullable=False),
        sa.Column("symbol", _text(12), nullable=False),
        sa.Column("colour", _text(7), nullable=False),
        sa.Column("format", _text(12), nullable=False),
        sa.Column("file_name", _text(200), nullable=False),
        sa.Column("feature_count", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("span_lon", sa.Float(), nullable=False),
        sa.Column("span_lat", sa.Float(), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=True),
        sa.Column("min_lat", sa.Float(), nullable=True),
        sa.Column("max_lon", sa.Float(), nullable=True),
        sa.Column("max_lat", sa.Float(), nullable=True),
        sa.Column("created_by", _text(32), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_by", _text(32), nullable=True),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["user.id"]),
        sa.ForeignKeyConstraint(["updated_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "layer_feature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("layer_id", _text(32), nullable=False),
        sa.Column("name", _text(200), nullable=True),
        sa.Column("geometry", _json(), nullable=False),
        sa.Column("properties", _json(), nullable=True),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["layer_id"], ["layer.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("layer_feature", schema=None) as batch_op:
        batch_op.create_index(
            "ix_layer_feature_box", ["layer_id", "min_lon", "min_lat"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("layer_feature", schema=None) as batch_op:
        batch_op.drop_index("ix_layer_feature_box")
    op.drop_table("layer_feature")
    op.drop_table("layer")
