"""Stage 2 — normalise: put each kind's values in canonical form.

Two spellings of one thing must meet in the graph and two different things
must not. Per kind:

``ip``
    IPv4 and IPv6 parsed with :mod:`ipaddress` and written canonically
    (IPv4-mapped IPv6 becomes IPv4). Also derives ``ip_prefix``: the /24
    (IPv4) or /64 (IPv6) network, a separate and weaker kind. Invalid
    addresses are counted in the report and skipped.
``email``
    Case-folded; for providers that ignore them, dots (Gmail) and ``+tags``
    are removed from the local part and ``googlemail.com`` becomes
    ``gmail.com``. Also derives ``email_domain``. Strings without a single
    ``@`` with text on both sides are counted and skipped.
``prompt``
    Raw prompt text becomes a template fingerprint of kind
    ``prompt_template`` (see :mod:`sybilgraph.templates`), so prompts that
    fill the slots of one template meet although their text never repeats.
anything else (``payment``, ``device``, ...)
    As its :class:`~sybilgraph.kinds.Kind` in :data:`sybilgraph.kinds.KINDS`
    says; a kind not registered there is opaque: matched exactly as given
    (surrounding white space removed).

Normalisation works on the distinct values of a kind, so its cost grows with
the number of distinct values, not of rows. Rows are integer codes into
tables of distinct texts (:class:`~sybilgraph.ingest.Encoded`); the common
spellings (dotted-quad IPv4, ASCII e-mail addresses) are canonicalised with
pyarrow kernels that give the same result as :func:`canonical_ip`,
:func:`ip_prefix` and :func:`canonical_email`, and everything else with those
functions themselves.
"""

from __future__ import annotations

import ipaddress
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._report import Report
from ._text import THREADS, WHITESPACE, combine_codes, compact_codes, first_of_repeats, sort_codes
from .ingest import Encoded
from .kinds import (DERIVED_FROM, DOMAIN_ALIASES, DOTLESS_DOMAINS, NETWORK_KINDS, PLUS_TAG_DOMAINS, canonical_email, canonical_ip,
                    email_domain, family, ip_prefix, kind, stands_alone)
from .settings import Settings

__all__ = ["normalise_observations", "Normalised", "canonical_ip", "canonical_email", "ip_prefix", "DERIVED_FROM", "family",
           "NETWORK_KINDS", "stands_alone"]

_STAGE = "normalise"


@dataclass(frozen=True)
class Normalised:
    """Output of :func:`normalise_observations`."""

    observations: pd.DataFrame
    """Columns ``account_id, kind, value, timestamp``; one row per distinct (account, kind, value)."""
    templates: pd.DataFrame | None
    """Prompt templates found (``template_id, representative, n_prompts, n_accounts``), or None without prompts."""


@dataclass(frozen=True)
class NormalisedCodes:
    """Output of :func:`normalise_encoded`: the normalised observations as integer codes.

    Row ``i`` is ``(accounts[account[i]], kinds[value_kind[value[i]]],
    value_text[value[i]], timestamp[i])``. Each ``(kind, text)`` pair has one
    value number, and values are numbered in sorted order of ``kind + "\\x1f" +
    text`` (the order :mod:`sybilgraph.weights` numbers them in).
    """

    account: np.ndarray
    """Account code of each row (int64), an index into :attr:`accounts`."""
    accounts: pa.Array
    """Every account of the input, sorted (large_string), including those left without rows."""
    value: np.ndarray
    """Value number of each row (int64)."""
    timestamp: np.ndarray
    """Earliest timestamp of each row's (account, kind, value) (float64, NaN when unknown)."""
    kinds: tuple[str, ...]
    """Kinds of the values, in the order of the value numbering."""
    value_kind: np.ndarray
    """Kind of each value (int64 index into :attr:`kinds`, non-decreasing)."""
    value_text: pa.Array
    """Text of each value (large_string)."""
    templates: pd.DataFrame | None
    """As :attr:`Normalised.templates`."""

    def __len__(self) -> int:
        return len(self.account)

    def to_frame(self) -> pd.DataFrame:
        """Return the rows as the ``account_id, kind, value, timestamp`` table of :class:`Normalised`."""
        kinds = pa.array(list(self.kinds), type=pa.large_string())
        acc = pa.array(self.account, type=pa.int64())
        val = pa.array(self.value, type=pa.int64())
        table = pa.table({
            "account_id": self.accounts.take(acc),
            "kind": kinds.take(pa.array(self.value_kind[self.value], type=pa.int64())),
            "value": self.value_text.take(val),
        })
        frame = table.to_pandas()
        frame["timestamp"] = self.timestamp
        return frame


