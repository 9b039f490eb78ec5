"""Parameter checks at the public boundary, one message shape for all of them."""

from __future__ import annotations

import math
import numbers
from typing import Any, Iterable

from ._errors import ParameterError

__all__ = ["check_number", "check_choice", "check_int"]


def _fail(name: str, func: str, must: str, got: Any) -> ParameterError:
    return ParameterError(f"The {name!r} parameter of {func} must be {must}. Got {got!r} instead.")


def check_number(
    value: Any,
    name: str,
    func: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a float after checking it lies in the given interval."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(float(value)):
        raise _fail(name, func, "a real number" + _interval(low, high, low_open, high_open), value)
    v = float(value)
    bad = (
        (low is not None and (v <= low if low_open else v < low))
        or (high is not None and (v >= high if high_open else v > high))
        or math.isinf(v)
    )
    if bad:
        raise _fail(name, func, "a float" + _interval(low, high, low_open, high_open), value)
    return v


def check_int(value: Any, name: str, func: str, *, low: int | None = None, allow_none: bool = False) -> int | None:
    """Return ``value`` as an int after checking it is an integer ``>= low``."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or (low is not None and value < low):
        must = "an int" + (f" >= {low}" if low is not None else "") + (" or None" if allow_none else "")
        raise _fail(name, func, must, value)
    return int(value)


def check_choice(value: Any, name: str, func: str, choices: Iterable[str]) -> str:
    """Return ``value`` after checking it is one of ``choices``."""
    options = list(choices)
    if value not in options:
        raise _fail(name, func, "one of " + ", ".join(repr(c) for c in options), value)
    return str(value)


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f" {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f" {'<' if high_open else '<='} {high:g}"
    return ""
