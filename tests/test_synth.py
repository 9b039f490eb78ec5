"""Tests of sybilgraph.synth: reproducibility, coverage, proportions, indicators."""

from __future__ import annotations

import ipaddress
import string
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sybilgraph import synth
from sybilgraph._errors import ParameterError
from sybilgraph.synth import KINDS, SCENARIOS, SynthData, SynthParams, describe_params, generate

SCALE = 0.05


@pytest.fixture(scope="module")
def data() -> SynthData:
    return generate("distillation", scale=SCALE, seed=1)


def _frames(d: SynthData) -> list[pd.DataFrame]:
    return [d.observations, d.truth, d.indicators, d.exchanges]


def test_same_seed_gives_identical_frames(data: SynthData) -> None:
    again = generate("distillation", scale=SCALE, seed=1)
    for a, b in zip(_frames(data), _frames(again)):
        pd.testing.assert_frame_equal(a, b)
    assert data.params == again.params


def test_different_seed_differs(data: SynthData) -> None:
    other = generate("distillation", scale=SCALE, seed=2)
    assert not data.observations.equals(other.observations)
    assert not data.truth.equals(other.truth)


def test_schema(data: SynthData) -> None:
    obs = data.observations
    assert list(obs.columns) == ["account_id", "kind", "value", "timestamp"]
    assert obs["timestamp"].dtype == np.int64
    for column in ("account_id", "kind", "value"):
        assert pd.api.types.is_string_dtype(obs[column])
    assert set(obs["kind"]) == set(KINDS)
    assert not obs.isna().any().any()
    assert list(data.truth.columns) == ["account_id", "entity", "role", "organisation", "team"]
    assert list(data.indicators.columns) == ["organisation", "kind", "value"]
    assert list(data.exchanges.columns) == ["account_id", "exchanges"]
    assert data.exchanges["exchanges"].dtype == np.int64 and (data.exchanges["exchanges"] >= 1).all()
    assert data.scenario == "distillation" and data.params["scale"] == SCALE and data.params["seed"] == 1
    # sorted by account, then time
    assert obs["account_id"].is_monotonic_increasing
    assert (obs.groupby("account_id")["timestamp"].diff().dropna() >= 0).all()
    assert obs["account_id"].str.fullmatch(r"a\d{7}").all()


def test_truth_covers_every_account_exactly_once(data: SynthData) -> None:
    truth = data.truth
    assert truth["account_id"].is_unique
    observed = set(data.observations["account_id"])
    assert observed == set(truth["account_id"])  # every account observed, every observed account known
    assert set(data.exchanges["account_id"]) == observed
    assert set(truth["role"]) == {"operator", "benign"}
    fake = truth[truth.role == "operator"]
    benign = truth[truth.role == "benign"]
    assert (fake.entity == fake.organisation + "/" + fake.team).all()
    assert (benign.organisation == "").all() and (benign.team == "").all()
    assert benign.entity.str.match(r"^(hh-\d+|co-\d+|benign-a\d{7})$").all()
    loners = benign[benign.entity.str.startswith("benign-")]
    assert (loners.entity == "benign-" + loners.account_id).all()


def test_rows_per_account(data: SynthData) -> None:
    obs = data.observations
    per_account = len(obs) / data.truth.shape[0]
    assert 5.5 <= per_account <= 8.5
    prompts = obs[obs.kind == "prompt"].groupby("account_id").size()
    assert len(prompts) == len(data.truth) and prompts.between(1, 3).all()


