"""Reading an indicators table: columns, kinds, confidences, values parsed as their kind says.

See :mod:`sybilgraph.attribution` for the model.
"""

from __future__ import annotations

import difflib
import math
import os
from pathlib import Path
from typing import Sequence, Union

import numpy as np
import pandas as pd

from .._errors import IndicatorError, InputError
from ..kinds import ALWAYS_INDICATOR, family as kind_family, kind as kind_of, ParsedIndicator

__all__ = ["INDICATOR_COLUMNS", "SPECIAL_KINDS", "IndicatorSource", "read_indicators"]


#: Columns an indicators table must have; ``confidence`` and ``source`` are optional.
INDICATOR_COLUMNS = ("organisation", "kind", "value")


#: Kinds accepted whatever the observations hold: ``ip`` (address or CIDR
#: range), ``email`` (address or domain) and ``account`` (a known account id).
SPECIAL_KINDS = (*ALWAYS_INDICATOR, "account")


IndicatorSource = Union[pd.DataFrame, str, "os.PathLike[str]"]


#: Column names often used for the required ones (for the hint in the error message).
_SYNONYMS = {
    "organisation": ("organization", "org", "operator", "owner", "actor", "company"),
    "kind": ("type", "indicator_type", "field"),
    "value": ("indicator", "ioc", "observable"),
}


def read_indicators(
    indicators: IndicatorSource,
    *,
    allowed_kinds: Sequence[str] | None = None,
    notes: list[str] | None = None,
) -> pd.DataFrame:
    """Read and check an indicators table; return it normalised.

    Parameters
    ----------
    indicators : DataFrame or path
        ``organisation, kind, value[, confidence, source]``.
    allowed_kinds : sequence of str, optional
        Kinds accepted (default: any kind).
    notes : list of str, optional
        Receives notes on values that were adjusted (a range with host bits set).

    Returns
    -------
    DataFrame
        One row per indicator, in input order: ``row, organisation, kind, value,
        confidence, source, mode, key, family`` where ``mode`` is one of
        ``exact, cidr, domain, address, account``, ``key`` the normalised value
        that is matched (an ``ipaddress`` network for ``cidr``) and ``family``
        the family of kinds used to judge independent evidence.

    Raises
    ------
    IndicatorError
        See :func:`attribute`.

    Examples
    --------
    >>> t = read_indicators(pd.DataFrame({"organisation": ["A", "A"], "kind": ["IP", "email"],
    ...                                   "value": ["10.0.0.0/8", "@Example.COM"]}))
    >>> t[["kind", "mode", "family"]].values.tolist()
    [['ip', 'cidr', 'ip'], ['email', 'domain', 'email']]
    """
    notes = notes if notes is not None else []
    frame, where = _load(indicators)
    if len(frame) == 0:
        raise IndicatorError(f"{where}holds no indicator; expected rows of organisation, kind, value[, confidence, source].")
    frame, cols = _with_columns(frame, where)
    n = len(frame)
    line = _line_namer(indicators)
    org = _text(frame["organisation"])
    kind = _text(frame["kind"]).str.lower()
    value = _text(frame["value"])
    for name, col in (("organisation", org), ("kind", kind), ("value", value)):
        empty = np.flatnonzero((col == "").to_numpy())
        if len(empty):
            raise IndicatorError(f"{where}has an empty {name} in {_rows(empty, line)}; every indicator needs an "
                                 f"organisation, a kind and a value — fill them in or delete those rows.")
    if allowed_kinds is not None:
        _check_kinds(kind, allowed_kinds, where, line)
    conf = _confidences(frame, cols, where, line)
    source = _text(frame["source"]) if "source" in cols else pd.Series([""] * n, dtype=object)

    kinds = kind.to_numpy(dtype=object)
    values = value.to_numpy(dtype=object)
    mode, key, family = _parse_values(kinds, values, where, line, notes)
    out = pd.DataFrame({
        "row": np.arange(n),
        "organisation": org.to_numpy(dtype=object),
        "kind": kinds,
        "value": values,
        "confidence": conf.to_numpy(dtype=np.float64),
        "source": source.to_numpy(dtype=object),
        "mode": mode,
        "key": key,
        "family": family,
    })
    _check_unique(out, where, line)
    return out


def _with_columns(frame: pd.DataFrame, where: str) -> tuple[pd.DataFrame, list[str]]:
    """The frame with text column names, and those names; an error naming the likely column when one is missing."""
    cols = [str(c) for c in frame.columns]
    frame = frame.set_axis(cols, axis=1)
    missing = [c for c in INDICATOR_COLUMNS if c not in cols]
    if missing:
        hints = []
        spare = [c for c in cols if c not in INDICATOR_COLUMNS]
        for name in missing:
            guess = [c for c in spare if len(c) >= 3 and name.startswith(c.lower())]
            guess += difflib.get_close_matches(name, spare, n=1, cutoff=0.6)
            guess += [c for c in spare if c.lower() in _SYNONYMS.get(name, ())]
            if guess:
                hints.append(f"rename {guess[0]!r} to {name!r}")
        hint = "; " + ", ".join(hints) if hints else ""
        raise IndicatorError(f"{where}lacks column(s) {missing}; it needs organisation, kind, value "
                             f"(optionally confidence, source). Got columns {cols}{hint}.")
    return frame, cols


