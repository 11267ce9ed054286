"""Unit tests of the pure modules: plain functions, no server, no database, no sleeping."""
