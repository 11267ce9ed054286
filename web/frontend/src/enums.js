// Generated from the hub's models by `python -m web.enums`: do not edit.

export const ALERT_CHANNELS = ['sms', 'voice', 'email', 'public', 'operators'];
export const ALERT_LANGUAGES = ['fr', 'nl', 'de', 'en'];
export const ALERT_STATES = ['draft', 'sent', 'updated', 'cancelled'];
export const ANCHOR_KINDS = ['incident_site', 'exclusion_zone', 'isolation_zone', 'dissuasion_zone', 'command_post', 'coordination_committee', 'advanced_medical_post', 'victim_reception', 'staging_area', 'road_closure', 'helipad', 'press_point', 'weather', 'other'];
export const CAP_CATEGORIES = ['Geo', 'Met', 'Safety', 'Security', 'Rescue', 'Fire', 'Health', 'Env', 'Transport', 'Infra', 'CBRNE', 'Other'];
export const CAP_STATUSES = ['Actual', 'Exercise', 'Test'];
export const CERTAINTIES = ['Observed', 'Likely', 'Possible', 'Unlikely', 'Unknown'];
export const CONVOY_STATUSES = ['planned', 'en_route', 'arrived', 'cancelled'];
export const DISCIPLINES = ['D1', 'D2', 'D3', 'D4', 'D5', 'coord'];
export const ENTRY_KINDS = ['info', 'decision', 'action', 'request'];
export const EVALUATION_KINDS = ['went_well', 'to_improve'];
export const INCIDENT_KINDS = ['emergency', 'event', 'exercise'];
export const MSG_TYPES = ['Alert', 'Update', 'Cancel'];
export const PHASES = ['monitoring', 'municipal', 'provincial', 'federal'];
export const PLAN_KINDS = ['general', 'special', 'discipline', 'internal'];
export const PLAN_LEVELS = ['municipal', 'provincial', 'federal'];
export const PLAN_VERSION_STATUSES = ['draft', 'approved'];
export const PRIORITIES = ['normal', 'urgent', 'flash'];
export const ROLES = ['viewer', 'contributor', 'manager'];
export const SEVERITIES = ['Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown'];
export const STATUSES = ['open', 'closed'];
export const URGENCIES = ['Immediate', 'Expected', 'Future', 'Past', 'Unknown'];
export const VEHICLE_ROLES = ['lead', 'vip', 'escort', 'follow'];
export const PERIMETER_KINDS = ["exclusion_zone", "isolation_zone", "dissuasion_zone"];
export const EXERCISE_WORDS = {"fr": "EXERCICE", "nl": "OEFENING", "de": "ÜBUNG", "en": "EXERCISE"};
export const TEST_WORD = "TEST";
