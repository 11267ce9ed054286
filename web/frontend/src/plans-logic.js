// Pure helpers of the plans page and the incident's plans panel (no DOM, no Leaflet): the
// search's query string, which version to show, a version's anchors in the map's anchor
// shape, what an activation will do, the GeoJSON a user pastes, file sizes and rights.

/** The query string of GET /api/plans: title words, a place (`at` = [lat, lon]), a limit. */
export function plansQuery({ q = '', at = null, limit = 50 } = {}) {
  const params = new URLSearchParams();
  if (q.trim()) params.set('q', q.trim());
  if (at) params.set('at', `${round(at[0])},${round(at[1])}`);
  params.set('limit', String(limit));
  return params.toString();
}

const round = (x) => Math.round(x * 1e5) / 1e5;

/** The version shown first: the approved one an activation uses, else the latest. */
export function defaultVersion(plan) {
  const versions = (plan && plan.versions) || [];
  if (!versions.length) return null;
  const approved = versions.find((v) => v.number === plan.approved_version);
  return (approved || versions[versions.length - 1]).number;
}

/** The version numbered `number` of a plan, or null. */
export function versionOf(plan, number) {
  return ((plan && plan.versions) || []).find((v) => v.number === number) || null;
}

/**
 * A version's predefined anchors as the map's AnchorLayer draws them (store.js's anchor
 * shape): ids made of the version and the feature's place, its own version number as the
 * anchor's version.
 */
export function versionAnchors(version) {
  const features = (version && version.anchors && version.anchors.features) || [];
  return features.map((feature, index) => {
    const { kind, label, ...properties } = feature.properties || {};
    return {
      id: `v${version.number}-${index}`,
      kind,
      label,
      version: version.number,
      updated_at: version.created_at,
      geometry: feature.geometry,
      properties,
    };
  });
}

/** What activating a plan will do, from the version an activation uses (its approved one). */
export function activationCounts(plan) {
  const version = versionOf(plan, plan && plan.approved_version);
  if (!version) return null;
  const anchors = (version.anchors && version.anchors.features) || [];
  return { version: version.number, anchors: anchors.length, contacts: version.contact_ids.length };
}

/** Merges one activation into a list, by plan id (the event and the answer both bring it). */
export function mergeActivated(list, activation) {
  const others = list.filter((item) => item.plan.id !== activation.plan.id);
  return [...others, activation];
}

/** The proposals that are not already active (an activation arrives before the refresh). */
export function stillProposed(proposed, activated) {
  const active = new Set(activated.map((item) => item.plan.id));
  return proposed.filter((plan) => !active.has(plan.id));
}

/** Whether a user may write a plan: its organisation's members and admins. */
export function canEdit(user, plan) {
  if (!user) return false;
  if (user.is_admin) return true;
  return Boolean(plan && plan.organisation && plan.organisation.name === user.organisation);
}

/** Bytes as people read them: 812 B, 14.2 kB, 3.4 MB. */
export function fileSize(bytes) {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1000 * 1000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / (1000 * 1000)).toFixed(1)} MB`;
}

/** A short name for a file's detected type: PDF, PNG, Word… (else the type itself). */
const TYPE_NAMES = {
  'application/pdf': 'PDF',
  'image/png': 'PNG',
  'image/jpeg': 'JPEG',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'Word',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'Excel',
  'application/vnd.oasis.opendocument.text': 'ODT',
  'application/vnd.oasis.opendocument.spreadsheet': 'ODS',
};
export function typeName(contentType) {
  return TYPE_NAMES[contentType] || contentType || '';
}

/**
 * A plan's area from what the user pasted or drew: a Polygon or MultiPolygon, or a Feature or
 * one-feature FeatureCollection holding one. Empty text is no area (null). Throws an Error
 * saying what is wrong; the hub checks the shape itself (closed rings, coordinates).
 */
export function parseArea(text) {
  if (!text || !text.trim()) return null;
  let value = parseJSON(text);
  if (value && value.type === 'FeatureCollection') {
    if (!Array.isArray(value.features) || value.features.length !== 1) throw new Error('area: give one polygon');
    value = value.features[0];
  }
  if (value && value.type === 'Feature') value = value.geometry;
  if (!value || (value.type !== 'Polygon' && value.type !== 'MultiPolygon')) throw new Error('area: a GeoJSON Polygon or MultiPolygon');
  return value;
}

/** The anchors' text as the upload sends it: a FeatureCollection, or nothing when empty. */
export function anchorsText(text) {
  if (!text || !text.trim()) return null;
  const value = parseJSON(text);
  if (!value || value.type !== 'FeatureCollection' || !Array.isArray(value.features)) {
    throw new Error('anchors: a GeoJSON FeatureCollection');
  }
  return JSON.stringify(value);
}

/** Contact ids typed one per line or separated by commas, as the upload's JSON array. */
export function contactIdsText(text) {
  const ids = (text || '').split(/[\s,;]+/).filter(Boolean);
  return ids.length ? JSON.stringify([...new Set(ids)]) : null;
}

function parseJSON(text) {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error('not valid JSON');
  }
}

/** An error of the hub as shown under a form: the code's words and the hub's own message. */
export function errorLine(error, label) {
  const message = error && error.message;
  return message && message !== label ? `${label} ${message}` : label;
}
