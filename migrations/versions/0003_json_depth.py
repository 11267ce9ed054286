"""prune JSON nested deeper than the hub can encode

Before the depth limit (models/limits.py MAX_JSON_DEPTH), an anchor whose `properties` nested
hundreds of levels was stored; orjson encodes at most 255 levels, so from then on that
incident's joins, its event log and its anchors could not be read by anyone. This revision
finds such values and replaces every object or array nested deeper than 32 levels by null,
so that the log is readable again. Values the API accepts are never that deep, so nothing
else changes. Not reversible: what was pruned could never be sent anyway.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 20:40:00
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEPTH = 32
# A value nested DEPTH levels is at least 2 * DEPTH characters long: a cheap filter in SQL.
SHORTEST = 2 * DEPTH

# (table, key column, JSON column)
COLUMNS = [("anchor", "id", "properties"), ("event", "id", "data")]


def text_depth(text: str) -> int:
    """Nesting of a JSON text, counted without parsing it (brackets outside strings)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def prune(value: Any, level: int = 1) -> Any:
    if isinstance(value, dict):
        if level > DEPTH:
            return None
        return {key: prune(item, level + 1) for key, item in value.items()}
    if isinstance(value, list):
        if level > DEPTH:
            return None
        return [prune(item, level + 1) for item in value]
    return value


def upgrade() -> None:
    bind = op.get_bind()
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))  # stored values nest up to ~1,000 levels
    try:
        for table_name, key_name, column_name in COLUMNS:
            table = sa.table(table_name, sa.column(key_name), sa.column(column_name, sa.JSON))
            key = table.c[key_name]
            as_text = sa.cast(table.c[column_name], sa.Text)
            rows = bind.execute(sa.select(key, as_text).where(sa.func.length(as_text) > SHORTEST))
            deep = [(row[0], row[1]) for row in rows if text_depth(row[1]) > DEPTH]
            for row_key, text in deep:
                bind.execute(
                    sa.update(table)
                    .where(key == row_key)
                    .values({column_name: prune(json.loads(text))})
                )
    finally:
        sys.setrecursionlimit(limit)


def downgrade() -> None:
    pass  # the pruned levels could never be encoded; there is nothing to restore
