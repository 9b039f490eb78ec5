"""Tests of sybilgraph.templates (the ``prompt`` kind's normaliser)."""

from __future__ import annotations

import math
import random
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import sybilgraph.templates as templates
from sybilgraph._arrays import factorize_text
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


# --------------------------------------------------------------------------- #
# Scripts: CJK, Arabic, emoji, mixed; hostile characters
# --------------------------------------------------------------------------- #

ZH_TEMPLATES = [
    "请把下面这段文字翻译成{x}，务必保持原文的语气和格式：{y}",
    "请一步一步地推理，写出完整的解题过程，然后再给出最终答案：{y}",
    "请围绕{x}生成{n}组多样化的问答对，用于训练客服模型，并以JSON格式逐行输出。",
]
ZH_WORDS = ["服务器", "数据库", "发票", "模型", "用户", "报告", "网络", "表格", "算法", "客户", "订单", "合同", "预算", "天气"]
ZH_FRAMES = ["{a}在{b}的时候为什么这么慢？", "{a}之前必须先检查{b}。", "{a}和{b}都要测试。", "{a}的{b}经常过时。",
             "{a}对{b}来说真的有用吗？", "{a}不用改，只要优化{b}。"]
# stock phrases (of up to ten characters) that unrelated free-form prompts share
ZH_OPENERS = ["请帮我", "我想知道", "请详细解释一下", "有没有什么办法可以", "请一步一步地告诉我"]
JA_TEMPLATES = [
    "以下の文章を{x}に翻訳してください。元の文章の口調と書式はそのまま保ってください：{y}",
    "この問題を一歩ずつ考え、途中の計算をすべて示してから最終的な答えを出してください：{y}",
]
JA_WORDS = ["サーバー", "データベース", "契約", "予算", "庭", "部屋", "天気", "レシピ", "車", "先生", "会議", "注文"]
JA_FRAMES = ["{a}の前に{b}を確認する。", "{a}はいつも{b}より遅い。", "{a}と{b}を両方掃除する。", "{a}は変えずに、{b}だけを更新する。"]
JA_OPENERS = ["ちょっと聞きたいんですが、", "質問があります。", "詳しく説明してください。"]
AR_TEMPLATES = [
    "ترجم النص التالي إلى {x} مع الحفاظ على الأسلوب والتنسيق كما هما تماما: {y}",
    "حل هذه المسألة خطوة بخطوة واعرض كل تفكيرك قبل أن تعطي الإجابة النهائية: {y}",
]
AR_WORDS = ["الخادم", "المستخدم", "العقد", "النموذج", "الفاتورة", "التقرير", "الطقس", "السجل", "المطار", "الحديقة"]
AR_FRAMES = ["لماذا {a} بطيء جدا عند {b}؟", "يجب أن يفحص {a} {b} قبل الغد.", "أريد أن أحفظ {a} و{b} معا.",
             "منذ أمس أصبح {a} أقدم من {b}."]


def _content(rng: random.Random, frames: list[str], words: list[str], sep: str, lo: int = 1, hi: int = 3) -> str:
    """One to three sentences: frames with words drawn at random (content that rarely repeats)."""
    return sep.join(rng.choice(frames).format(a=rng.choice(words), b=rng.choice(words))
                    for _ in range(rng.randint(lo, hi)))


def _script_corpus(templates_: list[str], frames: list[str], words: list[str], sep: str, seed: int = 0,
                   per_template: int = 12) -> tuple[list[str], list[int]]:
    """Instances of each template with varied content in its slots."""
    rng = random.Random(seed)
    texts, truth = [], []
    for t, tpl in enumerate(templates_):
        for _ in range(per_template):
            texts.append(tpl.format(x=rng.choice(words), n=rng.randint(2, 99), y=_content(rng, frames, words, sep)))
            truth.append(t)
    return texts, truth


