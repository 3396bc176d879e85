"""The sync and exchange commands: checkout, changes, apply, update, merge, export."""

__all__ = ["add_commands"]


def add_commands(commands):
    """Add the sync and exchange commands to the ``tongcheng`` argument parser's subparsers."""
