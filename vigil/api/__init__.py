"""The HTTP API (``/v1``), FastAPI with one router per area."""