def normalise_observations(obs: pd.DataFrame, settings: Settings, *, report: Report | None = None) -> Normalised:
    """Canonicalise values by kind, derive the weaker kinds and drop duplicates.

    Parameters
    ----------
    obs : DataFrame
        Output of :func:`sybilgraph.ingest.read_observations`.
    settings : Settings
        Uses ``derive_ip_prefix`` and ``derive_email_domain``.
    report : Report, optional
        Collects what was skipped.

    Returns
    -------
    Normalised
        The normalised observations (one row per distinct account, kind and
        value; ``timestamp`` is the earliest time seen) and the prompt templates.
    """
    codes = normalise_encoded(Encoded.from_frame(obs), settings, report=report)
    return Normalised(codes.to_frame(), codes.templates)


def normalise_encoded(obs: Encoded, settings: Settings, *, report: Report | None = None) -> NormalisedCodes:
    """Do what :func:`normalise_observations` does, on and to encoded observations.

    Parameters
    ----------
    obs : Encoded
        Output of :func:`sybilgraph.ingest.read_encoded`.
    settings : Settings
        Uses ``derive_ip_prefix`` and ``derive_email_domain``.
    report : Report, optional
        Collects what was skipped.

    Returns
    -------
    NormalisedCodes
        The rows :func:`normalise_observations` returns, in the same order.
    """
    report = report if report is not None else Report()
    parts: list[_Part] = []
    templates = None
    for name, group in _groups(obs):
        k = kind(name)
        if k.mined_as is not None:
            from .templates import mine_templates_encoded

            codes, texts = compact_codes(group.value, group.texts)
            row_group, group_id, templates = mine_templates_encoded(codes, texts, group.account)
            ok = row_group >= 0
            report.add(_STAGE, "prompts empty after normalisation skipped", int((~ok).sum()),
                       texts.take(pa.array(codes[~ok][:5], type=pa.int64())).to_pylist())
            parts.append(_Part(k.mined_as, group.account[ok], group.timestamp[ok], row_group[ok],
                               pa.array(group_id, type=pa.large_string())))
        elif k.canonical is not None:
            done = _by_distinct(group, name, k.canonical, report, k.invalid)
            parts.extend(done)
            for derived in k.derives:
                if (derived.setting is None or getattr(settings, derived.setting)) and len(done[-1]):
                    parts.append(_derive(done[-1], derived.kind, derived.derive))
        else:
            parts.append(group)
    return _merge(parts, obs.accounts, templates, report)


# --------------------------------------------------------------------------- parts


@dataclass(frozen=True)
class _Part:
    """Rows of one kind: account codes, timestamps and codes into a table of texts."""

    kind: str
    account: np.ndarray
    timestamp: np.ndarray
    value: np.ndarray
    texts: pa.Array
    """Texts the codes refer to; entries no code refers to may be anything (null for invalid values)."""

    def __len__(self) -> int:
        return len(self.account)


def _groups(obs: Encoded) -> Iterator[tuple[str, _Part]]:
    """Rows of each kind, in sorted order of kinds."""
    for k, kind in enumerate(obs.kinds):
        rows = np.flatnonzero(obs.kind == k)
        if len(rows):
            yield str(kind), _Part(str(kind), obs.account[rows], obs.timestamp[rows], obs.value[rows], obs.values)


