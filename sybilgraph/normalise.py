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
    Opaque: matched exactly as given (surrounding white space removed).

Normalisation works on the distinct values of a kind, so its cost grows with
the number of distinct values, not of rows.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from ._report import Report
from .settings import Settings

__all__ = ["normalise_observations", "Normalised", "canonical_ip", "canonical_email", "ip_prefix", "DERIVED_FROM", "family"]

#: Kinds derived here from another kind. A derived value is not independent
#: evidence from its source, so both belong to one *family* when links are counted.
DERIVED_FROM = {"ip_prefix": "ip", "email_domain": "email"}


def family(kind: str) -> str:
    """Return the family of a kind: its source for derived kinds, else the kind itself.

    Examples
    --------
    >>> family("ip_prefix"), family("payment")
    ('ip', 'payment')
    """
    return DERIVED_FROM.get(kind, kind)

_STAGE = "normalise"

#: Providers that deliver ``local+tag@domain`` to ``local@domain``.
PLUS_TAG_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
        "icloud.com", "me.com", "mac.com", "fastmail.com", "fastmail.fm", "proton.me",
        "protonmail.com", "pm.me", "yandex.com", "yandex.ru", "zoho.com",
    }
)
#: Providers that ignore dots in the local part.
DOTLESS_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
_DOMAIN_ALIASES = {"googlemail.com": "gmail.com"}


@dataclass(frozen=True)
class Normalised:
    """Output of :func:`normalise_observations`."""

    observations: pd.DataFrame
    """Columns ``account_id, kind, value, timestamp``; one row per distinct (account, kind, value)."""
    templates: pd.DataFrame | None
    """Prompt templates found (``template_id, representative, n_prompts, n_accounts``), or None without prompts."""


def canonical_ip(text: str) -> str | None:
    """Return the canonical spelling of an IP address, or None when it is not one.

    Examples
    --------
    >>> canonical_ip("2001:DB8:0:0::1"), canonical_ip("::ffff:10.0.0.1"), canonical_ip("300.1.1.1")
    ('2001:db8::1', '10.0.0.1', None)
    """
    try:
        addr = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return str(addr)


def ip_prefix(canonical: str) -> str:
    """Return the /24 (IPv4) or /64 (IPv6) network of a canonical address.

    Examples
    --------
    >>> ip_prefix("203.0.113.7"), ip_prefix("2001:db8::1")
    ('203.0.113.0/24', '2001:db8::/64')
    """
    if ":" in canonical:
        return str(ipaddress.IPv6Network(canonical + "/64", strict=False))
    head = canonical.rsplit(".", 1)[0]
    return head + ".0/24"


def canonical_email(text: str) -> str | None:
    """Return the canonical form of an e-mail address, or None when it is not one.

    Examples
    --------
    >>> canonical_email(" J.Doe+spam@GoogleMail.com "), canonical_email("Ann+x@example.org")
    ('jdoe@gmail.com', 'ann+x@example.org')
    >>> canonical_email("not-an-address") is None
    True
    """
    text = text.strip().casefold()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain or "@" in local or any(c.isspace() for c in text) or "." not in domain:
        return None
    domain = domain.rstrip(".")
    if domain in PLUS_TAG_DOMAINS:
        local = local.split("+", 1)[0]
    if domain in DOTLESS_DOMAINS:
        local = local.replace(".", "")
    if not local:
        return None
    return f"{local}@{_DOMAIN_ALIASES.get(domain, domain)}"


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
    report = report if report is not None else Report()
    parts: list[pd.DataFrame] = []
    templates = None
    for kind, group in obs.groupby("kind", sort=True):
        kind = str(kind)
        if kind == "ip":
            parts.extend(_by_distinct(group, "ip", canonical_ip, report, "invalid IP addresses skipped"))
            if settings.derive_ip_prefix and len(parts[-1]):
                parts.append(_derive(parts[-1], "ip_prefix", ip_prefix))
        elif kind == "email":
            parts.extend(_by_distinct(group, "email", canonical_email, report, "invalid e-mail addresses skipped"))
            if settings.derive_email_domain and len(parts[-1]):
                parts.append(_derive(parts[-1], "email_domain", lambda e: e.rpartition("@")[2]))
        elif kind == "prompt":
            from .templates import mine_templates

            mined = mine_templates(group["value"].to_numpy(dtype=object), group["account_id"].to_numpy(dtype=object))
            templates = mined.table
            parts.append(group.assign(kind="prompt_template", value=np.asarray(mined.template_ids, dtype=object)))
        else:
            parts.append(group)
    out = pd.concat(parts, ignore_index=True) if parts else obs.iloc[:0]
    n = len(out)
    out = out.groupby(["account_id", "kind", "value"], sort=False, as_index=False)["timestamp"].min()
    report.add(_STAGE, "rows repeated a (account, kind, value) seen before after normalisation and were merged", n - len(out))
    return Normalised(out[["account_id", "kind", "value", "timestamp"]], templates)


def _by_distinct(
    group: pd.DataFrame, kind: str, func: Callable[[str], str | None], report: Report, message: str
) -> list[pd.DataFrame]:
    codes, uniques = pd.factorize(group["value"], sort=False)
    mapped = np.array([func(u) for u in uniques], dtype=object)
    values = mapped[codes]
    bad = pd.isna(values)
    report.add(_STAGE, f"{message} (kind {kind!r})", int(bad.sum()), group["value"].to_numpy()[bad][:5])
    return [group.loc[~bad].assign(value=values[~bad])]


def _derive(part: pd.DataFrame, kind: str, func: Callable[[str], str]) -> pd.DataFrame:
    codes, uniques = pd.factorize(part["value"], sort=False)
    mapped = np.array([func(u) for u in uniques], dtype=object)
    return part.assign(kind=kind, value=mapped[codes])
