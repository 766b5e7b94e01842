"""``python -m core.cli``: the same as the ``mentoring40`` console script."""

from core.cli import main

main()
