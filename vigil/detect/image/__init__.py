"""Detectors that look at pictures themselves (nudity)."""
