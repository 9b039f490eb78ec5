"""A saved model and incremental assignment: new accounts placed between full runs, without Leiden.

:func:`build_model` keeps what a full run knew (every account's cluster, every
value's carrier count, which cluster holds most of each value's carriers and
how many of those are in the cluster's core, the settings);
:meth:`Model.save` writes it as JSON and Parquet files with a manifest of
SHA-256 digests; :func:`load_model` reads it back and never executes anything
from the files (no pickle); :meth:`Model.assign` places the accounts of new
observations.

The rule is the one a singleton meets to join a cluster in a full run
(:mod:`sybilgraph.cluster`, "singletons join the cluster they earn a place
in"): each value points at the cluster holding most of its carriers; it
*links* the account there when that cluster holds at least ``link_share`` of
the value's other carriers; the account joins when ``min_links`` independent
links (counted by :func:`sybilgraph.cluster._link_counts`, so an
``ip_prefix`` adds nothing to an ``ip`` and derived values never bind alone),
one strong link, or one value of a kind that stands alone carried by
``exclusive_link`` accounts or more, mostly in the cluster's core, bind it;
and its evidence per member of the cluster reaches ``min_density``. A value's
carrier count is the saved one plus the new carriers in the batch, and its
weight is recomputed from it, so a value that the batch makes popular weighs
less. What the saved clusters hold is not updated by the batch, so every new
account is judged against the same clusters and the answer does not depend
on the order of the rows or on how the batch was cut.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ._arrays import concatenated_ranges
from ._errors import InputError, ModelError
from ._report import Report
from .ingest import Encoded, Source, read_encoded
from .normalise import DERIVED_FROM, family, normalise_encoded, stands_alone
from .settings import Settings
from .weights import rarity

__all__ = ["Model", "Drift", "Assignment", "build_model", "load_model", "stage_model", "FORMAT_VERSION"]

#: Version of the files a model is saved as; a model of another version is refused.
FORMAT_VERSION = 1
_FORMAT = "sybilgraph-model"
_FILES = ("settings.json", "meta.json", "accounts.parquet", "values.parquet", "edges.parquet", "constraints.parquet",
          "templates.parquet")
_SEP = "\x1f"

#: Values carried by more accounts than this are left out when accounts left alone form new groups.
GROUP_VALUE_CAP = 100


@dataclass(frozen=True)
class Drift:
    """How far a batch of new observations is from what the model was built on.

    ``full_run_due`` is set when any share passes its limit (the limits are
    parameters of :meth:`Model.assign`); ``reasons`` says which.
    """

    new_accounts: int
    """Accounts of the batch the model has never seen."""
    new_account_share: float
    """``new_accounts`` over the model's accounts."""
    unseen_value_share: float
    """Share of the batch's distinct values the model has never seen."""
    unseen_group_share: float
    """Share of the new accounts that share a value the model has never seen with another account of the batch:
    they may form a cluster that only a full run can find."""
    changed_share: float
    """Share of the batch's known accounts whose cluster changed (a singleton that joined, a constraint)."""
    full_run_due: bool
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        head = "a full run is due: " + "; ".join(self.reasons) if self.full_run_due else "no full run due yet"
        return (f"{self.new_accounts:,} new accounts ({self.new_account_share:.1%} of the model), "
                f"{self.unseen_value_share:.1%} of values unseen, {self.unseen_group_share:.1%} of new accounts "
                f"share unseen values, {self.changed_share:.1%} of known accounts changed cluster; {head}")


@dataclass(frozen=True)
class Assignment:
    """What :meth:`Model.assign` did with a batch."""

    assignments: pd.DataFrame
    """One row per account of the batch: ``account_id, cluster_id, status, links, evidence``. ``cluster_id``
    (nullable Int64) is empty for a new account left alone (it gets an id at the next full run). ``status`` is
    ``member`` (known, kept its cluster), ``joined`` (placed by the membership rule), ``must`` (placed by a
    ``must`` constraint), ``separated`` (a ``cannot`` constraint kept it out), ``new_group`` (formed a new group
    with other accounts left alone; ``new_group`` numbers the groups of the batch, ``cluster_id`` is the id of the
    group's one saved account, if it has exactly one), or ``singleton``."""
    drift: Drift
    report: Report
    """What was skipped while reading and normalising the batch, and the constraints that contradict it."""
    seconds: float = 0.0


@dataclass(frozen=True, eq=False)
class _Round:
    """One learning round of the template miner: its templates' shingles and their ids."""

    features: np.ndarray
    """Sorted uint32 shingle hashes that belong to a template."""
    cluster: np.ndarray
    """Template (0..n-1) of each shingle (int64)."""
    weight: np.ndarray
    """Weight of each shingle (int32)."""
    size: np.ndarray
    """Weight of each template (int64)."""
    ids: np.ndarray
    """Template id of each template (object; None: the run gave no text this template)."""


