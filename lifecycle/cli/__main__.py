"""`python -m lifecycle.cli`: the `scr` command."""

from lifecycle.cli.main import main

main()