def _free(openers: list[str], frames: list[str], words: list[str], sep: str, n: int, seed: int = 1) -> list[str]:
    """Free-form prompts: a stock opener and content."""
    rng = random.Random(seed)
    return [rng.choice(openers) + sep + _content(rng, frames, words, sep, 2, 3) for _ in range(n)]


def _assert_grouping(ids: np.ndarray, truth: list[int]) -> None:
    """Instances of one template share one id, different templates do not."""
    per_template = [{ids[i] for i, t in enumerate(truth) if t == k} for k in sorted(set(truth))]
    assert all(len(g) == 1 for g in per_template), per_template
    assert len({next(iter(g)) for g in per_template}) == len(per_template)


def test_cjk_text_gives_character_shingles() -> None:
    import pyarrow as pa

    text = normalise_prompt("请把下面这段文字翻译成英文")  # 13 characters, no space
    features, doc = templates._shingles(pa.array([text]))
    assert len(set(features.tolist())) == 11 + 10  # character trigrams and gapped 4-grams
    _, doc, weight = templates._weighted_shingles(pa.array([text, "ちょっと聞きたい", "abc def ghi"]))
    assert set(weight[doc == 0].tolist()) == {templates._WEIGHT_HAN}
    assert set(weight[doc == 1].tolist()) == {templates._WEIGHT_SYLLABLE}  # a kana makes a shingle light
    assert set(weight[doc == 2].tolist()) == {templates._WEIGHT_WORD}


def test_chinese_templates() -> None:
    texts, truth = _script_corpus(ZH_TEMPLATES, ZH_FRAMES, ZH_WORDS, "")
    free = _free(ZH_OPENERS, ZH_FRAMES, ZH_WORDS, "", 40)
    ids = mine_templates(texts + free).template_ids
    _assert_grouping(ids[:len(texts)], truth)
    # free prompts that only share a stock phrase keep their own ids
    assert len(set(ids[len(texts):])) == len(set(free))
    assert not set(ids[len(texts):]) & set(ids[:len(texts)])


def test_japanese_templates_and_a_long_stock_phrase() -> None:
    texts, truth = _script_corpus(JA_TEMPLATES, JA_FRAMES, JA_WORDS, "")
    # "ちょっと聞きたいんですが、" is twelve characters: as many character trigrams as a
    # long English phrase, but mostly kana, so it weighs too little to be a template
    free = _free(JA_OPENERS, JA_FRAMES, JA_WORDS, "", 30)
    ids = mine_templates(texts + free).template_ids
    _assert_grouping(ids[:len(texts)], truth)
    free_ids = ids[len(texts):]
    assert len(set(free_ids)) == len(set(free))


def test_arabic_templates_with_diacritics_kashida_and_bidi_marks() -> None:
    texts, truth = _script_corpus(AR_TEMPLATES, AR_FRAMES, AR_WORDS, " ")
    # the same instruction written with a short vowel, a kashida, a right-to-left mark,
    # a zero-width space and Arabic-Indic digits
    hostile = ["تَرجم النص التـالي إلى الفرنسية مع \u200fالحفاظ على الأسلوب والتن\u200bسيق كما هما تماما: "
               "لماذا الخادم بطيء جدا عند ٣ مرات؟"]
    ids = mine_templates(texts + hostile).template_ids
    _assert_grouping(ids[:len(texts)], truth)
    assert ids[-1] == ids[0]
    assert normalise_prompt("تَرجـمْ ٣٫٥ \u200fنص") == normalise_prompt("ترجم 3.5 نص") == "ترجم <num> نص"


