"""SQLite plumbing: connections with SpatiaLite, packed rtree indexes."""
