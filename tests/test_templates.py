"""Tests of sybilgraph.templates (the ``prompt`` kind's normaliser)."""

from __future__ import annotations

import math
import random
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sybilgraph.templates as templates
from sybilgraph._errors import InputError, ParameterError
from sybilgraph.templates import Templates, mine_templates, normalise_prompt

# --------------------------------------------------------------------------- #
# A small corpus: four templates with slots, free-form prompts, system prompts
# --------------------------------------------------------------------------- #

WORDS = """apple river cloud stone garden window engine market pencil rocket
mirror forest candle bridge harbor violin planet ladder marble coffee tiger
silver meadow button castle orange winter summer island thunder feather
lantern compass circle anchor pocket helmet basket shadow signal""".split()

TEMPLATES = [
    "Write a complete {lang} implementation for: {task}. Include unit tests and "
    "explain the design choices in a short paragraph. Repository context: {code}",
    "Summarise the following article in {n} bullet points for a busy executive, "
    "keeping every number exact and never inventing facts: {task}",
    "You are a meticulous translator. Translate the text below into {lang}, keep "
    "the formatting and the tone, and list any idiom you had to adapt: {task}",
    "Generate {n} diverse question and answer pairs about {topic} for training a "
    "customer support model, returned as JSON lines with the keys q and a.",
]
LANGS = ["Python", "Rust", "Go", "French", "German", "Java"]
SYSTEM_PROMPTS = [
    "You are a helpful assistant. Answer briefly.",
    "Act as a pirate in every reply, arr.",
]


def _sentence(rng: random.Random, lo: int = 4, hi: int = 14) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi))).capitalize()


def _fill(rng: random.Random, t: int) -> str:
    code = "```python\ndef %s_%s(x):\n    return x * %d\n```" % (
        rng.choice(WORDS), rng.choice(WORDS), rng.randint(0, 99))
    return TEMPLATES[t].format(
        lang=rng.choice(LANGS), task=" ".join(_sentence(rng) for _ in range(rng.randint(1, 3))),
        code=code, n=rng.randint(2, 500), topic=" ".join(rng.sample(WORDS, rng.randint(1, 3))))


def make_corpus(seed: int = 0, per_template: int = 25, n_free: int = 30,
                n_system: int = 10) -> tuple[list[str], list[str], list[str]]:
    """Texts, accounts and the true group of each text."""
    rng = random.Random(seed)
    texts, accounts, truth = [], [], []
    for t in range(len(TEMPLATES)):
        for _ in range(per_template):
            texts.append(_fill(rng, t))
            accounts.append(f"op{t}-{rng.randint(0, 4)}")
            truth.append(f"t{t}")
    for i in range(n_free):
        texts.append(_sentence(rng, 6, 20) + "?")
        accounts.append(f"user{rng.randint(0, 50)}")
        truth.append(f"free{i}")
    for i in range(n_system):
        s = i % len(SYSTEM_PROMPTS)
        texts.append(SYSTEM_PROMPTS[s])
        accounts.append(f"user{rng.randint(0, 50)}")
        truth.append(f"sys{s}")
    return texts, accounts, truth


CORPUS, ACCOUNTS, TRUTH = make_corpus()
ID_RE = re.compile(r"^tpl-[0-9a-f]{16}$")


@pytest.fixture(scope="module")
def mined() -> Templates:
    return mine_templates(CORPUS, ACCOUNTS)


# --------------------------------------------------------------------------- #
# normalise_prompt
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Hello\t\tWORLD \n", "hello world"),
        ("Ｆｕｌｌｗｉｄｔｈ ＡＢＣ", "fullwidth abc"),  # NFKC
        ("Straße", "strasse"),  # case folding, not just lower()
        ("Run it 42 times at 3.14 or 1,000,000", "run it <num> times at <num> or <num>"),
        ("see https://example.com/a/b?c=1, then www.x.org.", "see <url>, then <url>."),
        ("mail bob.smith+tag@example.co.uk now", "mail <email> now"),
        ('say "hello there" and \'bye now\' but don\'t stop', "say <str> and <str> but don't stop"),
        ("call `parse_user(x)` then", "call <code> then"),
        ("code: ```py\nx = 1\n``` done", "code: <code> done"),
        ("unterminated ```python\nx = 1", "unterminated <code>"),
        ("id 123e4567-e89b-12d3-a456-426614174000 ok", "id <uuid> ok"),
        ("hash 9f86d081884c7d659a2feaa0 and 0xDEADBEEF", "hash <hex> and <hex>"),
        ("use my_long_variable and os.path.join and user42", "use <id> and <id> and <id>"),
        ("", ""),
        (" \n\t ", ""),
    ],
)
def test_normalise_prompt_examples(text: str, expected: str) -> None:
    assert normalise_prompt(text) == expected


