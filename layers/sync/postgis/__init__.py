"""A master in a PostGIS database: its tables, the store apply and checkout use, row-level security."""
