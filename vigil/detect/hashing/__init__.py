"""Hashing and hash matching of media."""
