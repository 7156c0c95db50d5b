"""A table of settings, and reading it: each setting is declared once (`Setting`), and
`read` takes every one from where it is given, in order of precedence: the command-line
option, the environment variable, the TOML file, the default.

An unknown section or key in the file is an error, so a misspelt setting never silently
falls back to its default; so is a value its kind refuses, and the one error line names
the key."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scr.lifecycle.config.kinds import Kind, Table
from scr.states.errors import InvalidInput

CONFIG_FILE_MAX = 1_000_000


class Setting:
    """One setting: its key in the TOML file (`section.key`; None for one only the
    environment gives), what its value may be, its default, one line of help, and the
    environment variable that overrides the file. `file=False`: it belongs in that section
    but only the environment may give it (a secret). `secret`: never shown."""

    __slots__ = ("default", "env", "file", "help", "key", "kind", "secret")

    def __init__(self, key: str | None, kind: Kind, default: Any, help: str, *,
                 env: str | None = None, file: bool = True, secret: bool = False) -> None:
        self.key, self.kind, self.default, self.help = key, kind, default, help
        self.env, self.file, self.secret = env, file and key is not None, secret

    @property
    def name(self) -> str:
        return self.key or str(self.env)


def read(table: tuple[Setting, ...], env: Mapping[str, str],
         options: Mapping[str, str | None]) -> tuple[dict[str, Any], set[str]]:
    """Every setting's value by name, and the names of those given (not defaulted).
    `options`: the command line's values, by the environment variable each overrides."""
    for setting in table:
        _require_utf8(setting.env, env)
    path = options.get("SCR_CONFIG") or env.get("SCR_CONFIG")
    data = _read_toml(Path(path)) if path else {}
    _refuse_unknown(data, {s.key: s for s in table if s.key})
    values: dict[str, Any] = {}
    given: set[str] = set()
    for setting in table:
        where, value = _given(setting, data, env, options)
        if where is None:
            values[setting.name] = setting.default
        else:
            values[setting.name] = setting.kind.read(value, where)
            given.add(setting.name)
    return values, given


def _given(setting: Setting, data: Mapping[str, Any], env: Mapping[str, str],
           options: Mapping[str, str | None]) -> tuple[str | None, Any]:
    """Where `setting` is given (the variable, or its key in the file), and its value."""
    if setting.env and (value := options.get(setting.env) or env.get(setting.env)):
        return setting.env, value
    if setting.file and setting.key:
        *sections, key = setting.key.split(".")
        for section in sections:
            data = data.get(section, {})
        if key in data:
            return setting.key, data[key]
    return None, None


def _require_utf8(name: str | None, env: Mapping[str, str]) -> None:
    """An environment variable must be text, as a database driver, an SMTP server and a log
    line need it to be."""
    value = env.get(name) if name else None
    if value is not None:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput(f"{name} is not UTF-8 text") from None


def _refuse_unknown(data: Mapping[str, Any], keys: Mapping[str, Setting]) -> None:
    sections = {key.split(".")[0] for key in keys}
    for name, section in data.items():
        if not isinstance(section, dict) or name not in sections:
            raise InvalidInput(f"config: unknown section [{name}]")
        if name not in keys:  # a section read whole, such as [timers], has any key
            _refuse_unknown_keys(name, section, keys)


def _refuse_unknown_keys(prefix: str, section: Mapping[str, Any],
                         keys: Mapping[str, Setting]) -> None:
    for key, value in section.items():
        setting = keys.get(f"{prefix}.{key}")
        if setting is None:
            raise InvalidInput(f"config: unknown setting {prefix}.{key}")
        if not setting.file:
            raise InvalidInput(f"config: unknown setting {prefix}.{key} (the "
                               f"{key.replace('_', ' ')} goes in {setting.env})")
        if isinstance(setting.kind, Table) and isinstance(value, dict):
            _refuse_unknown_keys(setting.name, value, keys)


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib  # only when there is a file to read

    try:
        raw = read_file(path, CONFIG_FILE_MAX)
    except FileNotFoundError:
        raise InvalidInput(f"config file not found: {path}") from None
    except InvalidInput as exc:
        raise InvalidInput(f"config file: {exc}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidInput(f"config file {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"config file {path} is not valid TOML: {exc}") from None
    except ValueError as exc:  # a number too long for Python to read (int_max_str_digits)
        raise InvalidInput(f"config file {path}: {exc}") from None


def read_file(path: Path, limit: int) -> bytes:
    """The contents of the regular file at `path`, at most `limit` bytes; anything else (a
    directory, a device such as /dev/zero, a pipe that would wait for a writer) or a larger
    file is InvalidInput. FileNotFoundError when there is no such file."""
    try:
        # O_NONBLOCK: opening a pipe with no writer returns at once instead of waiting.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc.__class__.__name__}") \
            from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InvalidInput(f"{path} is not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as file:
            data = file.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise InvalidInput(f"{path}: too large (at most {limit} bytes)")
    return data


__all__ = ["CONFIG_FILE_MAX", "Setting", "read", "read_file"]
