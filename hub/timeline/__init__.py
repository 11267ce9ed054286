"""The incident as a whole over time: its state at a moment, and its exports (issue 15)."""
