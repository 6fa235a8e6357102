"""Operating Vigil: Prometheus metrics, logs, readiness (docs/deployment.md, "Operating").

The package sits at layer 3, beside ``config``, so that every layer may report to it: the process's
metrics (``metrics``), the HTTP middleware that times requests (``http``), the logging setup
(``logs``) and the readiness checks (``readiness``) import nothing of Vigil. The one piece that
reads the database, the cluster collector (``cluster``), builds on the store and sits above it.
"""
