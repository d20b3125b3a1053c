"""Reading the parsed TOML: typed access to dotted keys, and the one-line errors a person can act on.

Every problem is a `ConfigError` whose message is one line naming the key, the file and what is
expected. `unknown_key` is the one wording for a key a table does not have (with the closest key that
exists, by difflib); the config tables, `[channels.NAME]`, `[schedule]` and `[kpi.thresholds]` all use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class ConfigError(Exception):
    """A configuration problem a person can fix; the message is one line."""


def unknown_key(where: str, table: str, key: str, known: Iterable[str], *, expected: str | None = None) -> ConfigError:
    """The one-line error for `table.key`, which the table does not have: "did you mean table.X?" when
    a known key is close, else `expected` (by default the list of known keys)."""
    import difflib  # only on a mistake: `tpmsync status` stays light

    choices = sorted(known)
    close = difflib.get_close_matches(key, choices, n=1, cutoff=0.6)
    hint = f"did you mean {table}.{close[0]}?" if close else expected or f"expected one of {', '.join(choices)}"
    return ConfigError(f"{where}: unknown key {table}.{key}; {hint}")


def check_keys(
    where: str, table: str, keys: Iterable[Any], known: Iterable[str], *, expected: str | None = None
) -> None:
    """Refuse the first of `keys` that is not in `known` (a misspelt key would be ignored silently)."""
    allowed = frozenset(known)
    for key in keys:
        if key not in allowed:
            raise unknown_key(where, table, str(key), allowed, expected=expected)


class TableReader:
    """Typed access to dotted keys of the parsed TOML with one-line errors; a missing key gives the
    default the caller passes (taken from the settings dataclasses, where each is stated once)."""

    def __init__(self, raw: Mapping[str, Any], where: str) -> None:
        self.raw = raw
        self.where = where

    def _get(self, dotted: str) -> Any:
        node: Any = self.raw
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return None
            node = node[part]
        return node

    def has(self, dotted: str) -> bool:
        return self._get(dotted) is not None

    def fail(self, dotted: str, expected: str, value: Any) -> ConfigError:
        return ConfigError(f"{self.where}: {dotted} must be {expected}, got {value!r}")

    def only_keys(self, dotted: str, allowed: Iterable[str]) -> None:
        """Refuse a key of the table `dotted` that is not in `allowed`."""
        check_keys(self.where, dotted, self.table(dotted), allowed)

    def string(self, dotted: str, default: str | None) -> Any:
        value = self._get(dotted)
        if value is None:
            return default
        if not isinstance(value, str) or not value.strip():
            raise self.fail(dotted, "a non-empty string", value)
        return value

    def gid(self, dotted: str) -> str | None:
        value = self._get(dotted)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(dotted, "an Asana gid (a string of digits)", value)
        return value.strip()

    def strings(self, dotted: str) -> tuple[str, ...]:
        value = self._get(dotted)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str | int) and not isinstance(v, bool) for v in value):
            raise self.fail(dotted, "a list of gids or names", value)
        return tuple(str(v).strip() for v in value)

    def integer(self, dotted: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
        value = self._get(dotted)
        if value is None:
            return default
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise self.fail(dotted, f"a whole number ≥ {minimum}", value)
        if maximum is not None and value > maximum:
            raise self.fail(dotted, f"a whole number from {minimum} to {maximum}", value)
        return value

    def number(self, dotted: str, default: float, *, minimum: float) -> float:
        value = self._get(dotted)
        if value is None:
            return default
        if not isinstance(value, int | float) or isinstance(value, bool) or value < minimum:
            raise self.fail(dotted, f"a number ≥ {minimum:g}", value)
        return float(value)

    def table(self, dotted: str) -> Mapping[str, Any]:
        value = self._get(dotted)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(dotted, "a table", value)
        return value
