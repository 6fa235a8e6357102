"""Detectors: each turns content into signals. See ``base.py`` for the protocol."""