@dataclass(frozen=True, eq=False)
class Model:
    """What a full run knew, enough to place new accounts by the membership rule (see the module docstring)."""

    settings: Settings
    accounts: np.ndarray
    """Account ids (object array of str), sorted."""
    cluster: np.ndarray
    """Cluster id of each account (int64), as in the run's assignments."""
    value_kind: np.ndarray
    """Kind of each value (object array of str)."""
    value_text: np.ndarray
    """Text of each value (object array of str)."""
    degree: np.ndarray
    """Accounts carrying each value in the run (int64)."""
    top_cluster: np.ndarray
    """Cluster id (of 2+ accounts) holding most of each value's carriers; -1 when none (int64)."""
    top_carriers: np.ndarray
    """Carriers of each value in that cluster (int64)."""
    top_core: np.ndarray
    """Of those, the ones in the cluster's core (int64)."""
    edge_account: np.ndarray
    """Account index of each (account, value) pair of the run (int64), sorted by account."""
    edge_value: np.ndarray
    """Value index of each pair (int64)."""
    constraints: pd.DataFrame
    """Analyst constraints ``account_a, account_b, relation`` stored with the model."""
    meta: dict[str, Any] = field(default_factory=dict)
    """``run``, ``next_id``, ``library_version``, ``format_version``, ``templates`` (whether prompt templates are kept)."""
    template_rounds: tuple[_Round, ...] = ()
    """The prompt templates of the run, one entry per learning round of :mod:`sybilgraph.templates`."""

    # ------------------------------------------------------------------ lookups (built once, lazily)

    @property
    def _account_index(self) -> pd.Index:
        return self._cached("account_index", lambda: pd.Index(self.accounts))

    @property
    def _value_index(self) -> pd.Index:
        return self._cached("value_index", lambda: pd.Index(_keys(self.value_kind, self.value_text)))

    @property
    def _indptr(self) -> np.ndarray:
        def make() -> np.ndarray:
            indptr = np.zeros(len(self.accounts) + 1, dtype=np.int64)
            np.cumsum(np.bincount(self.edge_account, minlength=len(self.accounts)), out=indptr[1:])
            return indptr
        return self._cached("indptr", make)

    @property
    def _by_value(self) -> tuple[np.ndarray, np.ndarray]:
        """Edges ordered by value, and where each value's edges start."""
        def make() -> tuple[np.ndarray, np.ndarray]:
            order = np.argsort(self.edge_value, kind="stable")
            ptr = np.zeros(len(self.value_text) + 1, dtype=np.int64)
            np.cumsum(np.bincount(self.edge_value, minlength=len(self.value_text)), out=ptr[1:])
            return order, ptr
        return self._cached("by_value", make)

    @property
    def _cluster_size(self) -> pd.Series:
        return self._cached("cluster_size", lambda: pd.Series(self.cluster).value_counts())

    def _cached(self, name: str, make: Any) -> Any:
        cache = self.__dict__.setdefault("_cache", {})
        if name not in cache:
            cache[name] = make()
        return cache[name]

    def __repr__(self) -> str:
        sizes = self._cluster_size
        return (f"<Model: {len(self.accounts):,} accounts, {int((sizes >= 2).sum()):,} clusters of 2+, "
                f"{len(self.value_text):,} values, run {self.meta.get('run', 0)}>")

    # ------------------------------------------------------------------ save

    def save(self, directory: str | os.PathLike[str]) -> None:
        """Write the model into ``directory`` (created if missing), all files or none.

        Files: ``manifest.json`` (format, format version, library version and
        the SHA-256 of every other file), ``settings.json``, ``meta.json`` and
        Parquet tables ``accounts``, ``values``, ``edges``, ``constraints``.
        Nothing is pickled: loading never runs code from the files.
        """
        from ._write import staged_writes

        with staged_writes() as out:
            stage_model(self, directory, out)

    # ------------------------------------------------------------------ assign

    def assign(
        self,
        observations: Source,
        *,
        account_col: str = "account_id",
        kind_col: str = "kind",
        value_col: str = "value",
        timestamp_col: str | None = "timestamp",
        constraints: pd.DataFrame | str | os.PathLike[str] | None = None,
        max_new_share: float = 0.10,
        max_unseen_group_share: float = 0.05,
        max_changed_share: float = 0.05,
        new_groups: bool = True,
    ) -> Assignment:
        """Place the accounts of new observations into the model's clusters, without Leiden.

        Parameters
        ----------
        observations : DataFrame or path
            New observations ``account_id, kind, value[, timestamp]``: of new
            accounts, and new ones of known accounts.
        account_col, kind_col, value_col, timestamp_col : str
            Column names.
        constraints : DataFrame or path, optional
            More analyst constraints, on top of those stored in the model.
        max_new_share, max_unseen_group_share, max_changed_share : float
            Limits of :class:`Drift` beyond which a full run is due: new
            accounts over the model's accounts (0.10), new accounts that share
            unseen values with each other over new accounts (0.05), known
            accounts whose cluster changed over known accounts (0.05).
        new_groups : bool, default True
            Let the accounts left alone form new groups among themselves and
            with saved singletons, through values no saved cluster of 2+
            carries (a new household, a new ring): the pipeline runs on just
            those accounts and values (see Notes).

        Returns
        -------
        Assignment

        Notes
        -----
        Known members of clusters of 2+ keep their cluster (their new values
        are counted in the carrier counts); known singletons and new accounts
        are judged by the joining rule of the module docstring with all their
        values, old and new. The cost is that of reading and normalising the
        batch plus a hash look-up per distinct value and account; building
        the look-up tables costs one pass over the model, once per loaded
        model. Prompts are mined into templates *within the batch*; a
        template id of the batch matches the model's only when its
        representative text is the same, so new paraphrases of a known
        template count as unseen values (see ``docs/daily-runs.md``).

        New groups: the accounts still alone, the values they carry that no
        saved cluster of 2+ carries (carried by at most
        :data:`GROUP_VALUE_CAP` accounts; unseen values shared within the
        batch), and the saved singletons that carry those values go through
        :func:`sybilgraph.cluster_accounts` on their own. A group with exactly
        one saved account takes that account's id (a full run with
        ``previous=`` does the same: the account is all the group's returning
        accounts); other groups have no id until the next full run and are
        told apart by ``new_group``. Saved singletons outside the batch that
        join a group are added to the output. Leiden runs here, but only on
        the residue of the batch.
        """
        import time

        from .runs import honour_constraints_assign, read_constraints

        from ._validation import check_number

        for name, limit in (("max_new_share", max_new_share), ("max_unseen_group_share", max_unseen_group_share),
                            ("max_changed_share", max_changed_share)):
            check_number(limit, name, "Model.assign", low=0)
        start = time.perf_counter()
        report = Report()
        accounts, kinds, b_kind, b_text, b_kind_code, keys, ra, rv = self._read_batch(
            observations, report, account_col=account_col, kind_col=kind_col, value_col=value_col,
            timestamp_col=timestamp_col)
        n_acc = len(accounts)
        vm = self._value_index.get_indexer(pd.Index(keys))  # model value of each batch value, -1 unseen
        am = self._account_index.get_indexer(pd.Index(accounts))  # model account of each batch account, -1 new
        n_val_model = max(len(self.value_text), 1)
        new_carriers = self._new_carriers(am, vm, ra, rv, len(b_text))
        sizes = self._cluster_size
        # Accounts to place: new ones and known singletons.
        known_cluster = np.where(am >= 0, self.cluster[np.maximum(am, 0)] if len(self.cluster) else -1, -1)
        known_size = np.where(am >= 0, sizes.reindex(known_cluster).fillna(0).to_numpy(dtype=np.int64), 0)
        placeable = (am < 0) | (known_size < 2)
        # Their edges: the batch rows, and for known singletons their saved values.
        src = ra[placeable[ra] & (vm[rv] >= 0)]
        val = vm[rv[placeable[ra] & (vm[rv] >= 0)]]
        deg_extra = pd.Series(new_carriers[vm >= 0], index=vm[vm >= 0])
        old = np.flatnonzero(placeable & (am >= 0))
        if len(old):
            starts, ends = self._indptr[am[old]], self._indptr[am[old] + 1]
            lens = ends - starts
            idx = concatenated_ranges(starts, lens)
            src = np.concatenate((src, np.repeat(old, lens)))
            val = np.concatenate((val, self.edge_value[idx]))
            pair = pd.Index(src * n_val_model + val)
            keep = ~pair.duplicated()
            src, val = src[keep], val[keep]
        degree = self.degree[val] + deg_extra.reindex(val).fillna(0).to_numpy(dtype=np.int64)
        target, links, evidence, by_rule = self._join(src, val, degree, n_acc, sizes)
        cluster = np.where(placeable, -1, known_cluster)
        status = np.where(placeable, "singleton", "member").astype(object)
        joined = placeable & (target >= 0)
        cluster[joined] = target[joined]
        status[joined] = "joined"
        keep_single = placeable & (am >= 0) & ~joined
        cluster[keep_single] = known_cluster[keep_single]
        group = np.full(n_acc, -1, dtype=np.int64)
        outside = pd.DataFrame({"account_id": pd.Series([], dtype=object), "cluster_id": pd.array([], dtype="Int64"),
                                "new_group": pd.array([], dtype="Int64")})
        if new_groups:
            found = self._new_groups(accounts, status == "singleton", am, ra, rv, vm, b_kind, b_text, src, val, degree)
            if found is not None:
                group, group_cluster, outside = found
                grouped = group >= 0
                status[grouped] = "new_group"
                cluster[grouped] = group_cluster[grouped]
        stored = self.constraints
        extra = read_constraints(constraints) if constraints is not None else None
        both = pd.concat([stored, extra], ignore_index=True) if extra is not None else stored
        if len(both):
            cluster, status = honour_constraints_assign(accounts, cluster, status, both, self, report)
        drift = self._drift(am, vm, ra, rv, kinds[b_kind_code], group, cluster, known_cluster, len(outside),
                            (max_new_share, max_unseen_group_share, max_changed_share))
        frame = _assignment_frame(accounts, cluster, status, links, evidence, group, outside)
        report.add("assign", "saved singletons outside the batch formed a new group with accounts of the batch and "
                   "were added to the output", len(outside))
        report.add("assign", "accounts of the batch joined a cluster by the membership rule", int(joined.sum()))
        return Assignment(frame, drift, report, time.perf_counter() - start)

    def _read_batch(self, observations: Source, report: Report, **columns: Any) -> tuple[np.ndarray, ...]:
        """A batch's rows as distinct (account, value) pairs over the batch's distinct values.

        Returns accounts, kinds, each value's kind and text, kind code and
        look-up key, and the rows' account and value codes. Prompts are
        matched against the run's templates, not mined again within the batch.
        """
        enc = read_encoded(observations, report=report, **columns)
        p_acc = np.zeros(0, dtype=np.int64)
        p_ids = np.zeros(0, dtype=object)
        if self.meta.get("templates") and "prompt" in enc.kinds:
            # Prompts are matched against the run's templates, not mined again within the batch.
            is_p = enc.kind == enc.kinds.index("prompt")
            p_acc, p_ids = enc.account[is_p], self._prompt_ids(enc.value[is_p], enc.values)
            report.add("normalise", "prompts empty after normalisation skipped", int(sum(i is None for i in p_ids)))
            ok = np.array([i is not None for i in p_ids], dtype=bool)
            p_acc, p_ids = p_acc[ok], p_ids[ok]
            enc = Encoded(enc.account[~is_p], enc.accounts, enc.kind[~is_p], enc.kinds, enc.value[~is_p], enc.values,
                          enc.timestamp[~is_p])
        norm = normalise_encoded(enc, self.settings, report=report)
        accounts = enc.accounts.to_numpy(zero_copy_only=False).astype(object, copy=False)
        del enc
        kinds = np.array(list(norm.kinds) + ["prompt_template"], dtype=object)
        b_kind = np.concatenate((kinds[norm.value_kind], np.full(len(p_ids), "prompt_template", dtype=object)))
        b_text = np.concatenate((norm.value_text.to_numpy(zero_copy_only=False).astype(object, copy=False), p_ids))
        b_kind_code = np.concatenate((norm.value_kind, np.full(len(p_ids), len(kinds) - 1, dtype=np.int64)))
        ra = np.concatenate((norm.account.astype(np.int64), p_acc.astype(np.int64)))
        rv = np.concatenate((norm.value.astype(np.int64), len(norm.value_text) + np.arange(len(p_ids))))
        keys = _keys(b_kind, b_text)
        code = pd.factorize(keys)[0]
        _, first = np.unique(code, return_index=True)
        b_kind, b_text, b_kind_code, keys = b_kind[first], b_text[first], b_kind_code[first], keys[first]
        rv = code[rv]
        pair = pd.Index(ra * max(len(first), 1) + rv)
        once = ~pair.duplicated()
        ra, rv = ra[once], rv[once]
        return accounts, kinds, b_kind, b_text, b_kind_code, keys, ra, rv

    def _new_carriers(self, am: np.ndarray, vm: np.ndarray, ra: np.ndarray, rv: np.ndarray, n_values: int) -> np.ndarray:
        """Carriers each batch value gains: a row counts unless the model already has that account carrying it."""
        n_val_model = max(len(self.value_text), 1)
        known_pair = (am[ra] >= 0) & (vm[rv] >= 0)
        fresh_row = np.ones(len(ra), dtype=bool)
        if known_pair.any():
            ekey = self.edge_account * n_val_model + self.edge_value  # sorted: edges are sorted by (account, value)
            q = am[ra[known_pair]] * n_val_model + vm[rv[known_pair]]
            pos = np.minimum(np.searchsorted(ekey, q), max(len(ekey) - 1, 0))
            fresh_row[np.flatnonzero(known_pair)] = ~(ekey[pos] == q) if len(ekey) else True
        return np.bincount(rv[fresh_row], minlength=n_values)

    def _drift(self, am: np.ndarray, vm: np.ndarray, ra: np.ndarray, rv: np.ndarray, value_kind: np.ndarray,
               group: np.ndarray, cluster: np.ndarray, known_cluster: np.ndarray, n_outside: int,
               limits: tuple[float, float, float]) -> Drift:
        """How far a batch has moved from the model (see :class:`Drift`), and whether a full run is due."""
        max_new_share, max_unseen_group_share, max_changed_share = limits
        new = am < 0
        n_new = int(new.sum())
        unseen = vm < 0
        batch_deg = np.bincount(rv, minlength=len(value_kind))
        names, of_value = np.unique(value_kind.astype(str), return_inverse=True)
        weight = np.array([self.settings.weight_of(k) for k in names], dtype=np.float64)[of_value.reshape(-1)]
        linking_unseen = unseen & (batch_deg >= 2) & (weight > 0)
        in_group = np.zeros(len(am), dtype=bool)
        in_group[ra[linking_unseen[rv]]] = True
        in_group |= group >= 0
        known = ~new
        changed = known & (cluster != known_cluster)
        shares = dict(
            new_account_share=n_new / max(len(self.accounts), 1),
            unseen_value_share=float(unseen.mean()) if len(unseen) else 0.0,
            unseen_group_share=float((in_group & new).sum()) / max(n_new, 1),
            changed_share=float(changed.sum() + n_outside) / max(int(known.sum()) + n_outside, 1),
        )
        reasons = []
        if shares["new_account_share"] > max_new_share:
            reasons.append(f"{shares['new_account_share']:.1%} new accounts > {max_new_share:.0%}")
        if shares["unseen_group_share"] > max_unseen_group_share:
            reasons.append(f"{shares['unseen_group_share']:.1%} of new accounts share unseen values > "
                           f"{max_unseen_group_share:.0%}")
        if shares["changed_share"] > max_changed_share:
            reasons.append(f"{shares['changed_share']:.1%} of known accounts changed cluster > {max_changed_share:.0%}")
        return Drift(new_accounts=n_new, full_run_due=bool(reasons), reasons=tuple(reasons), **shares)

    def _new_groups(self, accounts: np.ndarray, alone: np.ndarray, am: np.ndarray, ra: np.ndarray, rv: np.ndarray,
                    vm: np.ndarray, b_kind: np.ndarray, b_text: np.ndarray, src: np.ndarray, val: np.ndarray,
                    degree: np.ndarray) -> tuple[np.ndarray, np.ndarray, pd.DataFrame] | None:
        """Groups formed by the accounts left alone (see Notes of :meth:`assign`), or None."""
        if not alone.any():
            return None
        ok = alone[src] & (self.top_cluster[val] < 0) & (degree >= 2) & (degree <= GROUP_VALUE_CAP)
        k_src, k_val = src[ok], val[ok]
        batch_deg = np.bincount(rv, minlength=len(b_text))
        u_ok = alone[ra] & (vm[rv] < 0) & (batch_deg[rv] >= 2) & (batch_deg[rv] <= GROUP_VALUE_CAP)
        u_src, u_val = ra[u_ok], rv[u_ok]
        # The saved carriers of those values (all singletons: no cluster of 2+ carries them), outside the batch.
        vals = np.unique(k_val)
        order, ptr = self._by_value
        starts = ptr[vals]
        lens = ptr[vals + 1] - starts
        idx = np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(int(lens.sum()))
        c_acc, c_val = self.edge_account[order[idx]], np.repeat(vals, lens)
        out = ~np.isin(c_acc, am[am >= 0])
        c_acc, c_val = c_acc[out], c_val[out]
        sub = pd.DataFrame({
            "account_id": np.concatenate((accounts[k_src], accounts[u_src], self.accounts[c_acc])),
            "kind": np.concatenate((self.value_kind[k_val], b_kind[u_val], self.value_kind[c_val])),
            "value": np.concatenate((self.value_text[k_val], b_text[u_val], self.value_text[c_val])),
        })
        shared = sub.groupby(["kind", "value"], sort=False)["account_id"].transform("size") >= 2
        sub = sub[shared.to_numpy()]
        if sub.empty:
            return None
        # Two filler accounts with values of their own, so no value is "carried by every account" of this small input.
        names = sub["account_id"]
        taken = set(names[names.str.startswith("\x00filler-")].tolist())
        fillers = [f"\x00filler-{i}" for i in range(len(taken) + 2) if f"\x00filler-{i}" not in taken][:2]
        sub = pd.concat([sub, pd.DataFrame({"account_id": fillers, "kind": ["filler"] * 2, "value": fillers})],
                        ignore_index=True)
        settings = self.settings.replace(derive_ip_prefix=False, derive_email_domain=False)
        res = _pipeline_clusters(sub, settings)
        res = res[(res["cluster_size"] >= 2) & ~res["account_id"].isin(fillers)]
        if res.empty:
            return None
        # Number the groups by their smallest account id; a group with one saved account takes its id.
        first = res.groupby("cluster_id")["account_id"].transform("min")
        label = pd.factorize(first, sort=True)[0].astype(np.int64)
        m_idx = self._account_index.get_indexer(pd.Index(res["account_id"].to_numpy(dtype=object)))
        saved = pd.Series(m_idx >= 0).groupby(label).transform("sum").to_numpy()
        one_id = pd.Series(np.where(m_idx >= 0, self.cluster[np.maximum(m_idx, 0)], -1)).groupby(label).transform("max")
        gid = np.where(saved == 1, one_id.to_numpy(), -1)
        b_idx = pd.Index(accounts).get_indexer(pd.Index(res["account_id"].to_numpy(dtype=object)))
        group = np.full(len(accounts), -1, dtype=np.int64)
        group_cluster = np.full(len(accounts), -1, dtype=np.int64)
        inb = b_idx >= 0
        group[b_idx[inb]] = label[inb]
        group_cluster[b_idx[inb]] = gid[inb]
        outside = pd.DataFrame({"account_id": res["account_id"].to_numpy(dtype=object)[~inb],
                                "cluster_id": pd.array(np.where(gid[~inb] >= 0, gid[~inb], 0), dtype="Int64"),
                                "new_group": pd.array(label[~inb], dtype="Int64")})
        outside.loc[gid[~inb] < 0, "cluster_id"] = pd.NA
        return group, group_cluster, outside

    def _prompt_ids(self, codes: np.ndarray, texts: pa.Array) -> np.ndarray:
        """Template id of each prompt row by the run's templates (None: empty after normalisation).

        Each learning round's templates are tried in turn, as the miner does;
        a prompt that fits none gets the id of its own normalised text, as it
        would in a full run if no other text joined it.
        """
        from .ingest import compact_codes
        from .templates import _CHUNK, _assign, _Model, _normalise_chunk, _shingles, _template_id

        codes, uniq = compact_codes(codes, texts)
        n = len(uniq)
        if n == 0:
            return np.zeros(0, dtype=object)
        norm_all = pa.concat_arrays([_normalise_chunk(uniq[lo:lo + _CHUNK]) for lo in range(0, n, _CHUNK)])
        # Texts that normalise alike get the same id: shingle and match each normalised text once.
        enc = pc.dictionary_encode(norm_all)
        of_norm = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        norm = enc.dictionary
        codes = of_norm[codes]
        n = len(norm)
        texts_norm = norm.to_numpy(zero_copy_only=False).astype(object)
        ids = np.full(n, None, dtype=object)
        todo = texts_norm != ""
        features, doc = _shingles(norm)
        threshold = float(self.meta.get("template_threshold", 0.4))
        for rd in self.template_rounds:
            if not todo.any():
                break
            if all(i is None for i in rd.ids):
                continue  # the run assigned no text in this round
            docs = np.flatnonzero(todo)
            local = np.full(n, -1, dtype=np.int64)
            local[docs] = np.arange(len(docs))
            sel = todo[doc]
            model = _Model(rd.features, rd.cluster, rd.size, np.zeros(0, dtype=np.uint32), rd.weight)
            got, _ = _assign(features[sel], local[doc[sel]], len(docs), model, threshold)
            hit = got >= 0
            ids[docs[hit]] = rd.ids[got[hit]]
            todo[docs[hit]] = False
        fallback = np.flatnonzero((ids == None) & (texts_norm != ""))  # noqa: E711 - elementwise
        ids[fallback] = [_template_id(t) for t in texts_norm[fallback]]
        return ids[codes]

    def _join(self, src: np.ndarray, val: np.ndarray, degree: np.ndarray, n_acc: int,
              sizes: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The joining rule on the edges (``src`` batch account, ``val`` model value, ``degree`` carriers now)."""
        from .cluster import _link_counts

        s = self.settings
        target = np.full(n_acc, -1, dtype=np.int64)
        links = np.zeros(n_acc, dtype=np.int64)
        evidence = np.zeros(n_acc, dtype=np.float64)
        by_rule = np.zeros(n_acc, dtype=bool)
        top = self.top_cluster[val]
        has = (top >= 0) & (degree >= 2)
        src, val, degree, top = src[has], val[has], degree[has], top[has]
        if not len(src):
            return target, links, evidence, by_rule
        m, m_core = self.top_carriers[val], self.top_core[val]
        t_ids, t_code = np.unique(top, return_inverse=True)
        t_code = t_code.reshape(-1)
        t_size = sizes.reindex(t_ids).fillna(0).to_numpy(dtype=np.int64)
        size = t_size[t_code]
        usable = size >= s.link_share * (degree - 1)
        src, val, degree, t_code, m, m_core, size = (x[usable] for x in (src, val, degree, t_code, m, m_core, size))
        if not len(src):
            return target, links, evidence, by_rule
        v_ids, node = np.unique(val, return_inverse=True)
        node = node.reshape(-1)
        kinds = self.value_kind[v_ids]
        kind_names, kind_code = np.unique(kinds.astype(str), return_inverse=True)
        kind_code = kind_code.reshape(-1)
        _, fam_code = np.unique([family(k) for k in kind_names], return_inverse=True)
        families = fam_code.reshape(-1)[kind_code]
        derived = np.isin(kind_names, list(DERIVED_FROM))[kind_code]
        alone = np.array([stands_alone(k) for k in kind_names], dtype=bool)[kind_code]
        kind_w = np.array([s.weight_of(k) for k in kind_names], dtype=np.float64)[kind_code]
        weight = kind_w[node] * rarity(degree)
        q = m / np.maximum(degree - 1, 1)
        q_core = m_core / np.maximum(degree - 1, 1)
        link = q >= s.link_share
        k = len(t_ids)
        keys, counts, strong = _link_counts(src, t_code, node, link, families, derived, weight, k, s.strong_link)
        ok = (counts >= s.min_links) | strong
        own = link & (q_core >= s.link_share) & (degree >= s.exclusive_link) & alone[node]
        extra = np.unique(src[own].astype(np.int64) * k + t_code[own])
        extra = extra[~pd.Index(extra).isin(keys[ok])]
        cand = np.concatenate((keys[ok], extra))
        score = np.concatenate((counts[ok], np.ones(len(extra), dtype=counts.dtype)))
        pairs, inverse = np.unique(src.astype(np.int64) * k + t_code, return_inverse=True)
        ev = np.bincount(inverse.reshape(-1), weights=weight * m, minlength=len(pairs))
        at = np.searchsorted(pairs, cand)
        dense = ev[at] >= s.min_density * t_size[cand % k]
        cand, score = cand[dense], score[dense]
        if not len(cand):
            return target, links, evidence, by_rule
        acc, tgt = cand // k, cand % k
        best = np.lexsort((t_ids[tgt], -score, acc))
        acc, tgt, score = acc[best], tgt[best], score[best]
        first = np.r_[True, acc[1:] != acc[:-1]]
        acc, tgt, score = acc[first], tgt[first], score[first]
        target[acc] = t_ids[tgt]
        links[acc] = score
        evidence[acc] = ev[np.searchsorted(pairs, acc * k + tgt)] / np.maximum(t_size[tgt], 1)
        by_rule[acc] = True
        return target, links, evidence, by_rule


def _pipeline_clusters(observations: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """``account_id, cluster_id, cluster_size`` of :func:`sybilgraph.cluster_accounts` on ``observations``.

    The same stages in the same order (read, normalise, weight, graph,
    components, Leiden, membership), without the tables that explain the
    clusters, which :meth:`Model.assign` does not use.
    """
    from .cluster import earn_membership, leiden_communities
    from .graph import graph_edges, label_components
    from .weights import weight_encoded

    report = Report()
    enc = read_encoded(observations, timestamp_col=None, report=report)
    norm = normalise_encoded(enc, settings, report=report)
    wobs = weight_encoded(norm, settings, report=report)
    graph = label_components(graph_edges(wobs))
    membership = earn_membership(graph, wobs, leiden_communities(graph, wobs.accounts, settings), settings)
    cluster = membership.cluster.astype(np.int64)
    size = np.bincount(cluster, minlength=int(cluster.max()) + 1 if len(cluster) else 0)
    return pd.DataFrame({"account_id": np.asarray(wobs.accounts, dtype=object), "cluster_id": cluster,
                         "cluster_size": size[cluster]})


def _keys(kind: np.ndarray, text: np.ndarray) -> np.ndarray:
    """``kind + "\\x1f" + text`` of each value (the look-up key of a value)."""
    if not len(kind):
        return np.zeros(0, dtype=object)
    joined = pc.binary_join_element_wise(pa.array(kind, type=pa.large_string()), pa.array(text, type=pa.large_string()),
                                         pa.scalar(_SEP, type=pa.large_string()))
    return joined.to_numpy(zero_copy_only=False).astype(object, copy=False)


# ---------------------------------------------------------------------------------------------- build


def build_model(result: Any, *, constraints: pd.DataFrame | None = None, observations: Source | None = None,
                account_col: str = "account_id", kind_col: str = "kind", value_col: str = "value",
                timestamp_col: str | None = "timestamp") -> Model:
    """Build the model of a full run from its :class:`~sybilgraph.ClusterResult`.

    Parameters
    ----------
    result : ClusterResult
        The result of :func:`sybilgraph.cluster_accounts` (with stable ids or not).
    constraints : DataFrame, optional
        Analyst constraints (``account_a, account_b, relation``) to store with the model.
    observations : DataFrame or path, optional
        The raw observations the result was made from (with their column
        names). Needed only when they hold prompts: the prompt templates are
        mined again from them (deterministically, the same templates) and
        kept, so that new prompts can be matched to them. Without it, new
        prompts are mined within each batch and rarely match.

    Returns
    -------
    Model

    Notes
    -----
    The weights and the graph are rebuilt from ``result.observations`` (the
    normalised observations), and each member's *core* status (it earns its
    place by links, not by one stand-alone value alone) is taken from
    :func:`sybilgraph.cluster._earned` on the final clusters, the rule the
    run itself ends on.
    """
    from . import __version__
    from .cluster import _earned, _Edges
    from .graph import build_graph
    from .runs import empty_constraints
    from .weights import weight_values

    settings: Settings = result.settings
    a = result.assignments
    accounts = a["account_id"].to_numpy(dtype=object)
    order = np.argsort(accounts.astype(str), kind="stable")
    accounts, cluster = accounts[order], a["cluster_id"].to_numpy(dtype=np.int64)[order]
    obs = result.observations
    have = pd.Index(accounts).isin(pd.unique(obs["account_id"].to_numpy(dtype=object)))
    wobs = weight_values(obs, settings, extra_accounts=accounts[~have])
    if not np.array_equal(wobs.accounts.astype(str), accounts.astype(str)):  # pragma: no cover - a broken result
        raise ModelError("the result's assignments and observations name different accounts; build the model from "
                         "an unmodified ClusterResult.")
    graph = build_graph(wobs)
    ids, labels = np.unique(cluster, return_inverse=True)
    labels = labels.reshape(-1).astype(np.int64)
    size = np.bincount(labels)
    edges = _Edges.of(graph, wobs)
    core = np.zeros(len(accounts), dtype=bool)
    members = np.flatnonzero(size[labels] >= 2)
    if len(members):
        _earned(edges, edges.of_accounts(members), labels, settings, core)
    # For each value: the cluster of 2+ that holds most of its carriers (ties: the smaller id).
    oa, ov = wobs.obs_account, wobs.obs_value
    grouped = size[labels[oa]] >= 2
    k = len(ids)
    key, inverse = np.unique(ov[grouped] * k + labels[oa[grouped]], return_inverse=True)
    m = np.bincount(inverse.reshape(-1), minlength=len(key))
    m_core = np.bincount(inverse.reshape(-1), weights=core[oa[grouped]], minlength=len(key)).astype(np.int64)
    v_of, c_of = key // k, key % k
    best = np.lexsort((c_of, -m, v_of))
    v_of, c_of, m, m_core = v_of[best], c_of[best], m[best], m_core[best]
    first = np.r_[True, v_of[1:] != v_of[:-1]] if len(v_of) else np.zeros(0, dtype=bool)
    n_val = len(wobs.value_text)
    top = np.full(n_val, -1, dtype=np.int64)
    top_m = np.zeros(n_val, dtype=np.int64)
    top_core = np.zeros(n_val, dtype=np.int64)
    top[v_of[first]] = ids[c_of[first]]
    top_m[v_of[first]] = m[first]
    top_core[v_of[first]] = m_core[first]
    e_order = np.lexsort((ov, oa))
    if "next_id" in a.columns and len(a):
        next_id = int(a["next_id"].max())
    else:
        next_id = int(cluster.max()) + 1 if len(cluster) else 0
    run = int(a["run"].max()) if "run" in a.columns and len(a) else 0
    rounds: tuple[_Round, ...] = ()
    has_prompts = bool((obs["kind"] == "prompt_template").any())
    if observations is not None and has_prompts:
        rounds = _template_rounds(observations, account_col, kind_col, value_col, timestamp_col)
    meta = {"run": run, "next_id": next_id, "library_version": __version__, "format_version": FORMAT_VERSION,
            "templates": bool(rounds) or not has_prompts, "template_threshold": 0.4}
    return Model(settings, accounts, cluster, wobs.value_kind.astype(object), wobs.value_text.astype(object),
                 wobs.degree.astype(np.int64), top, top_m, top_core, oa[e_order].astype(np.int64),
                 ov[e_order].astype(np.int64), constraints if constraints is not None else empty_constraints(), meta,
                 rounds)


def _template_rounds(observations: Source, account_col: str, kind_col: str, value_col: str,
                     timestamp_col: str | None) -> tuple[_Round, ...]:
    """Mine the prompts of ``observations`` again as the pipeline does, keeping each round's templates."""
    from .ingest import compact_codes
    from .templates import _mine, _string_array

    enc = read_encoded(observations, account_col=account_col, kind_col=kind_col, value_col=value_col,
                       timestamp_col=timestamp_col, report=Report())
    if "prompt" not in enc.kinds:
        return ()
    rows = np.flatnonzero(enc.kind == enc.kinds.index("prompt"))
    codes, texts = compact_codes(enc.value[rows], enc.values)
    got: list[Any] = []
    # the defaults of mine_templates_encoded, which normalise_encoded uses
    _, group_id, _ = _mine(codes, _string_array(texts), enc.account[rows], 0.4, 1000, 0, rounds=got)
    out = []
    for model, offset in got:
        n = len(model.size)
        ids = np.full(n, None, dtype=object)
        if offset >= 0:
            ids[:] = [group_id[offset + c] if offset + c < len(group_id) else None for c in range(n)]
        out.append(_Round(model.features, model.cluster, model.weight, model.size, ids))
    return tuple(out)


