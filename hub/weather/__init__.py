"""Weather for the perimeter decision: the wind a weather anchor carries (models/weather.py),
taken from a configured observation feed (feed.py)."""
