// Pure helpers of the directory page and the incident's contacts panel (no DOM): links to
// call and to write, and the search's query string.

/** A tel: or mailto: href for a method, or null (a radio id is no link). */
export function methodHref(method) {
  if (!method || !method.value) return null;
  if (method.type === 'email') return `mailto:${method.value}`;
  if (method.type === 'phone' || method.type === 'mobile') return `tel:${method.value.replace(/[^+\d]/g, '')}`;
  return null;
}

/** The query string of GET /api/contacts for the page's search and filters. */
export function searchQuery({ q = '', discipline = '', tag = '', due = false, after = null, limit = 20 } = {}) {
  const params = new URLSearchParams();
  if (q) params.set('q', q);
  if (discipline) params.set('discipline', discipline);
  if (tag) params.set('tag', tag);
  if (due) params.set('due', 'true');
  if (after) params.set('after', after);
  params.set('limit', String(limit));
  return params.toString();
}

/** Merges one listed contact into the panel's list, by contact id (a replay repeats it). */
export function mergeListed(list, listed) {
  const others = list.filter((item) => item.contact.id !== listed.contact.id);
  return [...others, listed];
}