def test_normalise_prompt_rejects_non_str() -> None:
    with pytest.raises(InputError):
        normalise_prompt(None)  # type: ignore[arg-type]


def test_normalise_prompt_matches_batch(mined: Templates) -> None:
    # the representative of every template is a normalised text (a fixed point)
    for rep in mined.table["representative"]:
        assert normalise_prompt(rep) == rep


# --------------------------------------------------------------------------- #
# Invariance: whitespace, case and numbers never change the fingerprint
# --------------------------------------------------------------------------- #

_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1,
                max_size=10)
_number = st.integers(min_value=0, max_value=10**9).map(str)
_punct = st.sampled_from(["", "", ",", ".", ":", "?", "!"])
_token = st.tuples(st.one_of(_word, _number, st.sampled_from(WORDS)), _punct).map("".join)
_whitespace = st.lists(st.sampled_from([" ", "  ", "\t", "\n", " \n "]), min_size=1,
                       max_size=3).map("".join)


@st.composite
def prompt_and_variant(draw: st.DrawFn) -> tuple[str, str]:
    """A prompt and a variant differing in whitespace, letter case and numbers."""
    base = draw(st.sampled_from([""] + [_fill(random.Random(i), i % 4) for i in range(8)]))
    tokens = base.split() + draw(st.lists(_token, min_size=0 if base else 1, max_size=25))
    seps_a = [" "] * (len(tokens) - 1)
    seps_b = [draw(_whitespace) for _ in seps_a]
    rnd = random.Random(draw(st.integers(0, 2**32)))

    def vary(tok: str) -> str:
        # other digits, other letter case (ASCII)
        tok = re.sub(r"\d+", lambda m: str(rnd.randint(0, 10**rnd.randint(1, 12))), tok)
        return "".join(ch.upper() if rnd.random() < 0.5 else ch.lower()
                       if ch.isascii() else ch for ch in tok)

    a = "".join(t + s for t, s in zip(tokens, seps_a + [""]))
    b = draw(_whitespace) + "".join(vary(t) + s for t, s in zip(tokens, seps_b + [""])) \
        + draw(_whitespace)
    return a, b


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prompt_and_variant())
def test_normalisation_ignores_whitespace_case_numbers(pair: tuple[str, str]) -> None:
    a, b = pair
    assert normalise_prompt(a) == normalise_prompt(b)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prompt_and_variant())
def test_fingerprint_ignores_whitespace_case_numbers(pair: tuple[str, str]) -> None:
    a, b = pair
    base = CORPUS[:60] + CORPUS[100:]
    id_a = mine_templates(base + [a]).template_ids[-1]
    id_b = mine_templates(base + [b]).template_ids[-1]
    assert id_a == id_b


# --------------------------------------------------------------------------- #
# Grouping
# --------------------------------------------------------------------------- #


def test_slot_filled_prompts_share_the_template_id(mined: Templates) -> None:
    ids = mined.template_ids
    for t in range(len(TEMPLATES)):
        group = {ids[i] for i, g in enumerate(TRUTH) if g == f"t{t}"}
        assert len(group) == 1, f"template {t} got {len(group)} ids"


def test_different_templates_get_different_ids(mined: Templates) -> None:
    ids = mined.template_ids
    per_template = [ids[TRUTH.index(f"t{t}")] for t in range(len(TEMPLATES))]
    assert len(set(per_template)) == len(TEMPLATES)


def test_free_form_prompts_keep_their_own_ids(mined: Templates) -> None:
    ids = mined.template_ids
    free = [ids[i] for i, g in enumerate(TRUTH) if g.startswith("free")]
    assert len(set(free)) == len(free)
    assert not set(free) & {ids[TRUTH.index(f"t{t}")] for t in range(len(TEMPLATES))}


def test_identical_system_prompts_share_an_id(mined: Templates) -> None:
    ids = mined.template_ids
    for s in range(len(SYSTEM_PROMPTS)):
        group = {ids[i] for i, g in enumerate(TRUTH) if g == f"sys{s}"}
        assert len(group) == 1
    assert ids[TRUTH.index("sys0")] != ids[TRUTH.index("sys1")]


