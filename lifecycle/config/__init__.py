"""Reading the configuration: a table of settings (`table`), what each value may be
(`kinds`), and the documents written from the table (`reference`). The table itself is
lifecycle/settings.py's."""

from scr.lifecycle.config.table import Setting, read, read_file

__all__ = ["Setting", "read", "read_file"]
