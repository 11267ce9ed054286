// Generated from the hub's models by `python -m web.enums`: do not edit.

export const ANCHOR_KINDS = ['incident_site', 'exclusion_zone', 'isolation_zone', 'dissuasion_zone', 'command_post', 'coordination_committee', 'advanced_medical_post', 'victim_reception', 'staging_area', 'road_closure', 'helipad', 'press_point', 'weather', 'other'];
export const CONVOY_STATUSES = ['planned', 'en_route', 'arrived', 'cancelled'];
export const DISCIPLINES = ['D1', 'D2', 'D3', 'D4', 'D5', 'coord'];
export const ENTRY_KINDS = ['info', 'decision', 'action', 'request'];
export const INCIDENT_KINDS = ['emergency', 'event', 'exercise'];
export const PHASES = ['monitoring', 'municipal', 'provincial', 'federal'];
export const PRIORITIES = ['normal', 'urgent', 'flash'];
export const ROLES = ['viewer', 'contributor', 'manager'];
export const STATUSES = ['open', 'closed'];
export const VEHICLE_ROLES = ['lead', 'vip', 'escort', 'follow'];
