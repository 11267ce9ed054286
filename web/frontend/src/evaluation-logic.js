// The Evaluation panel's pure part (evaluation.js): merging points, who may change one, the
// export links. No DOM: unit-tested (test/evaluation.test.js).

const enc = encodeURIComponent;

/** The points with `point` put in, the higher version winning (an ack and its event may come
 * in either order), oldest first. Pure. */
export function mergePoint(points, point) {
  const others = points.filter((p) => p.id !== point.id);
  const known = points.find((p) => p.id === point.id);
  const kept = known && known.version > point.version ? known : point;
  return [...others, kept].sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
}

/** Whether this user may change the point: its author or a manager. Pure. */
export function mayChange(point, { role, userId }) {
  return role === 'manager' || (role === 'contributor' && point.author.id === userId);
}

/** The export links of an incident, the logbook and archive in `lang`. Pure. */
export function exportLinks(incidentId, lang) {
  const base = `/api/incidents/${enc(incidentId)}`;
  return [
    { key: 'logbook', href: `${base}/logbook.pdf?lang=${enc(lang)}` },
    { key: 'feed', href: `${base}/feed.csv` },
    { key: 'geojson', href: `${base}/anchors.geojson` },
    { key: 'kml', href: `${base}/anchors.kml` },
    { key: 'archive', href: `${base}/archive.zip?lang=${enc(lang)}` },
  ];
}
