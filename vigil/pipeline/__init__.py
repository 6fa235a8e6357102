"""Running the core: in-process service (and later the NATS worker)."""