def test_light_paraphrase_keeps_the_id(mined: Templates) -> None:
    rng = random.Random(99)
    edited = [
        _fill(rng, 0).replace("Write a complete", "Write a full"),  # synonym
        _fill(rng, 0).replace(" short paragraph", " paragraph"),  # dropped word
        _fill(rng, 1).replace(", keeping", " - keeping").replace("exact and", "exact, and"),
        _fill(rng, 2).replace("meticulous translator", "translator meticulous"),  # swap
    ]
    res = mine_templates(CORPUS + edited, ACCOUNTS + ["x"] * len(edited))
    ids = res.template_ids
    for k, t in enumerate([0, 0, 1, 2]):
        assert ids[len(CORPUS) + k] == ids[TRUTH.index(f"t{t}")]


def test_table(mined: Templates) -> None:
    table = mined.table
    assert list(table.columns) == ["template_id", "representative", "n_prompts", "n_accounts"]
    assert table["template_id"].is_unique
    assert all(ID_RE.match(x) for x in table["template_id"])
    assert table["n_prompts"].sum() == len(CORPUS)
    assert set(table["template_id"]) == set(mined.template_ids)
    order = table.sort_values(["n_prompts", "template_id"], ascending=[False, True])
    assert table.equals(order.reset_index(drop=True))
    # n_accounts counts distinct senders
    t0 = mined.template_ids[TRUTH.index("t0")]
    senders = {a for a, i in zip(ACCOUNTS, mined.template_ids) if i == t0}
    assert int(table.set_index("template_id").loc[t0, "n_accounts"]) == len(senders)
    rep = table.set_index("template_id").loc[t0, "representative"]
    assert rep.startswith("write a complete") and "<code>" in rep
    assert (mine_templates(CORPUS).table["n_accounts"] == 0).all()


def test_template_ids_are_aligned_object_strings(mined: Templates) -> None:
    assert isinstance(mined.template_ids, np.ndarray)
    assert mined.template_ids.dtype == object
    assert len(mined.template_ids) == len(CORPUS)
    assert all(isinstance(x, str) for x in mined.template_ids)


# --------------------------------------------------------------------------- #
# Determinism and row-order independence
# --------------------------------------------------------------------------- #


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False))
def test_row_order_does_not_matter(rnd: random.Random) -> None:
    perm = list(range(len(CORPUS)))
    rnd.shuffle(perm)
    a = mine_templates(CORPUS, ACCOUNTS, max_prompts_per_account=4)
    b = mine_templates([CORPUS[i] for i in perm], [ACCOUNTS[i] for i in perm],
                       max_prompts_per_account=4)
    assert list(a.template_ids[perm]) == list(b.template_ids)
    pd.testing.assert_frame_equal(a.table, b.table)


def test_row_order_does_not_matter_across_rounds(monkeypatch: pytest.MonkeyPatch) -> None:
    # a learning budget smaller than the corpus forces several learning rounds
    monkeypatch.setattr(templates, "LEARNING_BUDGET", 40)
    perm = np.random.default_rng(3).permutation(len(CORPUS))
    a = mine_templates(CORPUS, ACCOUNTS)
    b = mine_templates([CORPUS[i] for i in perm], [ACCOUNTS[i] for i in perm])
    assert list(a.template_ids[perm]) == list(b.template_ids)
    pd.testing.assert_frame_equal(a.table, b.table)


def test_same_input_same_result_and_input_types(mined: Templates) -> None:
    again = mine_templates(pd.Series(CORPUS), pd.Series(ACCOUNTS))
    assert list(again.template_ids) == list(mined.template_ids)
    as_array = mine_templates(np.array(CORPUS, dtype=object), ACCOUNTS)
    assert list(as_array.template_ids) == list(mined.template_ids)


# --------------------------------------------------------------------------- #
# Memory policy: per-account cap and learning rounds
# --------------------------------------------------------------------------- #


def test_heavy_account_is_capped_but_fully_assigned() -> None:
    rng = random.Random(5)
    heavy = [_fill(rng, 3) for _ in range(300)]
    texts = CORPUS + heavy
    accounts = ACCOUNTS + ["heavy"] * len(heavy)
    res = mine_templates(texts, accounts, max_prompts_per_account=10)
    ids = res.template_ids
    assert len(set(ids[len(CORPUS):])) == 1  # every heavy prompt assigned
    assert ids[-1] == ids[TRUTH.index("t3")]
    row = res.table.set_index("template_id").loc[ids[-1]]
    assert row["n_prompts"] == 300 + TRUTH.count("t3")