def test_operator_proportions_follow_traffic() -> None:
    d = generate("distillation", scale=0.1, seed=4, benign_accounts=1000)
    truth = d.truth
    counts = truth[truth.role == "operator"].organisation.value_counts()
    traffic = {"op-A": 150_000, "op-B": 3_400_000, "op-C": 13_000_000}
    total = sum(traffic.values())
    n_fake = counts.sum()
    assert n_fake == pytest.approx(2400, abs=3)
    for org, exch in traffic.items():
        assert counts[org] / n_fake == pytest.approx(exch / total, rel=0.05)
    ex = d.exchanges.merge(truth, on="account_id")
    sums = ex[ex.role == "operator"].groupby("organisation").exchanges.sum()
    for org, exch in traffic.items():
        assert sums[org] == pytest.approx(exch * 0.1, rel=0.01)
    teams = truth[truth.role == "operator"].groupby("organisation").team.nunique()
    assert teams.to_dict() == {"op-A": 1, "op-B": 3, "op-C": 6}
    assert ex[ex.role == "operator"].exchanges.median() > 10 * ex[ex.role == "benign"].exchanges.median()


def test_account_ids_do_not_reveal_membership(data: SynthData) -> None:
    truth = data.truth
    numbers = truth.account_id.str[1:].astype(int)
    op_c = numbers[truth.organisation == "op-C"]
    assert op_c.max() - op_c.min() + 1 > 2 * len(op_c)


def _carriers(data: SynthData, kind: str, test) -> set[str]:
    obs = data.observations
    rows = obs[obs.kind == kind]
    return set(rows.account_id[rows.value.map(test)])


def test_indicators_are_carried_by_a_small_share(data: SynthData) -> None:
    truth = data.truth.set_index("account_id")
    ind = data.indicators
    assert set(ind.kind) == {"payment", "ip", "email", "account"}
    for org in ("op-B", "op-C"):  # large enough for a share to be meaningful at this scale
        members = set(truth.index[truth.organisation == org])
        n = len(members)
        mine = ind[ind.organisation == org]
        for kind in ("payment", "ip", "email"):
            (value,) = mine.value[mine.kind == kind]
            if kind == "payment":
                carriers = _carriers(data, "payment", lambda v, value=value: v == value)
            elif kind == "ip":
                net = ipaddress.ip_network(value)
                assert net.prefixlen == 24
                carriers = _carriers(data, "ip", lambda v, net=net: ":" not in v and ipaddress.ip_address(v) in net)
            else:
                assert "@" not in value and "." in value
                carriers = _carriers(data, "email", lambda v, value=value: v.endswith("@" + value))
            assert carriers <= members, f"{kind} indicator of {org} carried outside it"
            assert 0.02 - 1 / n <= len(carriers) / n <= 0.05 + 1 / n, (org, kind, len(carriers), n)
        accounts = set(mine.value[mine.kind == "account"])
        assert accounts <= members
        assert 0.02 - 1 / n <= len(accounts) / n <= 0.05 + 1 / n


def test_sharing_structure(data: SynthData) -> None:
    obs = data.observations.merge(data.truth, on="account_id")
    ips = obs[obs.kind == "ip"].groupby("value").agg(
        fake_orgs=("organisation", lambda x: x[x != ""].nunique()),
        benign=("role", lambda r: int((r == "benign").sum())))
    # Hydra exits mix several operators with ordinary customers
    assert ((ips.fake_orgs >= 2) & (ips.benign >= 1)).any()
    # carrier NAT puts hundreds of benign accounts behind one address even at this scale
    assert ips.benign.max() >= 100
    # company cards are shared by several benign accounts; team cards reused by a few fake ones
    pay = obs[obs.kind == "payment"].groupby("value").agg(
        n=("account_id", "nunique"), fake=("role", lambda r: bool((r == "operator").all())),
        entities=("entity", "nunique"))
    assert (pay.n[~pay.fake] >= 5).any()
    known = set(data.indicators.value[data.indicators.kind == "payment"])  # organisation-wide cards
    team_cards = pay[pay.fake & (pay.n >= 2) & ~pay.index.isin(known)]
    assert len(team_cards) > 0 and (team_cards.entities == 1).all()
    assert team_cards.n.max() >= 10
    # webmail addresses are unique per account
    mail = obs[obs.kind == "email"]
    assert mail.value.str.contains("@").all()
    webmail = mail[mail.value.str.contains("@(?:gmail|outlook|yahoo|hotmail|icloud|proton|gmx|mail\\.ru)")]
    assert webmail.value.is_unique
    # stock devices are carried by both populations
    dev = obs[obs.kind == "device"].groupby("value").role.agg(lambda r: set(r))
    assert any(roles == {"operator", "benign"} for roles in dev)


