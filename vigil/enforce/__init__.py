"""Enforcement: the outbox, signed webhooks to the platform, and (later) evidence and hotline reports."""
