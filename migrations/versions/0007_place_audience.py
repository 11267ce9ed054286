"""registration_place carries its registration's audience fields

language, channels (bits: 1 sms, 2 voice, 4 email), confirmed and test_audience are copied
onto each place, so that counting or selecting an area's audience reads one table by its
(lat, lon) index instead of joining 1.2 million registrations. shared_key numbers the
registrations having several places (NULL for a sole place): a count deduplicates on it, an
integer, instead of the 32-character id. band is the latitude in hundredths of a degree: the
(lat, lon) index becomes a covering index on (band, lon, lat, what a count reads), so that a
rectangle is one seek per band on its longitudes, read from the index alone.

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
        batch_op.add_column(sa.Column("shared_key", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("band", sa.Integer(), nullable=False, server_default="0"))
        batch_op.drop_index("ix_registration_place_lat_lon")
        batch_op.create_index(
            "ix_registration_place_audience",
            [
                "band",
                "lon",
                "lat",
                "confirmed",
                "test_audience",
                "shared_key",
                "language",
                "channels",
            ],
            unique=False,
        )
    # band = floor(lat * 100) (models/registration.py lat_band); SQLite's floor() is optional
    # in its builds, so there a truncation corrected for negative latitudes.
    if op.get_bind().dialect.name == "sqlite":
        band = "CAST(lat * 100 AS INTEGER) - (lat * 100 < CAST(lat * 100 AS INTEGER))"
    else:
        band = "CAST(floor(lat * 100) AS INTEGER)"
    op.execute(f"UPDATE registration_place SET band = {band}")
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
    # Registrations of several places get a number each (UPDATE … FROM: PostgreSQL, and SQLite
    # since 3.33).
    op.execute(
        "UPDATE registration_place SET shared_key = k.n FROM (SELECT registration_id AS rid,"
        " row_number() OVER (ORDER BY registration_id) AS n FROM registration_place"
        " GROUP BY registration_id HAVING count(*) > 1) AS k"
        " WHERE k.rid = registration_place.registration_id"
    )


def downgrade() -> None:
    with op.batch_alter_table("registration_place", schema=None) as batch_op:
        batch_op.drop_index("ix_registration_place_audience")
        batch_op.create_index("ix_registration_place_lat_lon", ["lat", "lon"], unique=False)
        batch_op.drop_column("band")
        batch_op.drop_column("shared_key")
        batch_op.drop_column("test_audience")
        batch_op.drop_column("confirmed")
        batch_op.drop_column("channels")
        batch_op.drop_column("language")
