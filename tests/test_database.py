import os

from django.db import connection


def test_the_suite_runs_on_the_database_database_url_names(db):
    # Guards `make test`: the PostgreSQL pass must not fall back to SQLite unnoticed.
    expected = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    assert connection.vendor == expected
