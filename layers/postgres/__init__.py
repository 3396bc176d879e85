"""PostgreSQL plumbing: connection strings, connections with one-line errors (``connection``).

Importing the package does not import psycopg; ``layers.postgres.connection`` does.
"""

from layers.postgres.urls import is_postgres

__all__ = ["is_postgres"]
