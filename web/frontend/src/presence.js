// Who is online in the incident, kept from the hub's versioned changes (issue 18): the join
// answers the list with its version, then each `presence.changed` names who came and who went;
// a version that does not follow the one held means a change was missed, and the list is read
// again page by page with `presence.get` (see docs/protocol-additions.md, "Presence").

const byName = (a, b) => a.name.localeCompare(b.name) || a.user_id.localeCompare(b.user_id);

export class OnlineList {
  constructor() {
    this.version = null; // null: nothing held yet (before the join answers)
    this.users = [];
  }

  /** A page of the list (the join's `presence`, or `presence.get`'s): true when complete. */
  page(page) {
    if (!page || typeof page.version !== 'number' || !Array.isArray(page.online)) return false;
    const rest = page.offset > 0 && page.version === this.version ? this.users : [];
    this.users = [...rest, ...page.online];
    this.version = page.version;
    return page.offset + page.online.length >= page.total;
  }

  /** One `presence.changed`: 'applied', 'ignored' (old, or nothing held) or 'gap'. */
  apply(change) {
    if (this.version === null || !change || typeof change.version !== 'number') return 'ignored';
    if (change.version <= this.version) return 'ignored';
    if (change.version !== this.version + 1) return 'gap';
    const gone = new Set([...(change.left || []), ...(change.joined || []).map((u) => u.user_id)]);
    this.users = [...this.users.filter((u) => !gone.has(u.user_id)), ...(change.joined || [])].sort(byName);
    this.version = change.version;
    return 'applied';
  }
}

/** Reads the whole list again at one version (`request` is the socket's ack call), at most a
 * few times when it keeps changing under the reader. */
export async function readOnline(list, incidentId, request) {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    let offset = 0;
    let version = null;
    for (let pages = 0; pages < 100; pages += 1) {
      const ack = await request('presence.get', { incident_id: incidentId, offset });
      if (!ack || !ack.ok) return false;
      const page = ack.presence;
      if (version !== null && page.version !== version) break;
      version = page.version;
      if (list.page(page)) return true;
      if (!page.online.length) return false;
      offset += page.online.length;
    }
  }
  return false;
}
