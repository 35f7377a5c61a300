"""Dagster definitions, one module per stage; assembled in pipelines/definitions.py."""
