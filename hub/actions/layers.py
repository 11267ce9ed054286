"""Reference layers: admins upload, replace and delete them; every user lists and reads them;
an incident's members ask what lies inside one of its anchors.

A file is read (hub/layers/readers.py) in a worker thread before any transaction: a bad one
is refused with nothing written, and a 20 MB upload does not hold up the event loop. An
upload, a replacement (the old features out, the new ones in, the version one more) and a
deletion are each one transaction. Layers are no incident's events: nothing here is
sequenced."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import shapely
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.access import require_admin, require_role
from hub.actions.contacts import actors_by_id
from hub.actions.registrations import check_count_rate
from hub.alerts.registrations import audience
from hub.auth import Principal
from hub.context import Hub
from hub.convoys.geo import zone_from_anchor
from hub.db import driver_connection
from hub.errors import HubError
from hub.layers.inside import inside_layers
from hub.layers.readers import ParsedLayer, read_layer
from models import Anchor, Layer, LayerFeature, Role
from models.base import iso, utcnow
from models.layer import (
    MAX_LAYERS,
    InsidePublic,
    LayerCategory,
    LayerFieldsIn,
    LayerPublic,
    LayerSymbol,
)
from models.plan import MAX_FILE_NAME_CHARS

log = logging.getLogger(__name__)

# Features are inserted this many rows a statement: SQLAlchemy's insertmanyvalues batches
# them into multi-row INSERTs on both backends.
INSERT_CHUNK = 2_000
DEFAULT_COLOUR = "#1f6feb"


@dataclass(frozen=True, slots=True)
class LayerDocument:
    """GET /api/layers/{id}: the ETag, and the FeatureCollection's JSON unless the caller's
    copy is current (If-None-Match)."""

    etag: str
    body: bytes | None


def etag_of(layer_id: str, version: int) -> str:
    return f'"{layer_id}.{version}"'


# reading -------------------------------------------------------------------------------------


async def _publics(session: AsyncSession, layers: Sequence[Layer]) -> list[LayerPublic]:
    users = {user for layer in layers for user in (layer.created_by, layer.updated_by) if user}
    actors = await actors_by_id(session, users)
    return [
        {
            "id": layer.id,
            "name": layer.name,
            "category": layer.category,
            "symbol": layer.symbol,
            "colour": layer.colour,
            "format": layer.format,
            "file_name": layer.file_name,
            "count": layer.feature_count,
            "version": layer.version,
            "bbox": None
            if layer.min_lon is None
            or layer.min_lat is None
            or layer.max_lon is None
            or layer.max_lat is None
            else [layer.min_lon, layer.min_lat, layer.max_lon, layer.max_lat],
            "created_by": actors.get(layer.created_by) if layer.created_by else None,
            "created_at": iso(layer.created_at),
            "updated_by": actors.get(layer.updated_by) if layer.updated_by else None,
            "updated_at": iso(layer.updated_at),
        }
        for layer in layers
    ]


async def list_layers(hub: Hub, principal: Principal) -> list[LayerPublic]:
    """Every layer, by name: any logged-in user (every incident map can show them)."""
    async with hub.db.read() as session:
        layers = (await session.scalars(select(Layer).order_by(col(Layer.name)))).all()
        return await _publics(session, layers)


async def read_document(
    hub: Hub, principal: Principal, layer_id: str, if_none_match: str | None
) -> LayerDocument:
    """The layer as a FeatureCollection, each feature with its `id` and `name` (RFC 7946
    foreign members) and the layer's description as `layer`; only the version is read when
    the caller's copy is current."""
    async with hub.db.read() as session:
        layer = await session.get(Layer, layer_id)
        if layer is None:
            raise HubError("not_found", "no such layer")
        etag = etag_of(layer.id, layer.version)
        if if_none_match is not None and etag in {tag.strip() for tag in if_none_match.split(",")}:
            return LayerDocument(etag, None)
        rows = await session.execute(
            select(
                col(LayerFeature.id),
                col(LayerFeature.name),
                col(LayerFeature.geometry),
                col(LayerFeature.properties),
            )
            .where(col(LayerFeature.layer_id) == layer.id)
            .order_by(col(LayerFeature.id))
        )
        features = [
            {
                "type": "Feature",
                "id": row[0],
                "name": row[1],
                "geometry": row[2],
                "properties": row[3] or {},
            }
            for row in rows
        ]
        (public,) = await _publics(session, [layer])
    body = orjson.dumps({"type": "FeatureCollection", "layer": public, "features": features})
    return LayerDocument(etag, body)