def test_fake_accounts_are_created_in_bursts(data: SynthData) -> None:
    obs = data.observations.merge(data.truth, on="account_id")
    first_seen = obs.groupby(["account_id", "role"]).timestamp.min().reset_index()
    # within a day, fake accounts' first sightings pile up far more than benign ones
    day = first_seen.assign(day=first_seen.timestamp // 86_400)
    peak = day.groupby(["role", "day"]).size().groupby("role").max()
    share = peak / first_seen.role.value_counts()
    assert share["operator"] > 5 * share["benign"]


def test_operator_prompts_follow_templates(data: SynthData) -> None:
    assert len(synth._OPERATOR_TEMPLATES) >= 50
    for text in synth._OPERATOR_TEMPLATES:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name}
        assert names and names <= set(synth._SLOT_NAMES)
    obs = data.observations.merge(data.truth, on="account_id")
    prompts = obs[(obs.kind == "prompt") & (obs.role == "operator")]
    assert not prompts.value.str.contains("[{}]", regex=True).any()
    assert prompts.value.nunique() > 0.9 * len(prompts)  # slot filling varies the text
    popular = set(synth._POPULAR_PROMPTS)
    benign_prompts = obs[(obs.kind == "prompt") & (obs.role == "benign")].value
    counts = benign_prompts.value_counts()
    assert set(counts.index[:3]) <= popular and counts.iloc[0] >= 50


def test_teams_never_share_template_wording() -> None:
    rng = np.random.default_rng(0)
    texts, offsets = synth._team_templates(rng, np.full(60, 4))
    assert len(texts) == 240 and len(set(texts)) == 240 and offsets[-1] == 236

    def trigrams(text: str) -> set[tuple[str, ...]]:
        words = [w for w in text.replace(".", " ").replace(":", " ").split() if "{" not in w]
        return {tuple(words[i:i + 3]) for i in range(len(words) - 2)}

    framed = [t for t in texts if t not in synth._OPERATOR_TEMPLATES]
    assert len(framed) == 240 - len(synth._OPERATOR_TEMPLATES)
    seen: Counter[tuple[str, ...]] = Counter()
    for text in texts:
        seen.update(trigrams(text))
    for text in framed:
        shared = [g for g in trigrams(text) if seen[g] > 1]
        assert len(shared) <= 1, (text, shared)


def test_benign_scenario_has_no_operators() -> None:
    d = generate("benign", scale=SCALE, seed=0)
    assert set(d.truth.role) == {"benign"}
    assert d.indicators.empty and list(d.indicators.columns) == ["organisation", "kind", "value"]
    assert set(d.observations.account_id) == set(d.truth.account_id)


def test_camouflage_has_no_shared_payment() -> None:
    d = generate("camouflage", scale=SCALE, seed=0)
    obs = d.observations.merge(d.truth, on="account_id")
    pay = obs[obs.kind == "payment"].groupby("value").agg(
        n=("account_id", "nunique"), fake=("role", lambda r: bool((r == "operator").any())))
    assert (pay.n[pay.fake] == 1).all()
    assert "payment" not in set(d.indicators.kind)
    default = generate("distillation", scale=SCALE, seed=0)

    def stock_share(x: SynthData) -> float:
        """Share of fake device rows whose value benign accounts carry too (stock fingerprints)."""
        o = x.observations.merge(x.truth, on="account_id")
        dev = o[o.kind == "device"]
        benign_values = set(dev.value[dev.role == "benign"])
        fake = dev[dev.role == "operator"]
        return float(fake.value.isin(benign_values).mean())

    assert stock_share(d) > stock_share(default) + 0.2


