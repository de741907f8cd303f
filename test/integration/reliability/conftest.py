"""Fixtures of the reliability scenarios (fast here; test/reliability runs the same code full size)."""

from _fixtures import admin, operators, reliability_logs  # noqa: F401
