"""Settings: every knob of the pipeline in one frozen, serialisable object.

A :class:`Settings` is checked once when it is made, can be saved as a dict or
JSON and loaded back, and every result remembers the settings that produced it.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, Mapping, TypedDict

from ._errors import ParameterError
from ._validation import check_choice, check_int, check_number
from .kinds import DEFAULT_WEIGHTS

if TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Unpack

__all__ = ["Settings", "SettingsOverrides", "DEFAULT_KIND_WEIGHTS"]

#: How telling one shared value of each kind is, before rarity is applied.
#: 1.0 means "sharing it is, by itself, evidence of common control". Each
#: kind's weight, and why, is in its :class:`~sybilgraph.kinds.Kind`.
DEFAULT_KIND_WEIGHTS: Mapping[str, float] = DEFAULT_WEIGHTS

#: Weight of a kind not listed in ``kind_weights``.
DEFAULT_OTHER_WEIGHT = 0.5

Objective = Literal["cpm", "modularity"]


@dataclass(frozen=True)
class Settings:
    """Every parameter of :func:`sybilgraph.cluster_accounts`.

    Parameters
    ----------
    resolution : float, default 1.0
        Leiden resolution, > 0. Higher gives more, smaller clusters. With
        ``objective="modularity"`` 1.0 is classic modularity (Newman 2006);
        with ``"cpm"`` it is the evidence per pair of accounts that two groups
        need between them to be one cluster (try 1e-4; see ``docs/concepts.md``).
    objective : {"modularity", "cpm"}, default "modularity"
        Quality function Leiden optimises on each connected component. The
        measurements behind the default are in ``docs/concepts.md``.
    modularity_floor : float, default 1000
        With ``objective="modularity"``, each component's total edge weight
        ``2m`` is taken to be at least this, >= 0. Modularity always finds
        something to split in a small component (a ring of six sharing one
        emulator image splits into its card pairs); judged as part of a graph
        of realistic size, a cohesive small ring stays whole, as it does under
        modularity on the whole input. 1000 is the evidence of a few hundred
        accounts; components larger than that are plain modularity.
    min_links : int, default 2
        Independent links an account needs into its cluster to stay in it,
        >= 1. A value *links* an account to its cluster when at least
        ``link_share`` of the value's other carriers are in the cluster; each
        distinct value is one link, except that a derived value (``ip_prefix``,
        ``email_domain``) adds nothing when a value of its source kind already
        links. One coincidence — a shared proxy exit — is not membership; two
        independent ones are a pattern. Accounts that fall short become singletons and
        name the cluster they touched in ``periphery_of``.
    link_share : float, default 0.5
        Share of a value's other carriers that must lie in the cluster for the
        value to count as a link, in (0, 1].
    strong_link : float, default 0.63
        A single link whose value weight reaches this is membership by itself,
        > 0. The default is the weight of a payment instrument shared by three
        accounts (``1 / log2(3)``): with the default kind weights a card,
        mailbox or phone shared by up to three accounts, or a device
        fingerprint shared by two, is enough alone; an IP address never is.
        ``inf`` disables it.
    exclusive_link : int, default 10
        A single value carried by at least this many accounts, most of them
        (``link_share`` of its other carriers) in the cluster's core (members
        that are there by several values or a strong one), is membership by
        itself when its kind can stand alone, >= 2: it is the cluster's
        own tooling (a team's prompt template, an emulator image), not a
        coincidence with strangers. Values of network kinds (``ip``,
        ``ip_prefix``) and derived kinds never count alone: an IP address
        that ten accounts share is an office or a proxy, not a script (see
        :func:`sybilgraph.normalise.stands_alone`).
    min_density : float, default 0.01
        Evidence per pair of accounts that must bind an account, or a tight
        group of accounts, to the rest of its cluster, >= 0. The density of a
        group ``G`` towards the rest ``R`` of its cluster is
        ``sum_v w_v * |G ∩ A_v| * |R ∩ A_v| / (|G| * |R|)``: the mean weight
        of the values that the pairs across ``G`` and ``R`` share. It measures
        *coverage*: one value of weight ``w`` that a share ``c`` of the
        cluster carries gives ``w * c``. A template sent by 4,000 accounts
        (weight 0.05) that covers the cluster gives 0.05; a proxy exit that
        a household shares with 50 of those 4,000 gives 0.001. The density
        depends only on the accounts of the cluster and the values' own
        carrier counts, never on how much unrelated data surrounds them.
    kind_weights : mapping of str to float
        Weight of one shared value of each kind before rarity; unlisted kinds
        get ``other_weight``. Defaults in :data:`DEFAULT_KIND_WEIGHTS`.
    other_weight : float, default 0.5
        Weight of kinds missing from ``kind_weights``, >= 0.
    derive_ip_prefix : bool, default True
        Add the /24 (IPv4) or /64 (IPv6) network of each IP as kind ``ip_prefix``.
    derive_email_domain : bool, default True
        Add the domain of each e-mail address as kind ``email_domain``.
    seed : int, default 0
        Seed for Leiden, >= 0. See ``docs/reproducibility.md``.
    n_iterations : int, default 2
        Leiden iterations, each from the previous partition (igraph's and
        leidenalg's default is also 2); -1 iterates until an iteration improves
        the quality by no more than ``tolerance``. On the synthetic scenarios
        (scale 1, seeds 0-4) 2 iterations and -1 give the same quality within
        the spread between seeds, and at 1M accounts iterations 3 to 5 cost 9 to
        18 s more and changed recall by 0.0001 (``docs/performance.md``).
    tolerance : float, default 1e-4
        With ``n_iterations=-1``: relative quality gain below which Leiden
        counts as converged, >= 0; 0 iterates until no gain at all (at most
        100 iterations).
    """

    resolution: float = 1.0
    objective: Objective = "modularity"
    modularity_floor: float = 1000.0
    min_links: int = 2
    link_share: float = 0.5
    strong_link: float = 0.63
    exclusive_link: int = 10
    min_density: float = 0.01
    kind_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_KIND_WEIGHTS))
    other_weight: float = DEFAULT_OTHER_WEIGHT
    derive_ip_prefix: bool = True
    derive_email_domain: bool = True
    seed: int = 0
    n_iterations: int = 2
    tolerance: float = 1e-4

    def __post_init__(self) -> None:
        func = "Settings"
        problems: list[str] = []

        def collect(check: Any, *args: Any, **kwargs: Any) -> None:
            try:
                check(*args, **kwargs)
            except ParameterError as err:
                problems.append(str(err))

        collect(check_number, self.resolution, "resolution", func, low=0, low_open=True)
        collect(check_choice, self.objective, "objective", func, ("cpm", "modularity"))
        collect(check_int, self.min_links, "min_links", func, low=1)
        collect(check_number, self.modularity_floor, "modularity_floor", func, low=0)
        collect(check_int, self.exclusive_link, "exclusive_link", func, low=2)
        collect(check_number, self.link_share, "link_share", func, low=0, high=1, low_open=True)
        collect(check_number, self.min_density, "min_density", func, low=0)
        if not (isinstance(self.strong_link, (int, float)) and float(self.strong_link) == float("inf")):
            collect(check_number, self.strong_link, "strong_link", func, low=0, low_open=True)
        collect(check_number, self.other_weight, "other_weight", func, low=0)
        collect(check_int, self.seed, "seed", func, low=0)
        collect(check_number, self.tolerance, "tolerance", func, low=0)
        if self.n_iterations != -1:
            collect(check_int, self.n_iterations, "n_iterations", func, low=1)
        for flag in ("derive_ip_prefix", "derive_email_domain"):
            if not isinstance(getattr(self, flag), bool):
                problems.append(f"The {flag!r} parameter of Settings must be a bool. Got {getattr(self, flag)!r} instead.")
        if not isinstance(self.kind_weights, Mapping):
            problems.append(f"The 'kind_weights' parameter of Settings must be a mapping of kind to weight. Got {self.kind_weights!r} instead.")
        else:
            for kind, weight in self.kind_weights.items():
                if not isinstance(kind, str) or not kind:
                    problems.append(f"The 'kind_weights' parameter of Settings must have non-empty str keys. Got {kind!r} instead.")
                collect(check_number, weight, f"kind_weights[{kind!r}]", func, low=0)
            object.__setattr__(self, "kind_weights", MappingProxyType(dict(sorted(self.kind_weights.items()))))
        if problems:
            raise ParameterError("; ".join(problems))

    def weight_of(self, kind: str) -> float:
        """Return the weight of one shared value of ``kind`` before rarity."""
        return float(self.kind_weights.get(kind, self.other_weight))

    def replace(self, **changes: Unpack[SettingsOverrides]) -> "Settings":
        """Return a copy with ``changes`` applied (and checked)."""
        return dataclasses.replace(self, **changes)

    def __reduce__(self) -> tuple[Any, ...]:
        # The read-only view of kind_weights cannot be pickled; rebuild through the checked constructor,
        # so results pickle (multiprocessing, joblib, notebooks) and copy.deepcopy works.
        return (type(self).from_dict, (self.to_dict(),))

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as a plain, JSON-serialisable dict."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["kind_weights"] = dict(self.kind_weights)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Settings":
        """Build settings from :meth:`to_dict` output; unknown keys are an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ParameterError(f"Unknown settings {unknown}; known settings are {sorted(names)}.")
        return cls(**dict(data))

    def to_json(self) -> str:
        """Return the settings as a JSON string."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Settings":
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(text))


class SettingsOverrides(TypedDict, total=False):
    """The fields of :class:`Settings` as keyword arguments, for type checkers and editors.

    ``cluster_accounts(obs, resolutoin=0.5)`` is a type error, not only a run-time
    one. Each key is a :class:`Settings` field of the same type (a test keeps the two
    equal); the meaning and range of each is in :class:`Settings`.
    """

    resolution: float
    objective: Objective
    modularity_floor: float
    min_links: int
    link_share: float
    strong_link: float
    exclusive_link: int
    min_density: float
    kind_weights: Mapping[str, float]
    other_weight: float
    derive_ip_prefix: bool
    derive_email_domain: bool
    seed: int
    n_iterations: int
    tolerance: float