# ---------------------------------------------------------------------------------------------- files


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def stage_model(model: Model, directory: str | os.PathLike[str], out: Any) -> None:
    """Stage the model's files in ``directory`` with ``out`` (a :class:`sybilgraph._write.Staging`)."""
    d = Path(os.fspath(directory))
    if d.exists() and not d.is_dir():
        raise InputError(f"--save-model {str(d)!r} is a file; a model is a directory of files. Give a directory name.")
    d.mkdir(parents=True, exist_ok=True)
    text = pa.large_string()
    files: dict[str, bytes] = {
        "settings.json": model.settings.to_json().encode("utf-8"),
        "meta.json": json.dumps(model.meta, sort_keys=True).encode("utf-8"),
        "accounts.parquet": _parquet_bytes(pa.table({
            "account_id": pa.array(model.accounts, type=text), "cluster_id": pa.array(model.cluster, type=pa.int64())})),
        "values.parquet": _parquet_bytes(pa.table({
            "kind": pa.array(model.value_kind, type=text), "value": pa.array(model.value_text, type=text),
            "degree": pa.array(model.degree, type=pa.int64()), "top_cluster": pa.array(model.top_cluster, type=pa.int64()),
            "top_carriers": pa.array(model.top_carriers, type=pa.int64()),
            "top_core": pa.array(model.top_core, type=pa.int64())})),
        "edges.parquet": _parquet_bytes(pa.table({
            "account": pa.array(model.edge_account, type=pa.int64()), "value": pa.array(model.edge_value, type=pa.int64())})),
        "constraints.parquet": _parquet_bytes(pa.table({
            c: pa.array(model.constraints[c].astype(str).tolist(), type=text) for c in ("account_a", "account_b", "relation")})),
        "templates.parquet": _parquet_bytes(_rounds_table(model.template_rounds)),
    }
    manifest = {
        "format": _FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": model.meta.get("library_version"),
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
    }
    for name, data in files.items():
        out._stage(d / name, lambda fh, data=data: fh.write(data))
    out.text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", d / "manifest.json")  # renamed last


