"""The bundle's entry point: the ``tongcheng`` command, frozen.

Runs ``layers.cli.main:main`` (the console script of the package) after
``desktop.paths.prepare_environment()``. The ``editor`` command reaches the
CLI the same way as from source, through the ``tongcheng.commands`` entry
point: the spec copies the package's metadata into the bundle (and refuses
to build if the entry point is missing), so ``tongcheng --version`` and the
command groups come from that one source.

``tongcheng selfcheck`` (bundle only, see ``tongcheng_selfcheck.py``) checks
the bundle's libraries and data on the machine it runs on.
"""

import sys


def main():
    from desktop import paths

    paths.prepare_environment()
    if sys.argv[1:2] == ["selfcheck"]:
        import tongcheng_selfcheck

        return tongcheng_selfcheck.main(sys.argv[2:])
    from layers.cli.main import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