def test_many_small_operators() -> None:
    d = generate("many_small", seed=0, benign_accounts=2000)
    fake = d.truth[d.truth.role == "operator"]
    sizes = fake.organisation.value_counts()
    assert len(sizes) == 60 and sizes.between(10, 80).all()
    assert (fake.groupby("organisation").team.nunique() == 1).all()
    assert set(d.indicators.organisation) == set(sizes.index)


def test_scale_multiplies_counts() -> None:
    small = generate(scale=0.02, seed=0)
    large = generate(scale=0.04, seed=0)
    ratio = len(large.truth) / len(small.truth)
    assert ratio == pytest.approx(2.0, rel=0.02)
    assert (small.truth.role == "benign").sum() == 2000
    assert (small.truth.role == "operator").sum() == pytest.approx(480, abs=2)


def test_overrides_and_errors() -> None:
    d = generate("benign", scale=0.01, seed=0, benign_accounts=3000, p_cgnat=0.0)
    assert len(d.truth) == 30 and d.params["p_cgnat"] == 0.0
    assert not d.observations.value.str.startswith("100.").any()
    with pytest.raises(ParameterError, match=r"^The 'scale' parameter of generate must be a float > 0\. Got -1 instead\.$"):
        generate(scale=-1)
    with pytest.raises(ParameterError, match="scenario"):
        generate("nope")
    with pytest.raises(ParameterError, match="did you mean 'p_team_card'"):
        generate(p_team_crd=0.5)
    with pytest.raises(ParameterError, match="'p_team_card'"):
        generate(p_team_card=1.5)
    with pytest.raises(ParameterError, match="'ip_count_probs'"):
        generate(ip_count_probs=(0.5, 0.6, 0.0))
    with pytest.raises(ParameterError, match="'operators'"):
        generate(operators=[("op/bad", 10, 1)])
    with pytest.raises(ParameterError, match="'seed'"):
        generate(seed=1.5)  # type: ignore[arg-type]
    custom = generate(scale=0.1, seed=0, benign_accounts=500, fake_accounts=300,
                      operators=[("x", 1.0, 2), {"name": "y", "exchanges": 2.0}])
    orgs = custom.truth[custom.truth.role == "operator"].organisation.value_counts()
    assert orgs.to_dict() == {"y": 20, "x": 10}


def test_params_are_documented() -> None:
    described = describe_params()
    assert [name for name, _, _ in described] == list(SynthParams.__dataclass_fields__)
    assert all(len(doc) > 30 and "Default" in doc for _, _, doc in described)
    docs = (Path(__file__).resolve().parents[1] / "docs" / "synthetic.md").read_text()
    for name, _, _ in described:
        assert f"`{name}`" in docs, name
    for name in SCENARIOS:
        assert f"`{name}`" in docs


def test_write(tmp_path: Path) -> None:
    d = generate(scale=0.005, seed=0)
    d.write(tmp_path / "out")
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert names == {"observations.parquet", "observations.csv", "truth.csv", "indicators.csv",
                     "exchanges.csv", "params.json"}
    back = pd.read_parquet(tmp_path / "out" / "observations.parquet")
    assert back.shape == d.observations.shape and (back.value == d.observations.value).all()
    csv = pd.read_csv(tmp_path / "out" / "observations.csv", keep_default_na=False)
    assert (csv.value.astype(str) == d.observations.value).all()
    truth = pd.read_csv(tmp_path / "out" / "truth.csv", keep_default_na=False)
    assert (truth.account_id == d.truth.account_id).all()


@pytest.mark.slow
def test_default_scenario_is_fast() -> None:
    start = time.perf_counter()
    d = generate()
    elapsed = time.perf_counter() - start
    assert 120_000 <= len(d.truth) <= 128_000
    assert elapsed < 15.0