def _rounds_table(rounds: tuple[_Round, ...]) -> pa.Table:
    """One row per (round, template shingle): ``round, template, feature, weight, size, template_id``."""
    parts = []
    for r, rd in enumerate(rounds):
        ids = np.asarray(rd.ids, dtype=object)[rd.cluster]
        parts.append(pa.table({
            "round": pa.array(np.full(len(rd.features), r), type=pa.int64()),
            "template": pa.array(rd.cluster, type=pa.int64()),
            "feature": pa.array(rd.features.astype(np.int64), type=pa.int64()),
            "weight": pa.array(rd.weight.astype(np.int64), type=pa.int64()),
            "size": pa.array(rd.size[rd.cluster], type=pa.int64()),
            "template_id": pa.array(ids, type=pa.large_string()),
        }))
    if not parts:
        return pa.table({"round": pa.array([], pa.int64()), "template": pa.array([], pa.int64()),
                         "feature": pa.array([], pa.int64()), "weight": pa.array([], pa.int64()),
                         "size": pa.array([], pa.int64()), "template_id": pa.array([], pa.large_string())})
    return pa.concat_tables(parts)


def _rounds_of(table: pa.Table) -> tuple[_Round, ...]:
    """Inverse of :func:`_rounds_table`."""
    frame = table.to_pandas()
    rounds = []
    for r in range(int(frame["round"].max()) + 1 if len(frame) else 0):
        f = frame[frame["round"] == r]
        cluster = f["template"].to_numpy(dtype=np.int64)
        n = int(cluster.max()) + 1 if len(cluster) else 0
        size = np.zeros(n, dtype=np.int64)
        size[cluster] = f["size"].to_numpy(dtype=np.int64)
        ids = np.full(n, None, dtype=object)
        ids[cluster] = f["template_id"].to_numpy(dtype=object)
        features = f["feature"].to_numpy(dtype=np.int64)
        if len(features) and (features.min() < 0 or features.max() >= 2**32 or np.any(np.diff(features) < 0)):
            raise ValueError("template shingles out of range or not sorted")
        rounds.append(_Round(features.astype(np.uint32), cluster, f["weight"].to_numpy(dtype=np.int32), size, ids))
    return tuple(rounds)