def test_template_of_a_single_capped_account_is_learned() -> None:
    rng = random.Random(6)
    texts = [_fill(rng, 1) for _ in range(50)]
    res = mine_templates(texts, ["only"] * len(texts), max_prompts_per_account=5)
    assert len(set(res.template_ids)) == 1


def test_rare_template_found_in_a_later_round(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(templates, "LEARNING_BUDGET", 60)
    rng = random.Random(8)
    rare = [
        "Please grade this essay strictly against the rubric, quote the weakest sentence, "
        f"and propose a better version of it for the student named {rng.choice(WORDS)}: "
        f"{_sentence(rng)}" for _ in range(6)]
    res = mine_templates(CORPUS + rare)
    assert len(set(res.template_ids[len(CORPUS):])) == 1
    for t in range(len(TEMPLATES)):
        assert len({i for i, g in zip(res.template_ids, TRUTH) if g == f"t{t}"}) == 1


# --------------------------------------------------------------------------- #
# Empty and missing prompts
# --------------------------------------------------------------------------- #


def test_missing_and_empty_prompts_get_no_id() -> None:
    texts: list[object] = [*CORPUS[:30], None, float("nan"), "", "   \n\t", pd.NA]
    res = mine_templates(texts, ACCOUNTS[:30] + ["a", None, "b", "c", "d"])  # type: ignore[arg-type]
    assert all(x is None for x in res.template_ids[30:])
    assert all(isinstance(x, str) for x in res.template_ids[:30])
    assert res.table["n_prompts"].sum() == 30
    assert res.table["template_id"].notna().all()


def test_empty_input() -> None:
    res = mine_templates([])
    assert len(res.template_ids) == 0
    assert list(res.table.columns) == ["template_id", "representative", "n_prompts", "n_accounts"]
    assert len(res.table) == 0
    res = mine_templates([None, "", " "], ["a", "b", "c"])
    assert list(res.template_ids) == [None, None, None]
    assert len(res.table) == 0


def test_single_prompt() -> None:
    res = mine_templates(["Hello there, General Kenobi"])
    assert ID_RE.match(res.template_ids[0])
    assert res.table["representative"].tolist() == ["hello there, general kenobi"]


# --------------------------------------------------------------------------- #
# Parameter and input validation
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("value", [0, 0.0, -0.1, 1.5, 2, math.nan, math.inf, "0.5", True, None])
def test_threshold_validation(value: object) -> None:
    with pytest.raises(ParameterError) as err:
        mine_templates(CORPUS[:5], threshold=value)  # type: ignore[arg-type]
    assert str(err.value) == (
        "The 'threshold' parameter of mine_templates must be a float in (0, 1]. "
        f"Got {value!r} instead.")


def test_threshold_validation_message_example() -> None:
    with pytest.raises(ParameterError, match=re.escape(
            "The 'threshold' parameter of mine_templates must be a float in (0, 1]. "
            "Got 2 instead.")):
        mine_templates(CORPUS[:5], threshold=2)


@pytest.mark.parametrize("value", [0, -3, 1.5, True, "10", None])
def test_max_prompts_per_account_validation(value: object) -> None:
    with pytest.raises(ParameterError, match="'max_prompts_per_account' parameter of "
                                             "mine_templates must be an int >= 1"):
        mine_templates(CORPUS[:5], max_prompts_per_account=value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [-1, 2**32, 1.0, False, "0"])
def test_seed_validation(value: object) -> None:
    with pytest.raises(ParameterError, match="'seed' parameter of mine_templates"):
        mine_templates(CORPUS[:5], seed=value)  # type: ignore[arg-type]


def test_valid_edge_parameters() -> None:
    mine_templates(CORPUS[:20], threshold=1.0, max_prompts_per_account=1, seed=2**32 - 1)
    mine_templates(CORPUS[:20], threshold=1e-9, seed=np.int64(3))


def test_input_validation() -> None:
    with pytest.raises(InputError, match="not a single str"):
        mine_templates("one prompt")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="aligned"):
        mine_templates(CORPUS[:5], ACCOUNTS[:4])
    with pytest.raises(InputError, match=r"int 7 at row 1"):
        mine_templates(["a prompt", 7, "another"])  # type: ignore[list-item]
    with pytest.raises(InputError, match="one-dimensional"):
        mine_templates(np.array([["a", "b"]], dtype=object))
    with pytest.raises(ParameterError):  # ParameterError is also a ValueError
        mine_templates(CORPUS[:5], threshold=0)
    assert issubclass(ParameterError, ValueError) and issubclass(InputError, ValueError)


