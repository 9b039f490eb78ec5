"""Results you can hold: :class:`ClusterResult`, and how tables are written to disk and read back."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._errors import EmptyInputError, InputError
from ._report import Report
from ._write import output_format, printable, staged_writes, unescape_cell, unescape_text
from .settings import Settings

if TYPE_CHECKING:  # pragma: no cover
    from .model import Model
    from .views import ClusterView
    from .why import AccountExplanation, ClusterExplanation

__all__ = ["ClusterResult", "write_table", "read_table"]


@dataclass(frozen=True)
class ClusterResult:
    """Everything :func:`sybilgraph.cluster_accounts` found, and how.

    Every input account appears exactly once in :attr:`assignments`.
    """

    assignments: pd.DataFrame
    """One row per account: ``account_id, cluster_id, cluster_size, attachment, periphery_of``.
    ``periphery_of`` (nullable Int64) names the cluster a weakly attached account touched."""
    clusters: pd.DataFrame
    """One row per cluster (singletons included): ``cluster_id, size, cohesion, shared_values,
    templated, tooling, payment, burst, score, suspicious, periphery, top_evidence``."""
    evidence: pd.DataFrame
    """One row per (cluster, shared value): ``cluster_id, kind, value, members, carriers, weight, exclusivity``."""
    observations: pd.DataFrame
    """The normalised observations that were clustered (``account_id, kind, value, timestamp``)."""
    templates: pd.DataFrame | None
    """Prompt templates found (``template_id, representative, n_prompts, n_accounts``), or None."""
    report: Report
    """What each stage skipped or changed, with counts."""
    settings: Settings
    """The settings that produced this result."""
    timings: dict[str, float] = field(default_factory=dict)
    """Wall-clock seconds spent in each stage."""
    lineage: pd.DataFrame | None = None
    """With ``previous=``: what happened to each cluster since the previous run
    (see :func:`sybilgraph.runs.lineage_table`); None otherwise."""
    _cache: dict[str, object] = field(default_factory=dict, init=False, repr=False, compare=False)
    """State rebuilt for explanations and exports (see :mod:`sybilgraph.why`), kept for the next call."""

    @property
    def n_accounts(self) -> int:
        """Number of accounts."""
        return len(self.assignments)

    def groups(self, min_size: int = 2) -> pd.DataFrame:
        """Return the clusters with at least ``min_size`` accounts, most suspicious first."""
        c = self.clusters
        return c[c["size"] >= min_size].sort_values(["score", "size", "cluster_id"], ascending=[False, False, True])

    def members(self, cluster_id: int) -> list[str]:
        """Return the account ids of one cluster, sorted."""
        a = self.assignments
        return sorted(a.loc[a["cluster_id"] == cluster_id, "account_id"].tolist())

    def summary(self, top: int = 10) -> str:
        """Return a short plain-text summary of the largest clusters."""
        groups = self.groups()
        periphery = int(self.assignments["periphery_of"].notna().sum())
        lines = [
            f"{_count(self.n_accounts, 'account')} -> {_count(len(groups), 'cluster')} of 2+ accounts "
            f"({_count(int(groups['size'].sum()), 'account')}), {int(groups['suspicious'].sum()):,} suspicious",
        ]
        if periphery:
            # Context, so the figure does not read as alarming: these are mostly ordinary accounts.
            lines.append(f"  {_count(periphery, 'account')} ({periphery / max(self.n_accounts, 1):.0%} of all) share a value "
                         f"with a cluster but have fewer than min_links={self.settings.min_links} independent links "
                         "to it, so they stay singletons (periphery_of names the cluster); usually ordinary "
                         "accounts behind a shared network or device")
        shown = groups.sort_values(["size", "cluster_id"], ascending=[False, True]).head(top)
        for row in shown.itertuples():
            flag = "SUSPICIOUS" if row.suspicious else "          "
            lines.append(f"  cluster {row.cluster_id:>6}  {row.size:>6} accounts  score {row.score:.2f} {flag}  "
                         f"{printable(row.top_evidence)}")
        return "\n".join(lines)

    def explain_account(self, account_id: str) -> AccountExplanation:
        """Return why ``account_id`` is in its cluster, or in none (see :func:`sybilgraph.why.explain_account`)."""
        from .why import explain_account

        return explain_account(self, account_id)

    def explain_cluster(self, cluster_id: int) -> ClusterExplanation:
        """Return what holds cluster ``cluster_id`` together and what would split it (see :mod:`sybilgraph.why`)."""
        from .why import explain_cluster

        return explain_cluster(self, cluster_id)

    def cluster(self, cluster_id: int) -> ClusterView:
        """Return one cluster's row, members, evidence and explanation, with a rich notebook view."""
        from .views import cluster_view

        return cluster_view(self, cluster_id)

    def to_networkx(self, cluster_id: int | None = None) -> Any:
        """Return the account–value graph (or one cluster's) as a networkx graph (see :func:`sybilgraph.export.to_networkx`)."""
        from .export import to_networkx

        return to_networkx(self, cluster_id)

    def save_model(self, directory: str | os.PathLike[str], *, observations: Any = None,
                   constraints: pd.DataFrame | None = None, account_col: str = "account_id", kind_col: str = "kind",
                   value_col: str = "value", timestamp_col: str | None = "timestamp") -> Model:
        """Build the model of this run and save it into ``directory``; return the model.

        Short for ``build_model(self, observations=..., constraints=...).save(directory)``
        (see :func:`sybilgraph.model.build_model` and :meth:`sybilgraph.model.Model.save`).
        Pass the raw ``observations`` the run was made from when they hold
        prompts (so new prompts are matched to the run's templates), with
        their column names (``account_col=``, ``kind_col=``, ``value_col=``,
        ``timestamp_col=``) as given to :func:`sybilgraph.cluster_accounts`.
        """
        from .model import build_model

        model = build_model(self, constraints=constraints, observations=observations, account_col=account_col,
                            kind_col=kind_col, value_col=value_col, timestamp_col=timestamp_col)
        model.save(directory)
        return model

    def __repr__(self) -> str:
        groups = self.groups()
        return (
            f"<ClusterResult: {_count(self.n_accounts, 'account')}, {_count(len(groups), 'cluster')} of 2+, "
            f"{int(groups['suspicious'].sum()):,} suspicious, objective={self.settings.objective!r}, "
            f"resolution={self.settings.resolution:g}, seed={self.settings.seed}>"
        )

    def _repr_html_(self) -> str:
        from .views import result_html

        return result_html(self)


