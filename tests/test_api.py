from __future__ import annotations

import pyarrow as pa
import pytest

import sybilgraph as sg
from sybilgraph.ingest import read_observations


def test_public_names_are_pinned() -> None:
    assert sorted(sg.__all__) == sorted([
        "cluster_accounts", "attribute", "Attribution", "read_observations", "from_wide", "write_table", "read_table", "ClusterResult", "Settings",
        "DEFAULT_KIND_WEIGHTS", "Report", "Note", "SybilGraphError", "InputError", "EmptyInputError",
        "ParameterError", "IndicatorError", "EngineError", "__version__", "metrics", "synth",
        "ModelError", "build_model", "load_model", "runs",
    ])
    for name in sg.__all__:
        assert hasattr(sg, name)


def test_error_tree_subclasses_builtins() -> None:
    assert issubclass(sg.InputError, ValueError) and issubclass(sg.InputError, sg.SybilGraphError)
    assert issubclass(sg.EmptyInputError, sg.InputError)
    assert issubclass(sg.ParameterError, ValueError)
    assert issubclass(sg.EngineError, RuntimeError)


def test_pyarrow_parse_errors_are_wrapped(tmp_path) -> None:
    p = tmp_path / "obs.csv"
    p.write_text("account_id,kind,value\na,ip,1.1.1.1,extra,columns\n")
    with pytest.raises(sg.InputError, match="cannot parse CSV") as info:
        read_observations(p)
    assert isinstance(info.value.__cause__, pa.ArrowInvalid)


def test_result_repr_and_summary(small_obs) -> None:
    r = sg.cluster_accounts(small_obs, seed=0)
    assert repr(r).startswith("<ClusterResult: 14 accounts")
    assert "clusters of 2+ accounts" in r.summary()
    assert r.settings == sg.Settings(seed=0)
    assert set(r.timings) >= {"read", "normalise", "weight", "graph", "leiden", "membership", "explain", "to_frame"}


def test_attribute_at_top_level_survives_the_old_module_name(small_obs) -> None:
    import pandas as pd

    import sybilgraph.attribute  # the old module name: Python then sets sg.attribute to the module
    from sybilgraph.attribute import read_indicators

    ind = pd.DataFrame({"organisation": ["X"], "kind": ["payment"], "value": ["cardA0"]})
    att = sg.attribute(sg.cluster_accounts(small_obs, seed=0), ind)
    assert isinstance(att, sg.Attribution)
    assert read_indicators is sg.attribution.read_indicators
    assert sybilgraph.attribute.attribute is sg.attribution.attribute  # type: ignore[attr-defined]


def test_settings_and_results_pickle(small_obs) -> None:
    # multiprocessing, joblib and notebooks pickle results; the read-only kind_weights view used to refuse.
    import copy
    import pickle

    settings = sg.Settings(seed=3, kind_weights={"ip": 0.5, "device": 2.0})
    again = pickle.loads(pickle.dumps(settings))
    assert again == settings and dict(again.kind_weights) == {"device": 2.0, "ip": 0.5}
    assert copy.deepcopy(settings) == settings
    result = sg.cluster_accounts(small_obs, seed=0)
    back = pickle.loads(pickle.dumps(result))
    assert back.assignments.equals(result.assignments) and back.clusters.equals(result.clusters)
    assert back.settings == result.settings
