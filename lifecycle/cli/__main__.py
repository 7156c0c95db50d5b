"""`python -m lifecycle.cli`: the `scr` command."""

from scr.lifecycle.cli.main import main

main()