_ASCII_AND_SPACES = st.text(alphabet=st.sampled_from(list("aZ 09.\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x00")), max_size=30)


@given(st.lists(st.one_of(_ASCII_AND_SPACES, st.text(max_size=30)), max_size=20))
def test_arrow_fold_equals_python_fold(texts: list[str]) -> None:
    # ASCII texts are folded by Arrow kernels, the others in Python: both must equal the reference.
    import pyarrow as pa

    got = templates._fold_arrow(pa.array(texts, type=pa.string())).to_pylist()
    assert got == [templates._fold(t) for t in texts]


def test_encoded_twin_agrees_with_mine_templates() -> None:
    # The pipeline's path: integer codes into a table of distinct texts (in another order,
    # with a text nobody sent), account codes, and a missing prompt.
    import pyarrow as pa

    texts = CORPUS + [None]
    accounts = ACCOUNTS + ["user0"]
    expected = mine_templates(texts, accounts, max_prompts_per_account=4)
    distinct = sorted(set(CORPUS)) + ["never sent"]
    code = {t: i for i, t in enumerate(distinct)}
    account_codes = pd.factorize(pd.Series(accounts))[0]
    rows, ids, table = templates.mine_templates_encoded(
        np.array([code[t] if t is not None else -1 for t in texts]), pa.array(distinct, type=pa.large_string()),
        account_codes, max_prompts_per_account=4)
    got = [ids[r] if r >= 0 else None for r in rows]
    assert got == list(expected.template_ids)
    pd.testing.assert_frame_equal(table, expected.table)


# --------------------------------------------------------------------------- #
# Any script, any type of Arrow string array
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("arrow_type", ["string", "large_string", "string_view", "chunked"])
def test_non_ascii_prompts_in_a_large_string_array_do_not_crash(arrow_type: str) -> None:
    # Regression: _fold_arrow passed a large_string array and string replacements to
    # pc.replace_with_mask (ArrowNotImplementedError), so one non-ASCII prompt killed the run.
    import pyarrow as pa

    distinct = ["Straße", "请把下面的文章翻译成英文", "plain ascii prompt"]
    if arrow_type == "chunked":
        arr: pa.Array | pa.ChunkedArray = pa.chunked_array([distinct[:1], distinct[1:]], type=pa.string())
    elif arrow_type == "string_view" and not hasattr(pa, "string_view"):
        pytest.skip("pyarrow without string_view")
    else:
        arr = pa.array(distinct, type=getattr(pa, arrow_type)())
    rows, ids, table = templates.mine_templates_encoded(np.array([0, 1, 2, 1]), arr)
    assert ids[rows[1]] == ids[rows[3]] and len({ids[r] for r in rows}) == 3
    assert sorted(table["representative"]) == sorted(normalise_prompt(t) for t in distinct)


def test_encoded_rejects_what_is_not_a_string_array() -> None:
    import pyarrow as pa

    with pytest.raises(InputError, match="type int64"):
        templates.mine_templates_encoded(np.array([0]), pa.array([1]))
    with pytest.raises(InputError, match="list"):
        templates.mine_templates_encoded(np.array([0]), ["a"])  # type: ignore[arg-type]


def test_cli_clusters_a_file_with_non_ascii_prompts(tmp_path: Path) -> None:
    # Regression for the crash as a user met it: the CLI on a CSV with a German and a Chinese prompt.
    import subprocess
    import sys

    src = tmp_path / "obs.csv"
    src.write_text("account_id,kind,value\na1,prompt,Straße\na2,prompt,请把下面的文章翻译成英文\n"
                   "a3,ip,1.2.3.4\na1,ip,1.2.3.4\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    proc = subprocess.run([sys.executable, "-m", "sybilgraph", "cluster", str(src), "-o", str(out)],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode == 0, proc.stderr
    assert sorted(pd.read_csv(out)["account_id"]) == ["a1", "a2", "a3"]