# ---------------------------------------------------------------------------
# prompt_corpus: labelled prompts per script (the template benchmarks' corpus)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("script", list(synth.PROMPT_SCRIPTS))
def test_prompt_corpus_is_reproducible_and_labelled(script: str) -> None:
    c = synth.prompt_corpus(script, n_prompts=1500, seed=4)
    again = synth.prompt_corpus(script, n_prompts=1500, seed=4)
    assert list(c.texts) == list(again.texts) and list(c.accounts) == list(again.accounts)
    assert (c.truth == again.truth).all() and list(c.kind) == list(again.kind)
    assert list(synth.prompt_corpus(script, n_prompts=1500, seed=5).texts) != list(c.texts)
    assert len(c.texts) == len(c.accounts) == len(c.truth) == len(c.kind) == len(c.language) == 1500
    assert all(isinstance(t, str) and t for t in c.texts) and c.script == script
    assert set(c.language) == set(synth.PROMPT_SCRIPTS[script])
    shares = pd.Series(c.kind).value_counts(normalize=True)
    assert set(shares.index) == {"template", "system", "free"} and 0.6 < shares["template"] < 0.8
    frame = pd.DataFrame({"truth": c.truth, "kind": c.kind, "text": c.texts, "account": c.accounts})
    # a group is one kind; a system prompt is one text; a free-form group is one text
    assert (frame.groupby("truth")["kind"].nunique() == 1).all()
    single = frame[frame.kind != "template"].groupby("truth")["text"].nunique()
    assert (single == 1).all()
    # template prompts vary (slots) and come from the template's operator accounts
    tpl = frame[frame.kind == "template"].groupby("truth")
    assert (tpl["text"].nunique() > 0.5 * tpl.size()).all()
    assert (tpl["account"].agg(lambda a: a.str.split("-acct").str[0].nunique()) == 1).all()


def test_prompt_corpus_writes_each_script() -> None:
    def share(script: str, pattern: str) -> float:
        return float(pd.Series(synth.prompt_corpus(script, n_prompts=600, seed=0).texts).str.contains(pattern).mean())

    assert share("cjk", r"[\u4e00-\u9fff]") > 0.95 and share("cjk", r"[\u3040-\u30ff]") > 0.4
    assert share("arabic", r"[\u0621-\u064a]") > 0.95
    assert share("latin", r"[éèàüöäßñíóúç]") > 0.9
    assert share("english", r"[^\x00-\x7f]") < 0.2  # quotes, emoji and noise of paraphrases only
    mixed = synth.prompt_corpus("mixed", n_prompts=3000, seed=0).texts
    for pattern in (r"[\u4e00-\u9fff]", r"[\u0621-\u064a]", r"[\u0e00-\u0e7f]", r"[\u0400-\u04ff]",
                    r"[\uac00-\ud7af]", r"[\u0900-\u097f]", r"[\u05d0-\u05ea]", "[\U0001f300-\U0001faff]", "\u200b"):
        assert pd.Series(mixed).str.contains(pattern).any(), pattern


def test_prompt_corpus_errors_and_empty() -> None:
    assert len(synth.prompt_corpus("latin", n_prompts=0).texts) == 0
    with pytest.raises(ParameterError, match=r"^The 'script' parameter of prompt_corpus must be one of"):
        synth.prompt_corpus("klingon")
    with pytest.raises(ParameterError, match=r"^The 'n_prompts' parameter of prompt_corpus must be an int >= 0\. "
                                             r"Got -1 instead\.$"):
        synth.prompt_corpus(n_prompts=-1)
    with pytest.raises(ParameterError, match="'paraphrase'"):
        synth.prompt_corpus(paraphrase=1.5)
    with pytest.raises(ParameterError, match="'p_free'"):
        synth.prompt_corpus(p_free=0.6, p_system=0.6)