def _by_distinct(
    group: _Part, kind: str, func: Callable[[str], str | None], report: Report, message: str
) -> list[_Part]:
    codes, uniques = compact_codes(group.value, group.texts)
    mapped = _map_distinct(uniques, func)
    bad = mapped.is_null().to_numpy(zero_copy_only=False)[codes]
    report.add(_STAGE, f"{message} (kind {kind!r})", int(bad.sum()),
               uniques.take(pa.array(codes[bad][:5], type=pa.int64())).to_pylist())
    ok = ~bad
    return [_Part(group.kind, group.account[ok], group.timestamp[ok], codes[ok], mapped)]


def _derive(part: _Part, kind: str, func: Callable[[str], str]) -> _Part:
    codes, uniques = compact_codes(part.value, part.texts)
    return _Part(kind, part.account, part.timestamp, codes, _map_distinct(uniques, func))


def _merge(parts: list[_Part], accounts: pa.Array, templates: pd.DataFrame | None, report: Report) -> NormalisedCodes:
    """Concatenate the parts, number the values and keep one row per (account, kind, value) with its earliest time."""
    parts = [p for p in parts if len(p)]
    by_kind: dict[str, list[int]] = {}
    for i, part in enumerate(parts):
        by_kind.setdefault(part.kind, []).append(i)
    kinds = tuple(sorted(by_kind, key=lambda k: k + "\x1f"))
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        numbered = list(pool.map(lambda kind: _number_values([parts[i] for i in by_kind[kind]]), kinds))
    numbers: list[np.ndarray] = [np.empty(0, dtype=np.int64)] * len(parts)
    offset = 0
    for kind, (codes, texts) in zip(kinds, numbered):
        for i, c in zip(by_kind[kind], codes):
            numbers[i] = c + offset
        offset += len(texts)
    n_values = offset
    account = np.concatenate([p.account for p in parts]) if parts else np.empty(0, dtype=np.int64)
    value = np.concatenate(numbers) if parts else np.empty(0, dtype=np.int64)
    ts = np.concatenate([p.timestamp for p in parts]) if parts else np.empty(0)
    n = len(account)
    repeated = first_of_repeats(combine_codes(account, len(accounts), value, n_values))
    if repeated is not None:
        # Rows that repeat an (account, kind, value) merge into its first row, which takes the earliest time.
        rows, first = repeated
        group, _ = pd.factorize(combine_codes(account[rows], len(accounts), value[rows], n_values), sort=False)
        earliest = np.full(int(group.max()) + 1, np.nan)
        np.fmin.at(earliest, group, ts[rows])
        ts = ts.copy()
        ts[rows[first]] = earliest[group[first]]
        keep = np.ones(n, dtype=bool)
        keep[rows[~first]] = False
        account, value, ts = account[keep], value[keep], ts[keep]
    report.add(_STAGE, "rows repeated a (account, kind, value) seen before after normalisation and were merged", n - len(account))
    return NormalisedCodes(
        account=account,
        accounts=accounts,
        value=value,
        timestamp=ts,
        kinds=kinds,
        value_kind=np.repeat(np.arange(len(kinds), dtype=np.int64), [len(t) for _, t in numbered]),
        value_text=pa.concat_arrays([t for _, t in numbered]) if numbered else pa.array([], type=pa.large_string()),
        templates=templates,
    )


def _number_values(parts: list[_Part]) -> tuple[list[np.ndarray], pa.Array]:
    """Number the distinct texts of parts of one kind in sorted order; return each part's numbers and the texts."""
    compacted = [compact_codes(p.value, p.texts) for p in parts]
    joined = pa.concat_arrays([t.cast(pa.large_string()) for _, t in compacted])
    code, texts = sort_codes(np.arange(len(joined)), joined)
    out = []
    start = 0
    for c, t in compacted:
        out.append(code[start:start + len(t)][c])
        start += len(t)
    return out, texts


# --------------------------------------------------------------------------- vectorised canonical forms


