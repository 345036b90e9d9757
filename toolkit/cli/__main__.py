"""``python -m toolkit.cli``: the same as the ``ccsync`` console script."""

from toolkit.cli.main import main

main()