# writing -------------------------------------------------------------------------------------


def _file_name(raw: str | None) -> str:
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(char for char in name if char.isprintable())
    return name[:MAX_FILE_NAME_CHARS] or "layer"


async def _parse(content: bytes) -> ParsedLayer:
    return await asyncio.to_thread(read_layer, content)


def _apply_parsed(layer: Layer, parsed: ParsedLayer) -> None:
    features = parsed.features
    layer.format = parsed.format.value
    layer.feature_count = len(features)
    layer.span_lon = max((f.max_lon - f.min_lon for f in features), default=0.0)
    layer.span_lat = max((f.max_lat - f.min_lat for f in features), default=0.0)
    layer.min_lon = min((f.min_lon for f in features), default=None)
    layer.min_lat = min((f.min_lat for f in features), default=None)
    layer.max_lon = max((f.max_lon for f in features), default=None)
    layer.max_lat = max((f.max_lat for f in features), default=None)


async def _insert_features(session: AsyncSession, layer_id: str, parsed: ParsedLayer) -> None:
    rows = [
        {
            "layer_id": layer_id,
            "name": feature.name,
            "geometry": feature.geometry,
            "properties": feature.properties,
            "min_lon": feature.min_lon,
            "min_lat": feature.min_lat,
            "max_lon": feature.max_lon,
            "max_lat": feature.max_lat,
        }
        for feature in parsed.features
    ]
    for start in range(0, len(rows), INSERT_CHUNK):
        await session.execute(insert(LayerFeature), rows[start : start + INSERT_CHUNK])


def _name_taken(name: str) -> HubError:
    return HubError("conflict", f"a layer is already named {name!r}")


async def create_layer(
    hub: Hub, principal: Principal, fields: LayerFieldsIn, file_name: str | None, content: bytes
) -> LayerPublic:
    require_admin(principal)
    if fields.name is None:
        raise HubError("invalid", "a layer needs its `name`")
    parsed = await _parse(content)
    now = utcnow()
    layer = Layer(
        name=fields.name,
        category=(fields.category or LayerCategory.OTHER).value,
        symbol=(fields.symbol or LayerSymbol.CIRCLE).value,
        colour=(fields.colour or DEFAULT_COLOUR).lower(),
        format=parsed.format.value,
        file_name=_file_name(file_name),
        created_by=principal.user_id,
        created_at=now,
        updated_by=principal.user_id,
        updated_at=now,
    )
    _apply_parsed(layer, parsed)
    try:
        async with hub.db.write() as session:
            held = await session.scalar(select(func.count()).select_from(Layer))
            if (held or 0) >= MAX_LAYERS:
                raise HubError("too_large", f"the hub holds at most {MAX_LAYERS} layers")
            if await session.scalar(select(col(Layer.id)).where(col(Layer.name) == fields.name)):
                raise _name_taken(fields.name)
            session.add(layer)
            await session.flush()
            await _insert_features(session, layer.id, parsed)
            (public,) = await _publics(session, [layer])
    except IntegrityError:  # the same name uploaded at the same time
        raise _name_taken(fields.name) from None
    log.info(
        "layer %s (%s) uploaded by %s: %d features from %s",
        layer.id,
        layer.name,
        principal.username,
        layer.feature_count,
        layer.format,
    )
    return public


async def _locked(session: AsyncSession, layer_id: str) -> Layer:
    layer = (
        await session.scalars(select(Layer).where(col(Layer.id) == layer_id).with_for_update())
    ).first()
    if layer is None:
        raise HubError("not_found", "no such layer")
    return layer


