"""The SpatiaLite workspace: store, edit sessions, change tracking."""
