"""Deterministic sample exports (registers and the five feeds) for demos and tests; see generator.py."""

from .generator import generate

__all__ = ["generate"]
