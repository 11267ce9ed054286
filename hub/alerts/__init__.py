"""Population alerts (BE-Alert): registrations (import, audience of an area); alerts, CAP and
delivery come next (issue 12)."""