def test_emoji() -> None:
    # skin tones, variation selectors and joiners fold away; each emoji is a token of its own
    assert normalise_prompt("👍🏽 Great job ❤️") == normalise_prompt("👍 great job ❤") == "👍 great job ❤"
    assert normalise_prompt("👨\u200d💻") == "👨💻"
    import pyarrow as pa

    features, _ = templates._shingles(pa.array(["🚀🔥✨"]))
    assert len(features) == 1  # three tokens: one trigram
    rng = random.Random(3)
    tpl = "🚀 Write a viral tweet about {x} 🔥 Use at most {n} hashtags and one clear call to action ✨"
    topics = ["kernels", "garden tools", "coffee", "tax law", "rust", "the weather", "trains", "cats"]
    texts = [tpl.format(x=rng.choice(topics), n=rng.randint(2, 9)) for _ in range(12)]
    texts += [t.replace("🔥", "🔥🔥").replace("✨", "✨👍🏿") for t in texts[:3]]
    ids = mine_templates(texts + ["🔥🔥🔥", "What is the capital of France? 🇫🇷"]).template_ids
    assert len(set(ids[:15])) == 1 and ids[15] != ids[0] and ids[16] != ids[0]


def test_mixed_script_templates() -> None:
    rng = random.Random(4)
    en = ["The invoice must be checked before the order.", "Why is the server so slow during the exam?",
          "Mary says the recipe is too expensive.", "I want to save the table and the report."]
    mixed = [
        "请用{x}实现下面的功能，并写出完整的unit tests和README：{y}",
        "Translate the following Chinese text into natural English and explain every idiom you find: {z}",
        "กรุณาแปลข้อความต่อไปนี้เป็นภาษาไทยและอธิบายคำศัพท์ยากทุกคำอย่างละเอียด: {y}",
    ]
    texts, truth = [], []
    for t, tpl in enumerate(mixed):
        for _ in range(10):
            texts.append(tpl.format(x=rng.choice(["Python", "Rust", "Go"]), y=" ".join(rng.sample(en, 2)),
                                    z=_content(rng, ZH_FRAMES, ZH_WORDS, "")))
            truth.append(t)
    _assert_grouping(mine_templates(texts).template_ids, truth)


def test_latin_accents_width_and_invisible_characters_fold() -> None:
    assert normalise_prompt("Écris une réponse") == normalise_prompt("ECRIS UNE REPONSE") == "ecris une reponse"
    assert normalise_prompt("Ü\u0308bersetze") == normalise_prompt("übersetze") == "ubersetze"
    # zero-width characters, bidi overrides, soft hyphens, NUL and other controls vanish
    hostile = "Trans\u200blate\u00ad the\u202e text\u202c \x00in\x07to Fr\ufeffench"
    assert normalise_prompt(hostile) == "translate the text into french"
    assert normalise_prompt("\u3000全角\u3000ＡＢＣ　１２３") == "全角 abc <num>"
    assert normalise_prompt("「引用された部分」を訳して") == "<str>を訳して"


def test_lone_surrogates_do_not_crash() -> None:
    # Python strings decoded with surrogateescape can hold them; UTF-8 cannot
    assert normalise_prompt("a\udc80b") == "a\ufffdb"
    assert normalise_prompt("\ud83d\ude00") == "😀"  # a pair is the character it encodes
    res = mine_templates(["a\udc80b", "a\ufffdb", "x"])
    assert res.template_ids[0] == res.template_ids[1] != res.template_ids[2]


def test_pipeline_gives_accounts_of_one_chinese_template_one_value() -> None:
    # Eight accounts send a Chinese template; sixty users send free-form Chinese prompts with
    # stock phrases. Through cluster_accounts (the large_string path that used to crash), the
    # eight share one prompt_template value and every user keeps a value of their own.
    import sybilgraph as sg

    rng = random.Random(0)
    rows = [(f"op{i}", "prompt",
             ZH_TEMPLATES[0].format(x=rng.choice(ZH_WORDS), y=_content(rng, ZH_FRAMES, ZH_WORDS, "")))
            for i in range(8) for _ in range(2)]
    rows += [(f"user{j}", "prompt", t) for j, t in enumerate(_free(ZH_OPENERS, ZH_FRAMES, ZH_WORDS, "", 60))]
    res = sg.cluster_accounts(pd.DataFrame(rows, columns=["account_id", "kind", "value"]))
    assert len(res.assignments) == 68
    assert res.templates is not None
    assert sorted(res.templates["n_accounts"].tolist(), reverse=True)[:2] == [8, 1]
    assert int(res.templates["n_prompts"].max()) == 16