def load_model(directory: str | os.PathLike[str], *, allow_other_version: bool = False) -> Model:
    """Load a model saved by :meth:`Model.save` (or ``sybilgraph cluster --save-model``).

    Parameters
    ----------
    directory : str or os.PathLike
        The model's directory.
    allow_other_version : bool, default False
        Load a model saved by another version of sybilgraph (same file format).

    Returns
    -------
    Model

    Raises
    ------
    ModelError
        The directory holds no model, a file is missing, a file's SHA-256 does
        not match the manifest (corrupt or modified), the format version is
        not :data:`FORMAT_VERSION`, the library version differs (unless
        allowed), or the tables do not fit together.

    Notes
    -----
    Only JSON and Parquet are read; nothing in the files is executed. The
    digests detect corruption and edits that leave the manifest alone; they
    are not a signature: whoever can write the directory can rewrite the
    manifest too, so keep models where only the pipeline can write.
    """
    from . import __version__
    from .runs import empty_constraints

    d = Path(os.fspath(directory))
    man_path = d / "manifest.json"
    if not man_path.is_file():
        raise ModelError(f"{str(d)!r} holds no sybilgraph model (no manifest.json); save one with "
                         f"'sybilgraph cluster ... --save-model {d}'.")
    try:
        manifest = json.loads(man_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise ModelError(f"the manifest of the model {str(d)!r} is not valid JSON ({err}); the model is corrupt: "
                         f"save it again.") from err
    if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
        raise ModelError(f"{str(man_path)!r} is not the manifest of a sybilgraph model.")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelError(f"the model {str(d)!r} has format version {version!r}; this sybilgraph ({__version__}) reads "
                         f"format version {FORMAT_VERSION} only. Run a full 'sybilgraph cluster ... --save-model' "
                         f"with this version to make a new model.")
    if manifest.get("library_version") != __version__ and not allow_other_version:
        raise ModelError(f"the model {str(d)!r} was saved by sybilgraph {manifest.get('library_version')!r}; this is "
                         f"{__version__}. Its settings and rules may differ: make a new model with a full run, or pass "
                         f"allow_other_version=True (--allow-other-version) to use it anyway.")
    digests = manifest.get("files")
    if not isinstance(digests, dict) or sorted(digests) != sorted(_FILES):
        raise ModelError(f"the manifest of the model {str(d)!r} does not list the files {list(_FILES)}; the model is "
                         f"corrupt: save it again.")
    data: dict[str, bytes] = {}
    for name in _FILES:
        path = d / name
        if not path.is_file():
            raise ModelError(f"the model {str(d)!r} lacks {name}; save the model again.")
        raw = path.read_bytes()
        if hashlib.sha256(raw).hexdigest() != digests[name]:
            raise ModelError(f"{name} of the model {str(d)!r} does not match its SHA-256 in manifest.json: the file is "
                             f"corrupt or was modified after the model was saved. Save the model again.")
        data[name] = raw
    try:
        settings = Settings.from_json(data["settings.json"].decode("utf-8"))
        meta = json.loads(data["meta.json"].decode("utf-8"))
        acc = pq.read_table(io.BytesIO(data["accounts.parquet"]))
        val = pq.read_table(io.BytesIO(data["values.parquet"]))
        edg = pq.read_table(io.BytesIO(data["edges.parquet"]))
        con = pq.read_table(io.BytesIO(data["constraints.parquet"]))
        rounds = _rounds_of(pq.read_table(io.BytesIO(data["templates.parquet"])))

        def col(table: pa.Table, name: str, kind: str) -> np.ndarray:
            c = table.column(name)
            if kind == "int":
                if not pa.types.is_integer(c.type):
                    raise TypeError(f"column {name!r} is {c.type}, not an integer")
                return c.to_numpy().astype(np.int64)
            if not (pa.types.is_string(c.type) or pa.types.is_large_string(c.type)):
                raise TypeError(f"column {name!r} is {c.type}, not text")
            return c.to_numpy(zero_copy_only=False).astype(object)

        model = Model(settings, col(acc, "account_id", "str"), col(acc, "cluster_id", "int"),
                      col(val, "kind", "str"), col(val, "value", "str"), col(val, "degree", "int"),
                      col(val, "top_cluster", "int"), col(val, "top_carriers", "int"), col(val, "top_core", "int"),
                      col(edg, "account", "int"), col(edg, "value", "int"),
                      pd.DataFrame({c: col(con, c, "str") for c in ("account_a", "account_b", "relation")})
                      if con.num_rows else empty_constraints(), dict(meta), rounds)
    except (ValueError, TypeError, KeyError, OSError, pa.ArrowException) as err:
        raise ModelError(f"the model {str(d)!r} cannot be read ({err}); save it again.") from err
    n_acc, n_val = len(model.accounts), len(model.value_text)
    if (len(model.cluster) != n_acc or len(model.edge_account) != len(model.edge_value)
            or (len(model.edge_account) and (model.edge_account.min() < 0 or model.edge_account.max() >= n_acc
                                             or model.edge_value.min() < 0 or model.edge_value.max() >= n_val))
            or np.any(np.diff(model.edge_account) < 0)):
        raise ModelError(f"the tables of the model {str(d)!r} do not fit together; save the model again.")
    return model


def _assignment_frame(accounts: np.ndarray, cluster: np.ndarray, status: np.ndarray, links: np.ndarray,
                      evidence: np.ndarray, group: np.ndarray, outside: pd.DataFrame) -> pd.DataFrame:
    """The table :meth:`Model.assign` returns: the batch's accounts, then saved singletons pulled into new groups."""
    frame = pd.DataFrame({
        "account_id": accounts,
        "cluster_id": pd.array(np.where(cluster >= 0, cluster, 0), dtype="Int64"),
        "status": status,
        "links": links.astype(np.int64),
        "evidence": evidence,
        "new_group": pd.array(np.where(group >= 0, group, 0), dtype="Int64"),
    })
    frame.loc[cluster < 0, "cluster_id"] = pd.NA
    frame.loc[group < 0, "new_group"] = pd.NA
    if len(outside):
        outside = outside.assign(status="new_group", links=0, evidence=0.0)[list(frame.columns)]
        frame = pd.concat([frame, outside], ignore_index=True)
    return frame