def _check_kinds(kind: pd.Series, allowed_kinds: Sequence[str], where: str, line) -> None:  # type: ignore[no-untyped-def]
    """An error naming the rows whose kind is not allowed, with the closest allowed kind."""
    ok = set(allowed_kinds)
    bad = np.flatnonzero(~kind.isin(ok).to_numpy())
    if len(bad):
        first = kind.iloc[bad[0]]
        guess = difflib.get_close_matches(first, sorted(ok), n=1, cutoff=0.5)
        hint = f" (did you mean {guess[0]!r}?)" if guess else ""
        unknown = sorted(set(kind.iloc[bad]))
        raise IndicatorError(f"{where}has unknown kind(s) {unknown} in {_rows(bad, line)}{hint}; allowed kinds are the "
                             f"kinds of the observations plus ip, email and account: {sorted(ok)}.")


def _confidences(frame: pd.DataFrame, cols: list[str], where: str, line) -> pd.Series:  # type: ignore[no-untyped-def]
    """Each row's confidence (1 where not given); an error naming rows that are not a probability."""
    if "confidence" not in cols:
        return pd.Series(np.ones(len(frame)))
    raw = frame["confidence"]
    text = _text(raw)
    conf = pd.to_numeric(raw.where(text != "", np.nan), errors="coerce").astype("float64")
    not_number = np.flatnonzero((conf.isna() & (text != "")).to_numpy())
    if len(not_number):
        raise IndicatorError(f"{where}has a confidence that is not a number in {_rows(not_number, line)} "
                             f"(got {text.iloc[not_number[0]]!r}); write a number between 0 and 1, or leave it empty for 1.")
    out_of_range = np.flatnonzero(((conf < 0) | (conf > 1)).to_numpy())
    if len(out_of_range):
        raise IndicatorError(f"{where}has a confidence outside [0, 1] in {_rows(out_of_range, line)} "
                             f"(got {conf.iloc[out_of_range[0]]:g}); write a probability between 0 and 1 "
                             f"(e.g. 0.8 for 80%).")
    return conf.fillna(1.0)


def _parse_values(kinds: np.ndarray, values: np.ndarray, where: str, line,  # type: ignore[no-untyped-def]
                  notes: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each value read as its kind says: (mode, key, family); an error listing the malformed ones."""
    n = len(kinds)
    mode = np.empty(n, dtype=object)
    key = np.empty(n, dtype=object)
    family = np.empty(n, dtype=object)
    bad_rows: list[tuple[int, str]] = []
    adjusted: list[str] = []
    for k in pd.unique(kinds):  # a loop over kinds; values of one kind are parsed together
        rows_k = np.flatnonzero(kinds == k)
        parsed = [_parse(k, values[r]) for r in rows_k]
        for r, (m, kk, problem, note) in zip(rows_k, parsed):
            if problem:
                bad_rows.append((int(r), problem))
            if note:
                adjusted.append(f"{line(int(r))}: {note}")
            mode[r], key[r] = m, kk
            family[r] = "account" if k == "account" else kind_family(k)
    if bad_rows:
        shown = "; ".join(f"{line(r)}: {p}" for r, p in bad_rows[:5])
        more = f" (and {len(bad_rows) - 5} more)" if len(bad_rows) > 5 else ""
        raise IndicatorError(f"{where}has {len(bad_rows)} malformed value(s): {shown}{more}.")
    if adjusted:
        notes.append("indicators adjusted: " + "; ".join(adjusted[:5]) + (f" (and {len(adjusted) - 5} more)" if len(adjusted) > 5 else ""))
    return mode, key, family


def _check_unique(out: pd.DataFrame, where: str, line) -> None:  # type: ignore[no-untyped-def]
    """An error naming the rows that list one indicator twice (after normalisation)."""
    dup_key = out["organisation"] + "\x1f" + out["mode"] + "\x1f" + out["key"].map(str)
    dup = np.flatnonzero(dup_key.duplicated(keep=False).to_numpy())
    if len(dup):
        first = out.iloc[dup[0]]
        raise IndicatorError(f"{where}lists the same indicator more than once in {_rows(dup, line)} "
                             f"(e.g. {first['organisation']!r}, {first['kind']!r}, {first['value']!r}, after normalisation); "
                             "keep one row per organisation and value (merge their sources).")


def _load(indicators: IndicatorSource) -> tuple[pd.DataFrame, str]:
    if isinstance(indicators, pd.DataFrame):
        return indicators.reset_index(drop=True), "the indicators table "
    if isinstance(indicators, (str, os.PathLike)):
        from ..ingest import _read_file

        path = Path(os.fspath(indicators))
        try:
            frame = _read_file(path)
        except InputError as err:
            raise IndicatorError(f"cannot read the indicators: {err}") from err
        return frame.reset_index(drop=True), f"the indicators file {str(path)!r} "
    raise IndicatorError(f"indicators must be a pandas DataFrame or the path of a CSV, Parquet or JSON Lines file. "
                         f"Got {type(indicators).__name__}.")


def _line_namer(source: object):  # type: ignore[no-untyped-def]
    if isinstance(source, pd.DataFrame):
        return lambda r: f"row {r}"
    return lambda r: f"row {r} (line {r + 2})"


def _rows(rows: np.ndarray, line) -> str:  # type: ignore[no-untyped-def]
    shown = ", ".join(line(int(r)) for r in rows[:5])
    return shown + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")


def _text(column: pd.Series) -> pd.Series:
    values = np.asarray(column.astype(object).where(column.notna(), None), dtype=object)
    out = np.array(["" if v is None or (isinstance(v, float) and math.isnan(v)) else
                    (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)) for v in values], dtype=object)
    return pd.Series(out, dtype=object).str.strip()


def _parse(name: str, value: str) -> ParsedIndicator:
    """Return (mode, key, problem, note) for one indicator value, read as its kind says."""
    if name == "account":
        return "account", value, None, None
    parse = kind_of(name).parse_indicator
    return parse(value) if parse is not None else ("exact", value, None, None)