@pytest.mark.parametrize("script", ["latin", "cjk", "arabic", "mixed"])
def test_script_corpus_precision_and_recall(script: str) -> None:
    # the library's multilingual corpus (benchmarks/bench_templates_multilingual.py runs it larger);
    # before templates knew scripts without spaces, CJK recall was 0.09 and mixed 0.45. On
    # 3,000 prompts a template's paraphrased variants vary with the seed: Arabic recall
    # ranges over 0.93-1.0 for seeds 0-5, hence the margin.
    from sybilgraph import metrics, synth

    corpus = synth.prompt_corpus(script, n_prompts=3000, seed=0)
    ids = mine_templates(corpus.texts, corpus.accounts).template_ids
    precision, recall, _ = metrics.pairwise_scores(corpus.truth, ids)
    assert precision >= 0.99 and recall >= 0.95, (precision, recall)


_SPECIAL = st.sampled_from(list("\x00\x01\x1b\x7f\t\n\r \u00a0\u3000\u200b\u200c\u200d\u200e\u200f\u202a\u202e"
                                "\u2066\u2069\ufeff\u00ad\u0301\u0640\u064e\ufe0f\U0001f3fd") +
                           ["请", "把", "下", "面", "。", "，", "て", "ア", "ー", "ก", "ั", "ت", "ر", "ج", "م", "א",
                            "é", "ß", "İ", "Σ", "👍", "🇫", "🇷", "1", "٣", "a", "Z", "_", "`", "'", '"', "<", ">",
                            "\ud800", "\udc80", "\ud83d", "\ude00"])  # lone surrogates, and a pair
_ANY_TEXT = st.one_of(st.text(max_size=40), st.lists(_SPECIAL, max_size=40).map("".join),
                      st.text(alphabet=st.characters(blacklist_categories=()), max_size=10))  # with surrogates


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_ANY_TEXT, st.none()), max_size=25), st.randoms(use_true_random=False))
@example(["\U000b0efa0\u0201\u0601", "", "\x01\ud83d\x00\u064e\ud83d\uff0c\x1b\udc80"], random.Random(0))  # pandas < 3.1
def test_any_unicode_never_raises_and_row_order_does_not_matter(extra: list[str | None], rnd: random.Random) -> None:
    # arbitrary text among real template instances, so that templates are learned too
    texts: list[str | None] = list(CORPUS[:40]) + extra
    accounts = [f"acct{i % 7}" for i in range(len(texts))]
    a = mine_templates(texts, accounts, max_prompts_per_account=8)
    perm = list(range(len(texts)))
    rnd.shuffle(perm)
    b = mine_templates([texts[i] for i in perm], [accounts[i] for i in perm], max_prompts_per_account=8)
    assert list(a.template_ids[perm]) == list(b.template_ids)
    pd.testing.assert_frame_equal(a.table, b.table)
    for text, tid in zip(texts, a.template_ids):
        assert (tid is None) == (text is None or normalise_prompt(text) == "")
    # the pipeline's path: distinct texts in a large_string array (where non-ASCII text crashed)
    import pyarrow as pa

    codes, distinct = factorize_text(np.array(texts, dtype=object))
    clean = [t.encode("utf-16", "surrogatepass").decode("utf-16", "replace") for t in distinct]
    rows, ids, table = templates.mine_templates_encoded(codes, pa.array(clean, type=pa.large_string()),
                                                        factorize_text(np.array(accounts, dtype=object))[0],
                                                        max_prompts_per_account=8)
    assert [ids[r] if r >= 0 else None for r in rows] == list(a.template_ids)
    pd.testing.assert_frame_equal(table, a.table)


@settings(max_examples=200, deadline=None)
@given(_ANY_TEXT)
def test_folding_is_idempotent(text: str) -> None:
    once = templates._fold(text.encode("utf-16", "surrogatepass").decode("utf-16", "replace"))
    assert templates._fold(once) == once
