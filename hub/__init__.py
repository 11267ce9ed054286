"""CrisisHub: the live core of the incident hub (settings, app, sockets, domain actions)."""
