"""HTTP: the JSON API, the pages and their assets."""
