"""The ``tongcheng`` command line: one module per command group."""
