"""Parsing and validation of each feed's exports, from the archive into the `raw` schema."""
