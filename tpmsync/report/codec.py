"""The report's JSON codec: frozen dataclasses ↔ plain JSON, driven by their type hints.

Dates and datetimes are ISO strings, tuples are lists, None is null; decoding reads the type
hints of each dataclass (keys it does not know are ignored, missing ones take their defaults).
"""

from __future__ import annotations

import dataclasses
import types
from datetime import date, datetime
from typing import Any, Union, get_args, get_origin, get_type_hints


def encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    return value


def decode(kind: Any, value: Any) -> Any:
    origin = get_origin(kind)
    if origin is Union or origin is types.UnionType:
        if value is None:
            return None
        (inner,) = [a for a in get_args(kind) if a is not type(None)]
        return decode(inner, value)
    if origin is tuple:
        (inner, _ellipsis) = get_args(kind)
        return tuple(decode(inner, v) for v in value)
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    if kind is float:
        return float(value)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = get_type_hints(kind)
        args = {f.name: decode(hints[f.name], value[f.name]) for f in dataclasses.fields(kind) if f.name in value}
        return kind(**args)
    return value
