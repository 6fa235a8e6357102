"""The web console for reviewers: server-rendered pages (Jinja2) under ``/console``."""
