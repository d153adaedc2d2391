"""Helpers shared by test packages: builders of test doubles at the edge of the world."""