def _count(n: int, noun: str) -> str:
    """``1 account``, ``2,000 accounts``."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def write_table(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write ``frame`` as CSV (``.csv``, ``.csv.gz``) or Parquet (``.parquet``, ``.pq``) by suffix, atomically.

    CSV files are made safe for spreadsheets and exact to read back:

    * every text field is quoted (``"``), so values holding commas, quotes,
      CR or LF stay one field of one row; numbers are written unquoted and
      booleans as ``True``/``False``;
    * a text cell (column names included) that starts with ``=``, ``+``,
      ``-``, ``@``, a tab or a CR and is not a plain number (``-5``,
      ``+1.5e3``) gets a leading ``'``, so a spreadsheet shows it as text
      instead of running it as a formula (OWASP CSV injection); a cell that
      already starts with ``'`` gets one too, so removing exactly one leading
      ``'`` from every cell that starts with one gives back the original.
      :func:`read_table` does that.

    Parquet files, like the DataFrames of the Python API, hold the raw values
    (account ids and values exactly as given). The file appears whole or not
    at all: it is written to a hidden temporary beside ``path`` and renamed
    over it, and the temporary is removed if anything fails or the write is
    interrupted. See ``docs/output-files.md``.

    Parameters
    ----------
    frame : DataFrame
        The table; its index is not written.
    path : str or os.PathLike
        Target file; a symlink is followed (its target is replaced).

    Raises
    ------
    InputError
        The suffix is not one of those.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> path = tempfile.mkdtemp() + "/a.csv"
    >>> write_table(pd.DataFrame({"account_id": ["=HYPERLINK(1)", "-5", "'q"], "n": [1, -2, 3]}), path)
    >>> print(open(path).read(), end="")
    "account_id","n"
    "'=HYPERLINK(1)",1
    "-5",-2
    "''q",3
    >>> read_table(path)["account_id"].tolist()
    ['=HYPERLINK(1)', '-5', "'q"]
    """
    output_format(path)
    with staged_writes() as out:
        out.table(frame, path)


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a table written by :func:`write_table` (or the command line) back, exactly.

    CSV (``.csv``, ``.csv.gz``): every column comes back as text — the exact
    text of each cell, with the spreadsheet escape of :func:`write_table`
    removed (one leading ``'`` dropped from every cell and column name that
    starts with one); empty cells are empty strings. Convert numeric columns
    yourself (``pd.to_numeric``) where you need numbers: ids stay text, so
    ``"007"`` stays ``"007"``. Parquet (``.parquet``, ``.pq``) is read as
    stored, with its types.

    Use this for sybilgraph's own outputs only: on an arbitrary CSV it would
    drop a leading ``'`` that belongs to the data (read inputs with
    :func:`sybilgraph.read_observations`, which never unescapes).

    Parameters
    ----------
    path : str or os.PathLike
        A ``.csv``, ``.csv.gz``, ``.parquet`` or ``.pq`` file.

    Returns
    -------
    DataFrame

    Raises
    ------
    InputError
        Unknown suffix, missing file, or a file that does not parse.
    EmptyInputError
        The file is empty (not even a header).
    """
    p = Path(os.fspath(path))
    fmt = output_format(p)
    if not p.exists():
        raise InputError(f"file {str(p)!r} does not exist.")
    if fmt == "parquet":
        try:
            return pd.read_parquet(p)
        except (ValueError, OSError) as err:
            raise InputError(f"cannot read {str(p)!r}: {err}") from err
    import pyarrow as pa
    import pyarrow.csv as pacsv

    parse = pacsv.ParseOptions(newlines_in_values=True)
    try:
        names = pacsv.open_csv(p, parse_options=parse).schema.names
        table = pacsv.read_csv(
            p,
            read_options=pacsv.ReadOptions(use_threads=True, block_size=1 << 24),
            parse_options=parse,
            convert_options=pacsv.ConvertOptions(column_types={n: pa.large_string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except pa.ArrowInvalid as err:
        if "Empty CSV file" in str(err):
            raise EmptyInputError(f"file {str(p)!r} is empty; it holds no table.") from err
        raise InputError(f"cannot parse CSV {str(p)!r}: {err}") from err
    except OSError as err:
        raise InputError(f"cannot read {str(p)!r}: {err}") from err
    columns = [unescape_text(c) for c in table.columns]
    names = [unescape_cell(n) for n in table.column_names]
    frame = pa.Table.from_arrays(columns, names=[f"c{i}" for i in range(len(names))]).to_pandas()
    frame.columns = pd.Index(names, dtype=object)
    return frame