async def replace_layer(
    hub: Hub,
    principal: Principal,
    layer_id: str,
    fields: LayerFieldsIn,
    file_name: str | None,
    content: bytes | None,
) -> LayerPublic:
    """A new file (its features replace all the old ones) and/or new fields, in one
    transaction: a reader sees the old layer or the new, never a mix."""
    require_admin(principal)
    parsed = None if content is None else await _parse(content)
    try:
        async with hub.db.write() as session:
            layer = await _locked(session, layer_id)
            if fields.name is not None and fields.name != layer.name:
                taken = await session.scalar(
                    select(col(Layer.id)).where(col(Layer.name) == fields.name)
                )
                if taken:
                    raise _name_taken(fields.name)
                layer.name = fields.name
            if fields.category is not None:
                layer.category = fields.category.value
            if fields.symbol is not None:
                layer.symbol = fields.symbol.value
            if fields.colour is not None:
                layer.colour = fields.colour.lower()
            if parsed is not None:
                await session.execute(
                    delete(LayerFeature).where(col(LayerFeature.layer_id) == layer.id)
                )
                await _insert_features(session, layer.id, parsed)
                _apply_parsed(layer, parsed)
                layer.file_name = _file_name(file_name)
            layer.version += 1
            layer.updated_by = principal.user_id
            layer.updated_at = utcnow()
            session.add(layer)
            await session.flush()
            (public,) = await _publics(session, [layer])
    except IntegrityError:
        raise _name_taken(fields.name or "") from None
    log.info(
        "layer %s (%s) replaced by %s: version %d, %d features",
        layer.id,
        layer.name,
        principal.username,
        layer.version,
        layer.feature_count,
    )
    return public


async def delete_layer(hub: Hub, principal: Principal, layer_id: str) -> LayerPublic:
    """The layer and its features, in one transaction; answers its last description."""
    require_admin(principal)
    async with hub.db.write() as session:
        layer = await _locked(session, layer_id)
        (public,) = await _publics(session, [layer])
        await session.execute(delete(LayerFeature).where(col(LayerFeature.layer_id) == layer.id))
        await session.delete(layer)
    log.info("layer %s (%s) deleted by %s", layer.id, layer.name, principal.username)
    return public


# what is inside ------------------------------------------------------------------------------


async def inside(hub: Hub, principal: Principal, incident_id: str, anchor_id: str) -> InsidePublic:
    """Every layer's features inside the anchor's area (a polygon, or a circle: a Point with
    radius_m), and how many registered addresses (BE-Alert) lie in it: a count, never who.
    The count is the audience count's (hub/alerts/registrations.py), at its pace per user."""
    async with hub.db.read() as session:
        await require_role(session, principal, incident_id, Role.VIEWER)
        anchor = await session.get(Anchor, anchor_id)
        if anchor is None or anchor.incident_id != incident_id or anchor.deleted_at is not None:
            raise HubError("not_found", "no such anchor in this incident")
        zone = zone_from_anchor(
            anchor.id, anchor.kind, anchor.label, anchor.geometry, anchor.properties or {}
        )
        if zone is None:
            raise HubError(
                "invalid",
                f"anchor {anchor.label!r} has no area: it is neither a polygon nor a circle (a"
                " Point with radius_m)",
            )
        check_count_rate(hub, principal)
        layers = (await session.scalars(select(Layer).order_by(col(Layer.name)))).all()
        found = await inside_layers(session, layers, zone.geometry)
        area: dict[str, Any] = orjson.loads(shapely.to_geojson(zone.geometry))
        driver = await driver_connection(session)
        counted = await audience(driver, hub.db.is_sqlite, area)
    log.info(
        "inside of anchor %s (incident %s) read by %s (%s): %d registrations",
        anchor_id,
        incident_id,
        principal.username,
        principal.user_id,
        counted.registrations,
    )
    return {
        "anchor_id": anchor.id,
        "anchor_version": anchor.version,
        "layers": found,
        "registrations": counted.registrations,
    }