def _map_distinct(texts: pa.Array, func: Callable[[str], str | None]) -> pa.Array:
    """``func`` applied to every text (None becomes null), through a pyarrow version of it when there is one."""
    fast = _VECTORISED.get(func)
    if fast is not None:
        return fast(texts)
    return pa.array([func(t) for t in texts.to_pylist()], type=pa.large_string())


def _with_python(result: pa.Array, texts: pa.Array, todo: np.ndarray, func: Callable[[str], str | None]) -> pa.Array:
    """Replace ``result`` where ``todo`` by ``func`` of the text."""
    if not todo.any():
        return result
    where = np.flatnonzero(todo)
    done = [func(t) for t in texts.take(pa.array(where, type=pa.int64())).to_pylist()]
    return pc.replace_with_mask(result.cast(pa.large_string()), pa.array(todo), pa.array(done, type=pa.large_string()))


def _np(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return arr.to_numpy(zero_copy_only=False)


#: A dotted quad that ``ipaddress`` accepts (no leading zeros, octets <= 255); it is its own canonical form.
_IPV4 = r"^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$"


def _canonical_ip_general(text: str) -> str | None:
    """:func:`canonical_ip` without the IPv4 attempt that cannot succeed when the text has a colon."""
    stripped = text.strip()
    if ":" not in stripped:
        return canonical_ip(text)
    try:
        addr = ipaddress.IPv6Address(stripped)
    except ValueError:
        return None
    return str(addr.ipv4_mapped) if addr.ipv4_mapped is not None else str(addr)


#: IPv6 text made of hex digits and colons only (no embedded IPv4, no scope id): parsed with numpy.
_IPV6_HEX = r"^[0-9A-Fa-f:]{2,45}$"


def _canonical_ips(texts: pa.Array) -> pa.Array:
    quad = _np(pc.match_substring_regex(texts, _IPV4))
    hexes = _np(pc.match_substring_regex(texts, _IPV6_HEX))
    result = texts
    if hexes.any():
        where = np.flatnonzero(hexes)
        hextets, valid = _parse_ipv6(texts.take(pa.array(where, type=pa.int64())))
        mapped = valid & (hextets[:, :5] == 0).all(axis=1) & (hextets[:, 5] == 0xFFFF)
        text = _format_ipv6(hextets)
        text = pc.if_else(pa.array(mapped), _format_ipv4(hextets[:, 6:]), text)
        text = pc.if_else(pa.array(valid), text, pa.scalar(None, type=text.type))
        result = pc.replace_with_mask(texts, pa.array(hexes), text)
    return _with_python(result, texts, ~quad & ~hexes, _canonical_ip_general)


def _ip_prefixes(canonical: pa.Array) -> pa.Array:
    v4 = ~_np(pc.match_substring(canonical, ":")) & _np(pc.match_substring(canonical, "."))
    result = pc.replace_substring_regex(canonical, r"\.[^.]*$", ".0/24")
    hexes = _np(pc.match_substring_regex(canonical, _IPV6_HEX))
    if hexes.any():
        hextets, valid = _parse_ipv6(canonical.take(pa.array(np.flatnonzero(hexes), type=pa.int64())))
        hextets[:, 4:] = 0
        text = pc.binary_join_element_wise(_format_ipv6(hextets), pa.scalar("/64", type=pa.large_string()),
                                      pa.scalar("", type=pa.large_string()))
        hexes[np.flatnonzero(hexes)[~valid]] = False  # not an address: ip_prefix says so in Python
        text = text.filter(pa.array(valid))
        result = pc.replace_with_mask(result, pa.array(hexes), text)
    return _with_python(result, canonical, ~v4 & ~hexes, ip_prefix)


_NIBBLE = np.full(256, 255, dtype=np.uint16)
_NIBBLE[np.frombuffer(b"0123456789", dtype=np.uint8)] = np.arange(10)
_NIBBLE[np.frombuffer(b"abcdef", dtype=np.uint8)] = np.arange(10, 16)
_NIBBLE[np.frombuffer(b"ABCDEF", dtype=np.uint8)] = np.arange(10, 16)


def _parse_ipv6(texts: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Parse IPv6 text of hex digits and colons by the rules of ``ipaddress.IPv6Address``.

    Returns
    -------
    hextets : ndarray of shape (n, 8), int64
        The eight 16-bit groups (zeros where invalid).
    valid : ndarray of bool
        Whether ``ipaddress`` accepts the text.
    """
    n = len(texts)
    split = pc.split_pattern(texts, ":")
    offsets = _np(split.offsets).astype(np.int64)
    parts = split.flatten()
    n_parts = np.diff(offsets)
    owner = np.repeat(np.arange(n), n_parts)
    index = np.arange(len(parts)) - offsets[owner]
    length = _np(pc.binary_length(parts)).astype(np.int64)
    empty = length == 0
    lead = empty[offsets[:-1]]
    trail = empty[offsets[1:] - 1]
    inner = empty & (index >= 1) & (index <= n_parts[owner] - 2)
    n_inner = np.bincount(owner[inner], minlength=n)
    skip = np.full(n, -1, dtype=np.int64)
    skip[owner[inner]] = index[inner]
    too_long = np.bincount(owner[length > 4], minlength=n) > 0
    valid = (n_parts >= 3) & (n_parts <= 9) & (n_inner <= 1) & ~too_long
    has_skip = n_inner == 1
    # With "::": parts before it fill the high groups, parts after it the low groups ("^:" and ":$" only as "::").
    hi = np.where(has_skip, skip - lead, n_parts)
    lo = np.where(has_skip, n_parts - skip - 1 - trail, 0)
    valid &= np.where(has_skip, (hi == 0) | ~lead, True) & np.where(has_skip, (lo == n_parts - skip - 1) | (lo == 0), True)
    valid &= np.where(has_skip, 8 - (hi + lo) >= 1, (n_parts == 8) & ~lead & ~trail)
    # Hex value of every part of at most four digits.
    padded = pc.utf8_lpad(pc.if_else(pc.greater(pc.binary_length(parts), 4), "", parts), width=4, padding="0")
    padded = padded.cast(pa.large_string())
    buffers = padded.buffers()
    bounds = np.frombuffer(buffers[1], dtype=np.int64)[padded.offset:padded.offset + len(padded) + 1]
    raw = np.frombuffer(buffers[2], dtype=np.uint8)[bounds[0]:bounds[-1]] if len(padded) else np.empty(0, dtype=np.uint8)
    digits = _NIBBLE[raw.reshape(-1, 4)].astype(np.int64)  # every padded part is four ASCII characters
    number = (digits[:, 0] << 12) | (digits[:, 1] << 8) | (digits[:, 2] << 4) | digits[:, 3]
    # Target group of every part: high parts keep their index, low parts end at group 7.
    own_hi, own_skip, own_trail, own_n = hi[owner], skip[owner], trail[owner], n_parts[owner]
    target = np.where(
        has_skip[owner],
        np.where(index < own_hi, index, np.where((index > own_skip) & (index < own_n - own_trail),
                                                 8 - (own_n - own_trail - index), -1)),
        index,
    )
    use = valid[owner] & (target >= 0) & (target < 8)
    valid &= np.bincount(owner[use & ~empty & (number > 0xFFFF)], minlength=n) == 0
    hextets = np.zeros((n, 8), dtype=np.int64)
    hextets[owner[use], target[use]] = number[use]
    hextets[~valid] = 0
    return hextets, valid


_HEX_TEXT = pa.array([f"{i:x}" for i in range(65536)], type=pa.large_string())
_DEC_TEXT = pa.array([str(i) for i in range(256)], type=pa.large_string())
#: What stands for a compressed run by how many ends of the address it touches: none, one, both.
#: (Taken by index rather than built from a NumPy string array, which pyarrow < 15 cannot turn into large_string.)
_MARKER = pa.array(["", ":", "::"], type=pa.large_string())


def _format_ipv6(hextets: np.ndarray) -> pa.Array:
    """Write addresses as ``str(ipaddress.IPv6Address)`` does: lower-case hex, the longest run of zero groups (leftmost, two or more) as "::"."""
    n = len(hextets)
    zero = hextets == 0
    run = np.zeros((n, 8), dtype=np.int64)  # length of the zero run ending at each group
    for c in range(8):
        run[:, c] = np.where(zero[:, c], (run[:, c - 1] if c else 0) + 1, 0)
    best = run.max(axis=1)
    end = np.argmax(run == best[:, None], axis=1) + 1  # first (leftmost) run of the best length
    start = end - best
    compress = best > 1
    marker = _MARKER.take(pa.array((start == 0).astype(np.int64) + (end == 8)))
    cols = []
    for c in range(8):
        text = _HEX_TEXT.take(pa.array(hextets[:, c], type=pa.int64()))
        inside = compress & (c >= start) & (c < end)
        at_start = inside & (c == start)
        text = pc.if_else(pa.array(at_start), marker, text)
        text = pc.if_else(pa.array(inside & ~at_start), pa.scalar(None, type=pa.large_string()), text)
        cols.append(text)
    return pc.binary_join_element_wise(*cols, pa.scalar(":", type=pa.large_string()), null_handling="skip")


def _format_ipv4(pairs: np.ndarray) -> pa.Array:
    """Dotted quads of the last two groups of IPv4-mapped addresses."""
    octets = [pairs[:, 0] >> 8, pairs[:, 0] & 0xFF, pairs[:, 1] >> 8, pairs[:, 1] & 0xFF]
    cols = [_DEC_TEXT.take(pa.array(o, type=pa.int64())) for o in octets]
    return pc.binary_join_element_wise(*cols, pa.scalar(".", type=pa.large_string()))


_ASCII_SPACE = "[\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f ]"


def _canonical_emails(texts: pa.Array) -> pa.Array:
    """:func:`canonical_email` on every text: ASCII texts with pyarrow kernels, the rest in Python."""
    text = pc.ascii_lower(pc.utf8_trim(texts, characters=WHITESPACE))  # casefold is lower on ASCII
    parts = pc.extract_regex(text, r"(?s)^(?P<local>[^@]*)@(?P<domain>[^@]*)$")  # exactly one "@"
    local = pc.struct_field(parts, "local")
    domain = pc.struct_field(parts, "domain")
    valid = (
        parts.is_valid().to_numpy(zero_copy_only=False)
        & _np(pc.fill_null(pc.not_equal(local, ""), False))
        & _np(pc.fill_null(pc.match_substring(domain, "."), False))
        & ~_np(pc.match_substring_regex(text, _ASCII_SPACE))
    )
    domain = pc.utf8_rtrim(domain, characters=".")
    local = pc.if_else(pc.is_in(domain, value_set=pa.array(sorted(PLUS_TAG_DOMAINS))),
                       pc.replace_substring_regex(local, r"(?s)\+.*$", ""), local)
    local = pc.if_else(pc.is_in(domain, value_set=pa.array(sorted(DOTLESS_DOMAINS))), pc.replace_substring(local, ".", ""), local)
    valid &= _np(pc.fill_null(pc.not_equal(local, ""), False))
    for alias, target in DOMAIN_ALIASES.items():
        domain = pc.if_else(pc.equal(domain, alias), pa.scalar(target, type=domain.type), domain)
    joined = pc.binary_join_element_wise(local, domain, pa.scalar("@", type=domain.type))
    result = pc.if_else(pa.array(valid), joined, pa.scalar(None, type=joined.type))
    ascii_ = _np(pc.string_is_ascii(texts))
    return _with_python(result, texts, ~ascii_, canonical_email)


def _email_domains(canonical: pa.Array) -> pa.Array:
    return pc.replace_substring_regex(canonical, r"(?s)^.*@", "")


_VECTORISED: dict[Callable[..., object], Callable[[pa.Array], pa.Array]] = {
    canonical_ip: _canonical_ips,
    ip_prefix: _ip_prefixes,
    canonical_email: _canonical_emails,
    email_domain: _email_domains,
}
