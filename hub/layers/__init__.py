"""Reference layers (issue 16): reading an uploaded file into features (readers.py) and what
lies inside an anchor's area (inside.py); the writes are hub/actions/layers.py."""
