"""Sync with the office: master, checkout, change packages, apply, update, merge, export."""
