"""Independent reference implementation of the spec's marts, used by tests/test_reference_e2e.py."""

from .compute import compute

__all__ = ["compute"]
