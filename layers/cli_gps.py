"""The ``tongcheng gps ...`` commands: import GPS files, match waypoints to facilities."""

__all__ = ["add_commands"]


def add_commands(commands):
    """Add the gps command group to the ``tongcheng`` argument parser's subparsers."""
