"""The system of record: SQLAlchemy tables, repositories (one per aggregate) and migrations."""
