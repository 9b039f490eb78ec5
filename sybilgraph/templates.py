"""Prompt templates: the ``prompt`` kind's normaliser.

Distillation operators send the same instruction again and again with
different content in its slots ("Write a complete Python implementation for:
{task}. Include tests. Repository context: {ctx}"), sometimes lightly
paraphrased. The exact text never repeats; the template does. This module
gives every prompt the id of its template so that accounts sending the same
template can be linked like accounts sharing a card or a device.

Method (see ``docs/prompt_templates.md`` for the measurements)
--------------------------------------------------------------
1. :func:`normalise_prompt` folds case, width, diacritics, invisible
   characters and whitespace and masks numbers, URLs, e-mail addresses, quoted
   strings, code and identifiers. Distinct normalised texts are the unit of
   work from then on.
2. Every normalised text is cut into tokens -- space-separated words, and
   every character of a script written without spaces (Chinese, Japanese,
   Thai, ...) and every emoji on its own -- and the tokens into *shingles*:
   contiguous trigrams plus gapped 4-grams (``w0 w1 _ w3``, which survive a
   one-word slot or a synonym). Punctuation is not part of a token, so
   punctuation edits do not change the shingles. A shingle of characters
   weighs less than one of words (a Han character half a word, a kana or
   Thai character a quarter), and the sizes below count weights.
3. **Learning.** On a deterministic sample of distinct texts (at most
   ``max_prompts_per_account`` per account, smallest hash first, and at most
   :data:`LEARNING_BUDGET` in all), a shingle is *frequent* when it occurs in
   at least :data:`MIN_TEXTS` texts. The fixed text of a template is made of
   frequent shingles that *co-occur*: they are found in the same texts. Each
   frequent shingle gets a MinHash signature of the set of texts that contain
   it, and shingles whose sets have an estimated Jaccard similarity of at
   least :data:`LINK_JACCARD` are joined (LSH banding, each bucket verified
   against its leader, connected components). A group of at least
   :data:`MIN_SHINGLES` shingles is a template. Slot content may contain
   common phrases, but those phrases occur in unrelated texts too, so their
   shingles do not join a template's group.
4. **Assignment.** Every distinct text is assigned to the template whose
   shingles it contains most, provided it contains at least
   :data:`MIN_SHINGLES` of them and at least ``threshold`` of the template's
   shingles. Texts left over are learned again (up to :data:`MAX_ROUNDS`
   rounds), so rare templates missed by the sample are found among the rest.
5. A text that matches no template keeps its own identity: identical
   normalised texts share an id, anything else gets its own.

Every step is a function of the *set* of inputs (hashes, sorted orders,
connected components), never of row order, and template ids are
``"tpl-"`` plus a hash of the template's representative text, so the same
input in any row order gives the same result.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import unicodedata
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

from sybilgraph._arrays import factorize_text, unique_sorted
from sybilgraph._errors import InputError, ParameterError
from sybilgraph._text import THREADS

__all__ = [
    "Templates",
    "mine_templates",
    "normalise_prompt",
    "PLACEHOLDERS",
    "MIN_TEXTS",
    "MIN_SHINGLES",
    "LINK_JACCARD",
    "LEARNING_BUDGET",
    "MAX_ROUNDS",
]

# --------------------------------------------------------------------------- #
# Constants
# --------------------------------------------------------------------------- #

#: Placeholder tokens written by :func:`normalise_prompt`.
PLACEHOLDERS: tuple[str, ...] = (
    "<code>", "<url>", "<email>", "<str>", "<uuid>", "<hex>", "<id>", "<num>",
)

#: A shingle is frequent (a candidate piece of template text) when it occurs
#: in at least this many distinct normalised texts of the learning sample.
MIN_TEXTS: int = 3

#: A template has at least this many co-occurring frequent shingles, and a
#: text must contain at least this many of them to be assigned to it (seven
#: fixed words in a row give 9: 5 trigrams and 4 gapped 4-grams).
MIN_SHINGLES: int = 8

#: Two frequent shingles belong to the same template when the sets of texts
#: containing them have an estimated Jaccard similarity of at least this.
LINK_JACCARD: float = 0.6

#: Most distinct normalised texts learned from in one round (after the
#: per-account cap). Bounds the memory of learning; see ``mine_templates``.
LEARNING_BUDGET: int = 100_000

#: Most learning rounds; each later round learns from the texts left over.
MAX_ROUNDS: int = 3

_NUM_PERM = 32  # MinHash functions for the text sets of shingles
_ROWS_PER_BAND = 2  # LSH rows per band: 16 bands of 2 rows
_HEAD_TOKENS = 192  # shingles come from the first 192 and the last 64 words
_TAIL_TOKENS = 64
_CHUNK = 16_384  # texts per chunk of normalisation and shingling
_FILTER_SIZE = 1 << 20  # pre-filter of shingle look-ups (1 MB)
_FILTER_MASK = np.uint32(_FILTER_SIZE - 1)
_HASH_KEY_2 = "sybilgraph-tpl-2"  # second SipHash key: texts are told apart by 128 bits

_U64 = np.uint64
_M1 = _U64(0x9E3779B97F4A7C15)
_M2 = _U64(0xBF58476D1CE4E5B9)
_M3 = _U64(0x94D049BB133111EB)
_GAP = _U64(0x5BD1E9955BD1E995)
_SHIFT_30, _SHIFT_27, _SHIFT_31 = _U64(30), _U64(27), _U64(31)
_U32 = _U64(32)
# learning keys: shingle << 32 | weight << 29 | text (a round learns from at most 2**29 texts)
_WEIGHT_SHIFT = _U64(29)
_TEXT_MASK = _U64((1 << 29) - 1)

# RE2 patterns (pyarrow) applied in this order after case folding, digit
# canonicalisation and whitespace collapsing. Every pattern runs on text whose
# digit runs are already "0", so masking never depends on which digits a
# number had.
_MASKS: tuple[tuple[str, str], ...] = (
    # fenced code blocks, an unterminated fence runs to the end
    (r"```.*?(?:```|$)", "<code>"),
    # inline code
    (r"`[^`]+`", "<code>"),
    # URLs
    (r"\b(?:(?:https?|ftp|file)://|www\.)[^\s<>\"'`]*[^\s<>\"'`.,;:!?)\]}]", "<url>"),
    # e-mail addresses
    (r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", "<email>"),
    # double, curly, angle and corner (CJK) quoted strings
    (r"\"[^\"]*\"|“[^”]*”|„[^“”]*[“”]|«[^»]*»|「[^」]*」|『[^』]*』", "<str>"),
    # single quoted strings that open and close at a word boundary (not "don't");
    # twice, since a match consumes the character before the next one
    (r"(^|[^\pL\pN_])['‘][^'‘’]*['’]($|[^\pL\pN_])", r"\1<str>\2"),
    (r"(^|[^\pL\pN_])['‘][^'‘’]*['’]($|[^\pL\pN_])", r"\1<str>\2"),
    # uuids (five groups of hex digits)
    (r"\b[0-9a-f]+(?:-[0-9a-f]+){4}\b", "<uuid>"),
    # 0x literals and runs of hex letters holding two digit runs or more
    (r"\b0x[0-9a-f]+\b|\b(?:[a-f]*0){2,}[a-f]*\b", "<hex>"),
    # identifiers: snake_case, dotted.module.paths, letters mixed with digits,
    # and any word of 20 characters or more
    (r"\b\w+_\w+\b|\b[a-z_]\w*(?:\.\w+){2,}\b|\b\w*[a-z]\w*0\w*\b|\b\w{20,}\b", "<id>"),
    # numbers, with decimal and thousands separators (Arabic ones too)
    (r"0(?:[.,\x{066b}\x{066c}]0)*", "<num>"),
)
_DIGITS = r"\p{Nd}+"
_ASCII_SPACE = r"[\t\n\x0b\x0c\r\x1c-\x1f ]+"  # what str.split() splits ASCII text on
_ASCII_CONTROLS = r"[\x00-\x08\x0e-\x1b\x7f]+"  # control characters that are not whitespace
_UNICODE_SPACE = r"[\t\n\x0b\x0c\r\x1c-\x1f\x{85}\p{Z}]+"  # what str.split() splits on
# Marks that change how a text looks but not which words it holds, removed from
# non-ASCII texts after NFKD: diacritics of Latin, Greek and Cyrillic letters (so
# "é" and "e" fold together, as people type both), Arabic short vowels, Quranic
# marks, hamza above and below and the kashida (tatweel), Hebrew points, variation
# selectors and emoji skin-tone modifiers. Format characters (Cf: zero-width
# spaces and joiners, bidi controls, soft hyphens, tags) and control characters
# that are not whitespace are removed as well; see _ignorable().
_MARKS = ("\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
          "\u0610-\u061a\u0640\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed"
          "\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7"
          "\ufe00-\ufe0f\U000e0100-\U000e01ef\U0001f3fb-\U0001f3ff")
# Scripts written without spaces between words: each of their characters is a
# token of its own. A Han character carries about a morpheme; a kana, Bopomofo,
# Thai, Lao, Khmer or Myanmar code point about a syllable or less.
_CHAR_SCRIPTS_HAN = r"\p{Han}"
_CHAR_SCRIPTS_SYLLABIC = r"\p{Hiragana}\p{Katakana}\p{Bopomofo}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"
# ... and symbols (emoji, dingbats) are tokens of their own too, wherever they stand
_CHAR_TOKEN = "[" + _CHAR_SCRIPTS_HAN + _CHAR_SCRIPTS_SYLLABIC + r"\p{So}]"
# Weight of a shingle in quarters of a word shingle: a shingle of words weighs 4,
# one of Han characters 2, one holding a kana, Bopomofo, Thai, Lao, Khmer or
# Myanmar code point 1 (a shingle weighs what its lightest token weighs).
# MIN_SHINGLES and the threshold count weights, so a template in a script
# without spaces needs about as much fixed text as one of seven English words:
# eleven Han characters in a row, or about nineteen characters of Japanese.
_WEIGHT_WORD, _WEIGHT_HAN, _WEIGHT_SYLLABLE = 4, 2, 1
# punctuation trimmed from both ends of every space-separated word
_PUNCTUATION = ("!\"#$%&'()*+,-./:;=?@[\\]^`{|}~"
                "\u201c\u201d\u2018\u2019\u00ab\u00bb\u201e\u2026\u2013\u2014\u2022\u00b7"
                "\u00bf\u00a1\u3002\u3001\uff0c\uff1a\uff1b\uff01\uff1f\uff08\uff09"
                "\u3010\u3011\u300c\u300d\u300e\u300f")


# --------------------------------------------------------------------------- #
# Normalisation
# --------------------------------------------------------------------------- #


@functools.cache
def _ignorable() -> re.Pattern[str]:
    """Characters :func:`_fold` removes from non-ASCII texts (built once, from this Python's Unicode tables)."""
    # Cf and non-whitespace Cc code points only exist in planes 0, 1 and 14
    cps = [c for c in (*range(0x20000), *range(0xE0000, 0xE1000))
           if unicodedata.category(chr(c)) in ("Cf", "Cc") and not chr(c).isspace()]
    ranges = []
    start = prev = cps[0]
    for c in cps[1:] + [-1]:
        if c != prev + 1:
            ranges.append(re.escape(chr(start)) if start == prev else f"{re.escape(chr(start))}-{re.escape(chr(prev))}")
            start = c
        prev = c
    return re.compile("[" + "".join(ranges) + _MARKS + "]+")


@functools.cache
def _punctuation_all() -> str:
    """:data:`_PUNCTUATION` and every other punctuation character (Unicode P*) of planes 0 and 1.

    Trimmed from both ends of a token when a text is not ASCII: Arabic ``،؛؟``,
    CJK ``《》〈〉・``, Devanagari ``।``, and so on. ``_`` (a connector, part of
    identifiers) is kept, as in ASCII texts.
    """
    more = "".join(chr(c) for c in range(0x80, 0x20000) if unicodedata.category(chr(c)).startswith("P"))
    return _PUNCTUATION + "".join(ch for ch in more if ch not in _PUNCTUATION)


def _fold_unicode(texts: list[str], arrow_type: pa.DataType) -> pa.Array:
    """Fold non-ASCII texts: :func:`_fold` of each, as an Arrow array of ``arrow_type``.

    Decomposition (NFKD), case folding and the removal of :func:`_ignorable`
    characters run in Python; recomposition (NFKC, the costly step, in utf8proc)
    and whitespace in Arrow kernels. utf8proc may know characters that this
    Python's Unicode tables do not (a newer Unicode version) and map them to
    capitals or to "ß", so the composed text is lower-cased and "ß" case folded
    once more.
    """
    strip = _ignorable().sub
    decomposed = [strip("", unicodedata.normalize("NFKD", t).casefold()) for t in texts]
    composed = pc.utf8_lower(pc.utf8_normalize(pa.array(decomposed, type=arrow_type), form="NFKC"))
    composed = pc.replace_substring(composed, "ß", "ss")
    return pc.utf8_trim(pc.replace_substring_regex(composed, pattern=_UNICODE_SPACE, replacement=" "),
                        characters=" ")


def _fold(text: str) -> str:
    """Fold case, width, marks and whitespace (the reference; Arrow does it for ASCII texts).

    ASCII texts are lower-cased and lose their control characters. Other texts
    are decomposed (NFKD), case folded, stripped of the marks and format and
    control characters of :func:`_ignorable`, recomposed (NFKC) and lower-cased
    (see :func:`_fold_unicode`). Then
    whitespace runs (what ``str.split()`` splits on) become one space, and
    the ends are stripped.
    """
    if text.isascii():
        text = text.lower()  # equals NFKC + casefold on ASCII
        if not text.isprintable():
            text = re.sub(_ASCII_CONTROLS, "", text)
        return " ".join(text.split())
    return str(_fold_unicode([text], pa.string())[0].as_py())


def _fold_arrow(texts: pa.Array) -> pa.Array:
    """:func:`_fold` of every text: in Arrow for ASCII texts, :func:`_fold_unicode` for the others."""
    # On ASCII, NFKC + casefold is lower-casing, and str.split() splits on these characters.
    folded = pc.replace_substring_regex(pc.ascii_lower(texts), pattern=_ASCII_CONTROLS, replacement="")
    folded = pc.utf8_trim(pc.replace_substring_regex(folded, pattern=_ASCII_SPACE, replacement=" "),
                          characters=" ")
    other = pc.invert(pc.string_is_ascii(texts))
    if not pc.any(other).as_py():
        return folded
    # the replacement must have the type of the texts: replace_with_mask has no
    # kernel for a large_string array with string replacements
    return pc.replace_with_mask(folded, other, _fold_unicode(texts.filter(other).to_pylist(), texts.type))


def _mask(folded: pa.Array) -> pa.Array:
    """Apply the digit canonicalisation and the masks (vectorised, RE2)."""
    out = pc.replace_substring_regex(folded, pattern=_DIGITS, replacement="0")
    for pattern, replacement in _MASKS:
        out = pc.replace_substring_regex(out, pattern=pattern, replacement=replacement)
    return out


def _arrow_strings(values: Sequence[str | None] | np.ndarray) -> pa.Array:
    """Python strings as an Arrow string array.

    A lone surrogate (a Python string decoded with ``surrogateescape``, not
    Unicode text) cannot be written as UTF-8: it becomes U+FFFD, and a pair of
    surrogates the character they encode.
    """
    values = np.asarray(values, dtype=object)
    try:
        return pa.array(values, type=pa.string())
    except UnicodeEncodeError:
        return pa.array([v.encode("utf-16", "surrogatepass").decode("utf-16", "replace") if isinstance(v, str) else v
                         for v in values], type=pa.string())


def _normalise_chunk(texts: Sequence[str] | np.ndarray | pa.Array) -> pa.Array:
    if not isinstance(texts, pa.Array):
        texts = _arrow_strings(texts)
    return _mask(_fold_arrow(texts))


def normalise_prompt(text: str) -> str:
    """Normalise a prompt so that texts differing only in form compare equal.

    Parameters
    ----------
    text : str
        The prompt.

    Returns
    -------
    str
        The normalised prompt: Unicode NFKC, case-folded, without diacritics
        of Latin, Greek and Cyrillic letters, Arabic short vowels and kashida,
        Hebrew points, emoji variation selectors and skin tones, format
        characters (zero-width spaces and joiners, bidi controls, soft hyphens)
        and control characters other than whitespace, whitespace collapsed
        to single spaces and stripped, with these spans replaced by a
        placeholder (in this order): fenced code blocks and inline code
        (``<code>``), URLs (``<url>``), e-mail addresses (``<email>``), quoted
        strings (``<str>``), uuids (``<uuid>``), ``0x`` literals and hex runs
        (``<hex>``), identifiers -- snake_case, dotted paths, words mixing
        letters and digits, words of 20 characters or more -- (``<id>``) and
        numbers (``<num>``).

    Raises
    ------
    InputError
        If ``text`` is not a string.

    Notes
    -----
    Digit runs (of any script) are replaced by ``0`` before any mask is
    applied, and case, width, marks and whitespace are folded first, so two
    prompts that differ only in their digits, their letter case, their
    accents, their invisible characters or their whitespace always normalise
    to the same text. Quoted strings include CJK corner quotes (``「」``,
    ``『』``). ``mine_templates`` normalises in batches with the same code.
    Folding is idempotent. A lone surrogate (not Unicode text) becomes U+FFFD.

    Examples
    --------
    >>> normalise_prompt("Fix   bug #123 in `parse_user()` -- see https://x.io/a?b=1")
    'fix bug #<num> in <code> -- see <url>'
    >>> normalise_prompt("Écris\u200b 3 réponses") == normalise_prompt("ecris 7 REPONSES")
    True
    """
    if not isinstance(text, str):
        raise InputError(f"normalise_prompt expects a str. Got {type(text).__name__} instead.")
    return str(_normalise_chunk([text])[0].as_py())


# --------------------------------------------------------------------------- #
# Hashing helpers
# --------------------------------------------------------------------------- #


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser, vectorised (uint64 in, uint64 out)."""
    x = x ^ (x >> _SHIFT_30)
    x = x * _M2
    x = x ^ (x >> _SHIFT_27)
    x = x * _M3
    return x ^ (x >> _SHIFT_31)


def _hash_strings(values: np.ndarray) -> np.ndarray:
    """Stable 64-bit hashes of an object array of str (pandas' SipHash)."""
    if len(values) == 0:
        return np.empty(0, dtype=np.uint64)
    return pd.util.hash_array(values, categorize=False)


def _template_id(representative: str) -> str:
    return "tpl-" + hashlib.blake2b(representative.encode("utf-8"), digest_size=8).hexdigest()


# --------------------------------------------------------------------------- #
# Shingles
# --------------------------------------------------------------------------- #


def _shingles(norm: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Shingle hashes of normalised texts and the text of each (see :func:`_weighted_shingles`)."""
    features, doc, _ = _weighted_shingles(norm, weights=False)
    return features, doc


def _weighted_shingles(norm: pa.Array, weights: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shingle hashes of normalised texts.

    Parameters
    ----------
    norm : pyarrow.Array
        Normalised texts (string or large_string).
    weights : bool, default True
        Compute the weight of every shingle (when False, ``weight`` is empty).

    Returns
    -------
    features : numpy.ndarray of uint32
        Shingle hashes (32 bits): token trigrams and gapped 4-grams of every
        text; a text of one or two tokens gives one shingle of its tokens.
        Tokens are the space-separated words, each character of a script
        written without spaces (Han, kana, Bopomofo, Thai, Lao, Khmer,
        Myanmar) and each symbol (emoji), with punctuation trimmed from their
        ends.
    doc : numpy.ndarray of int64
        Position in ``norm`` of the text each shingle comes from (not sorted).
    weight : numpy.ndarray of uint8
        The weight of each shingle, the lightest of its tokens' (a word 4, a
        Han character 2, a kana, Bopomofo, Thai, Lao, Khmer or Myanmar code
        point 1).
    """
    n = len(norm)
    ascii_only = bool(pc.all(pc.string_is_ascii(norm)).as_py()) if n else True
    if not ascii_only:  # every character of a script without spaces, and every symbol, is a token
        norm = pc.replace_substring_regex(norm, pattern=_CHAR_TOKEN, replacement=" \\0 ")
    tokens = pc.split_pattern(norm, pattern=" ")
    flat = pc.utf8_trim(pc.list_flatten(tokens), characters=_PUNCTUATION if ascii_only else _punctuation_all())
    parent = pc.list_parent_indices(tokens)
    keep = pc.greater(pc.binary_length(flat), 0)
    flat = pc.filter(flat, keep)
    parent = pc.filter(parent, keep).to_numpy().astype(np.int64, copy=False)
    if len(parent) == 0:
        return np.empty(0, np.uint32), np.empty(0, np.int64), np.empty(0, np.uint8)
    encoded = pc.dictionary_encode(flat)
    dictionary = encoded.dictionary.to_numpy(zero_copy_only=False)
    indices = encoded.indices.to_numpy()
    tok = _hash_strings(dictionary)[indices]
    tw: np.ndarray | None = None  # token weights, None when every token is a word
    if weights and not ascii_only:
        light = np.full(len(dictionary), _WEIGHT_WORD, dtype=np.uint8)
        light[pc.match_substring_regex(encoded.dictionary, "^[" + _CHAR_SCRIPTS_HAN + "]$")
              .to_numpy(zero_copy_only=False)] = _WEIGHT_HAN
        light[pc.match_substring_regex(encoded.dictionary, "^[" + _CHAR_SCRIPTS_SYLLABIC + "]$")
              .to_numpy(zero_copy_only=False)] = _WEIGHT_SYLLABLE
        tw = light[indices] if (light < _WEIGHT_WORD).any() else None
    n_tok = np.bincount(parent, minlength=n)
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(n_tok, out=start[1:])
    feats: list[np.ndarray] = []
    docs: list[np.ndarray] = []
    wts: list[np.ndarray] = []
    with np.errstate(over="ignore"):
        short = np.flatnonzero((n_tok > 0) & (n_tok < 3))
        if len(short):
            second_at = np.minimum(start[short] + 1, len(tok) - 1)
            second = np.where(n_tok[short] > 1, tok[second_at], _U64(0))
            feats.append(_mix((tok[start[short]] * _M1 + second) ^ _M3) >> _U32)
            docs.append(short)
            if tw is not None:
                wts.append(np.where(n_tok[short] > 1, np.minimum(tw[start[short]], tw[second_at]), tw[start[short]]))
        pos = np.arange(len(parent), dtype=np.int64) - start[parent]
        if (n_tok > _HEAD_TOKENS + _TAIL_TOKENS).any():  # keep the head and tail of long texts
            keep_tok = (pos < _HEAD_TOKENS) | (pos >= n_tok[parent] - _TAIL_TOKENS)
            tok, parent, pos = tok[keep_tok], parent[keep_tok], pos[keep_tok]
            if tw is not None:
                tw = tw[keep_tok]
        if len(tok) >= 3:
            ok = (parent[2:] == parent[:-2]) & (pos[2:] - pos[:-2] == 2)
            h = (tok[:-2] * _M1 + tok[1:-1]) * _M1 + tok[2:]
            feats.append(_mix(h[ok]) >> _U32)
            docs.append(parent[:-2][ok])
            if tw is not None:
                wts.append(np.minimum(np.minimum(tw[:-2], tw[1:-1]), tw[2:])[ok])
        if len(tok) >= 4:
            ok = (parent[3:] == parent[:-3]) & (pos[3:] - pos[:-3] == 3)
            h = ((tok[:-3] * _M1 + tok[1:-2]) * _M1 + _GAP) * _M1 + tok[3:]
            feats.append(_mix(h[ok]) >> _U32)
            docs.append(parent[:-3][ok])
            if tw is not None:
                wts.append(np.minimum(np.minimum(tw[:-3], tw[1:-2]), tw[3:])[ok])
    if not feats:
        return np.empty(0, np.uint32), np.empty(0, np.int64), np.empty(0, np.uint8)
    features, doc = np.concatenate(feats).astype(np.uint32), np.concatenate(docs)
    if not weights:
        return features, doc, np.empty(0, np.uint8)
    weight = np.concatenate(wts) if tw is not None else np.full(len(features), _WEIGHT_WORD, dtype=np.uint8)
    return features, doc, weight


# --------------------------------------------------------------------------- #
# Learning templates
# --------------------------------------------------------------------------- #


@dataclass(frozen=True, eq=False)
class _Model:
    """Shingles of the templates learned in one round."""

    features: np.ndarray  # sorted uint32 shingle hashes that belong to a template
    cluster: np.ndarray  # int64 template (0..n-1) of each shingle
    size: np.ndarray  # int64 weight of each template: the weights of its shingles summed
    key: np.ndarray  # uint32 order-independent key of each template (its smallest shingle)
    weight: np.ndarray  # int32 weight of each shingle (see _WEIGHT_WORD)

    @property
    def filter(self) -> np.ndarray:
        """Boolean table over the low bits of shingle hashes: cheap pre-filter."""
        table = np.zeros(_FILTER_SIZE, dtype=bool)
        table[(self.features & _FILTER_MASK).astype(np.intp)] = True
        return table


_EMPTY_MODEL = _Model(np.empty(0, np.uint32), np.empty(0, np.int64),
                      np.empty(0, np.int64), np.empty(0, np.uint32), np.empty(0, np.int32))
_MIN_WEIGHT = MIN_SHINGLES * _WEIGHT_WORD  # a template weighs at least MIN_SHINGLES word shingles


def _run_starts(sorted_values: np.ndarray) -> np.ndarray:
    """Start index of each run of equal values in a sorted array."""
    if len(sorted_values) == 0:
        return np.empty(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])


# Longer than 80 lines (81 of code): the learning steps share the sample's arrays; see docs/prompt_templates.md.
def _learn(keys: np.ndarray, doc_hash: np.ndarray, seed: int) -> _Model:
    """Group frequent shingles that occur in the same texts into templates.

    Parameters
    ----------
    keys : numpy.ndarray of uint64
        ``shingle << 32 | weight << 29 | text`` for every shingle of the
        learning texts (``text`` indexes ``doc_hash``; ``weight`` is the
        shingle's, see :data:`_WEIGHT_WORD`). Sorted in place.
    doc_hash : numpy.ndarray of uint64
        Hash of each learning text's normalised form.
    seed : int
        Seed of the MinHash functions.

    Returns
    -------
    _Model
        The templates found: groups of shingles weighing at least
        :data:`MIN_SHINGLES` word shingles.
    """
    if len(keys) == 0:
        return _EMPTY_MODEL
    # distinct (shingle, text) pairs, grouped by shingle: the text sets
    keys.sort()
    distinct = np.empty(len(keys), dtype=bool)
    distinct[0] = True
    np.not_equal(keys[1:], keys[:-1], out=distinct[1:])
    pairs = keys[distinct]
    del distinct
    shingle_of_pair = pairs >> _U32
    starts = _run_starts(shingle_of_pair)
    n_texts = np.diff(np.r_[starts, len(pairs)])
    frequent = n_texts >= MIN_TEXTS  # in at least MIN_TEXTS distinct texts
    if not frequent.any():
        return _EMPTY_MODEL
    shingle = shingle_of_pair[starts[frequent]].astype(np.uint32)
    # a shingle's weight is the same in every text (the lightest wins if two shingles share a hash)
    weight = ((pairs[starts[frequent]] >> _WEIGHT_SHIFT) & _U64(7)).astype(np.int32)
    del shingle_of_pair
    text = (pairs[np.repeat(frequent, n_texts)] & _TEXT_MASK).astype(np.int64)
    del pairs
    n_texts = n_texts[frequent]
    starts = np.r_[0, np.cumsum(n_texts)[:-1]]
    n_shingles = len(shingle)
    # MinHash signature of the set of texts holding each frequent shingle
    rng = np.random.default_rng(seed)
    mult = rng.integers(1, 2**32, size=_NUM_PERM, dtype=np.uint64).astype(np.uint32) | np.uint32(1)
    salt = rng.integers(0, 2**32, size=_NUM_PERM, dtype=np.uint64).astype(np.uint32)
    x = (doc_hash >> _U32).astype(np.uint32)[text]
    sig = np.empty((n_shingles, _NUM_PERM), dtype=np.uint32)
    with np.errstate(over="ignore"):
        for k in range(_NUM_PERM):
            h = (x ^ salt[k]) * mult[k]
            h ^= h >> np.uint32(15)
            sig[:, k] = np.minimum.reduceat(h, starts)
    del x, text
    # LSH: shingles sharing a band bucket are compared with the bucket's
    # leader (the member with the smallest shingle hash); verified pairs are
    # edges, templates are the connected components
    edge_a: list[np.ndarray] = []
    edge_b: list[np.ndarray] = []
    r = _ROWS_PER_BAND
    sig64 = sig.astype(np.uint64)
    with np.errstate(over="ignore"):
        for band in range(_NUM_PERM // r):
            band_key = np.zeros(n_shingles, dtype=np.uint64)
            for j in range(r):
                band_key = _mix(band_key * _M1 + sig64[:, band * r + j])
            members = np.flatnonzero(pd.Series(band_key).duplicated(keep=False).to_numpy())
            if len(members) == 0:
                continue
            sub = np.lexsort((shingle[members], band_key[members]))
            members = members[sub]
            run = _run_starts(band_key[members])
            leader = np.repeat(members[run], np.diff(np.r_[run, len(members)]))
            a = members[members != leader]
            b = leader[members != leader]
            similar = np.count_nonzero(sig[a] == sig[b], axis=1) >= LINK_JACCARD * _NUM_PERM
            edge_a.append(a[similar])
            edge_b.append(b[similar])
    del sig64
    ea = np.concatenate(edge_a) if edge_a else np.empty(0, dtype=np.int64)
    eb = np.concatenate(edge_b) if edge_b else np.empty(0, dtype=np.int64)
    graph = coo_matrix((np.ones(len(ea), dtype=np.int8), (ea, eb)), shape=(n_shingles, n_shingles))
    _, comp = connected_components(graph, directed=False)
    comp_weight = np.bincount(comp, weights=weight)
    big = comp_weight[comp] >= _MIN_WEIGHT
    if not big.any():
        return _EMPTY_MODEL
    shingle, comp, weight = shingle[big], comp[big], weight[big]
    # number the templates by their smallest shingle (order independent)
    order = np.lexsort((shingle, comp))
    shingle, comp, weight = shingle[order], comp[order], weight[order]
    first = _run_starts(comp)
    keys = shingle[first]
    rank = np.empty(int(comp.max()) + 1, dtype=np.int64)
    rank[comp[first][np.argsort(keys)]] = np.arange(len(first))
    cluster = rank[comp]
    order = np.argsort(shingle)
    size = np.bincount(cluster, weights=weight).astype(np.int64)
    return _Model(shingle[order], cluster[order], size, np.sort(keys), weight[order])


def _assign(features: np.ndarray, doc: np.ndarray, n_docs: int, model: _Model,
            threshold: float, table: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    """Template (index into the model) of each text, -1 when none fits.

    A text is assigned to the template of which it holds the most distinct
    shingles, counted by weight (ties: the template with the smaller key), if
    they weigh at least :data:`MIN_SHINGLES` word shingles and at least
    ``threshold`` of the template's weight. Also returns the weight of the
    template's shingles each text holds. (On text of words every shingle
    weighs the same, and this is a count of shingles.)
    """
    out = np.full(n_docs, -1, dtype=np.int64)
    score = np.zeros(n_docs, dtype=np.int64)
    n_f = len(model.features)
    if n_f == 0 or len(features) == 0:
        return out, score
    if table is None:
        table = model.filter
    maybe = np.flatnonzero(table[(features & _FILTER_MASK).astype(np.intp)])
    idx = np.searchsorted(model.features, features[maybe])
    idx[idx == n_f] = n_f - 1
    hit = model.features[idx] == features[maybe]
    if not hit.any():
        return out, score
    held = csr_matrix((np.ones(int(hit.sum()), dtype=np.int32), (doc[maybe[hit]], idx[hit])),
                      shape=(n_docs, n_f))
    held.sum_duplicates()
    held.data[:] = 1  # distinct shingles
    n_c = len(model.size)
    onehot = csr_matrix((model.weight, (np.arange(n_f), model.cluster)), shape=(n_f, n_c))
    counts = (held @ onehot).tocoo()
    d, c, cnt = counts.row.astype(np.int64), counts.col.astype(np.int64), counts.data
    ok = (cnt >= _MIN_WEIGHT) & (cnt >= threshold * model.size[c])
    d, c, cnt = d[ok], c[ok], cnt[ok]
    if len(d) == 0:
        return out, score
    order = np.lexsort((c, -cnt, d))  # templates are numbered by key
    d, c, cnt = d[order], c[order], cnt[order]
    first = _run_starts(d)
    out[d[first]] = c[first]
    score[d[first]] = cnt[first]
    return out, score


# --------------------------------------------------------------------------- #
# Public API
# --------------------------------------------------------------------------- #


@dataclass(frozen=True, eq=False)
class Templates:
    """Templates mined from a set of prompts.

    Attributes
    ----------
    template_ids : numpy.ndarray
        Object array of ``str`` aligned with the input texts: the template id
        of each prompt (``"tpl-"`` and 16 hex digits), ``None`` for a missing
        prompt (``None``, NaN) or one that normalises to the empty string.
    table : pandas.DataFrame
        One row per template id with columns ``template_id`` and
        ``representative`` (strings), ``n_prompts`` and ``n_accounts``
        (int64). ``representative`` is a normalised member text: the one
        holding most of the template's shingles, then the most sent, then the
        smallest hash. ``n_prompts`` counts the prompts with this id and
        ``n_accounts`` the distinct accounts that sent them (0 when no
        accounts were given). Sorted by ``n_prompts`` descending, then
        ``template_id``.
    """

    template_ids: np.ndarray
    table: pd.DataFrame


def _check_params(threshold: object, max_prompts_per_account: object, seed: object) -> float:
    if (isinstance(threshold, bool) or not isinstance(threshold, Real)
            or not math.isfinite(float(threshold)) or not 0.0 < float(threshold) <= 1.0):
        raise ParameterError(
            "The 'threshold' parameter of mine_templates must be a float in (0, 1]. "
            f"Got {threshold!r} instead.")
    if (isinstance(max_prompts_per_account, bool)
            or not isinstance(max_prompts_per_account, Integral)
            or int(max_prompts_per_account) < 1):
        raise ParameterError(
            "The 'max_prompts_per_account' parameter of mine_templates must be an int >= 1. "
            f"Got {max_prompts_per_account!r} instead.")
    if isinstance(seed, bool) or not isinstance(seed, Integral) or not 0 <= int(seed) < 2**32:
        raise ParameterError(
            "The 'seed' parameter of mine_templates must be an int in [0, 2**32). "
            f"Got {seed!r} instead.")
    return float(threshold)


def _as_objects(values: object, name: str) -> np.ndarray:
    """Input column as a 1-d object array."""
    if isinstance(values, (str, bytes)):
        raise InputError(f"mine_templates expects {name} to be a sequence of str, "
                         f"not a single {type(values).__name__}.")
    if isinstance(values, pd.Series):
        arr = values.to_numpy(dtype=object)
    elif isinstance(values, np.ndarray):
        arr = values.astype(object, copy=False)
    elif isinstance(values, Sequence):
        arr = np.empty(len(values), dtype=object)
        arr[:] = list(values)
    else:
        raise InputError(f"mine_templates expects {name} to be a sequence, a pandas Series or "
                         f"a numpy array. Got {type(values).__name__} instead.")
    if arr.ndim != 1:
        raise InputError(f"mine_templates expects {name} to be one-dimensional. "
                         f"Got shape {arr.shape} instead.")
    return arr


def _threaded(func: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
              items: list[np.ndarray]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``map(func, items)`` on :data:`THREADS` threads, in order, at most two results ahead per thread.

    Shingling is Arrow and NumPy work that mostly runs without the GIL; the
    bounded look-ahead keeps only a few chunks' shingles in memory.
    """
    pending: deque[Future[tuple[np.ndarray, np.ndarray]]] = deque()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for item in items:
            pending.append(pool.submit(func, item))
            if len(pending) > 2 * THREADS:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _learning_keys(texts_of: Callable[[np.ndarray], pa.Array], which: np.ndarray) -> np.ndarray:
    """``shingle << 32 | weight << 29 | position in which`` for every shingle of the texts ``which``."""
    assert len(which) <= int(_TEXT_MASK) + 1  # LEARNING_BUDGET is far below
    parts: list[np.ndarray] = [np.empty(0, np.uint64)]
    for lo in range(0, len(which), _CHUNK):
        f, d, w = _weighted_shingles(texts_of(which[lo:lo + _CHUNK]))
        parts.append((f.astype(np.uint64) << _U32) | (w.astype(np.uint64) << _WEIGHT_SHIFT)
                     | (d + lo).astype(np.uint64))
    return np.concatenate(parts)


def _learning_sample(candidates: np.ndarray, doc_hash: np.ndarray,
                     pair_doc: np.ndarray | None, pair_acct: np.ndarray | None,
                     free_docs: np.ndarray | None, cap: int) -> np.ndarray:
    """Texts to learn from among ``candidates`` (sorted doc indices).

    With accounts, each account contributes its ``cap`` distinct texts of
    smallest hash; texts sent only without an account are all eligible. The
    result is cut to the :data:`LEARNING_BUDGET` texts of smallest hash.
    The pairs ``(pair_acct, pair_doc)`` must be sorted by account, then by
    hash: documents are numbered in hash order, so sorting the pairs by
    ``(account, document)`` does it.
    """
    if pair_doc is not None and pair_acct is not None:
        in_cand = np.isin(pair_doc, candidates)
        pd_, pa_ = pair_doc[in_cand], pair_acct[in_cand]
        run = _run_starts(pa_)
        rank = np.arange(len(pa_)) - np.repeat(run, np.diff(np.r_[run, len(pa_)]))
        chosen = pd_[rank < cap]
        if free_docs is not None and len(free_docs):
            chosen = np.concatenate([chosen, free_docs[np.isin(free_docs, candidates)]])
        sample = unique_sorted(chosen)
    else:
        sample = candidates
    if len(sample) > LEARNING_BUDGET:
        sample = np.sort(sample[np.argsort(doc_hash[sample], kind="stable")[:LEARNING_BUDGET]])
    return sample


def mine_templates(
    texts: Sequence[str | None] | pd.Series | np.ndarray,
    accounts: Sequence[str | None] | pd.Series | np.ndarray | None = None,
    *,
    threshold: float = 0.4,
    max_prompts_per_account: int = 1000,
    seed: int = 0,
) -> Templates:
    """Give every prompt the id of the template it was written from.

    Parameters
    ----------
    texts : sequence of str, pandas.Series or numpy.ndarray
        The prompts. ``None`` and NaN are missing prompts.
    accounts : sequence, pandas.Series, numpy.ndarray or None, optional
        The account that sent each prompt, aligned with ``texts``. Used to
        cap what each account contributes to learning and to count
        ``n_accounts``. Missing accounts (``None``, NaN) are not capped.
    threshold : float, default 0.4
        Share of a template's shingles (its fixed text, in token trigrams and
        gapped 4-grams, counted by weight) that a prompt must contain to be
        given that template's id, in (0, 1]. Lower links prompts whose fixed text was
        edited more (or cut), higher asks for closer copies.
    max_prompts_per_account : int, default 1000
        Most distinct normalised texts of one account used for *learning*
        templates (those with the smallest hash). Every prompt is still given
        an id. Bounds what one account sending millions of prompts can cost
        and weigh.
    seed : int, default 0
        Seed of the MinHash functions. Results are deterministic for a given
        seed; another seed may group borderline shingles differently.

    Returns
    -------
    Templates
        ``template_ids`` aligned with ``texts`` and the ``table`` of templates.

    Raises
    ------
    ParameterError
        If ``threshold``, ``max_prompts_per_account`` or ``seed`` is out of range.
    InputError
        If ``texts`` holds something other than strings and missing values,
        or ``accounts`` is not aligned with it.

    Notes
    -----
    *Rule for empty prompts.* ``None``, NaN and texts that normalise to the
    empty string (whitespace only) get the id ``None`` and no table row: an
    empty prompt is no evidence that two accounts share an operator.

    *Prompts that fit no template* keep their own identity: identical
    normalised texts (a popular system prompt sent verbatim by many people)
    share one id, every other text gets an id of its own.

    *Order independence.* The result depends on the multiset of
    ``(text, account)`` rows and on ``seed`` only, never on row order.

    *Memory.* Normalisation runs once per distinct raw text, chunk by chunk.
    The normalised texts are kept in Arrow string arrays (about their UTF-8
    size) and deduplicated by a 128-bit hash, so all later work is done once
    per distinct normalised text. Shingles exist only for the learning sample
    -- at most ``max_prompts_per_account`` distinct texts per account (those
    of smallest hash) and at most :data:`LEARNING_BUDGET` texts per round --
    and for one chunk of texts at a time while texts are assigned. Memory
    therefore grows with the number of *distinct* texts (a few hundred bytes
    each beyond the input) plus a learning peak bounded by the budget, and not
    with how many prompts one account sends. Without ``accounts`` only the
    budget bounds learning.

    *Scripts.* Texts in any script are mined. Chinese, Japanese, Thai, Lao,
    Khmer and Myanmar characters and emoji are tokens of their own. Such
    shingles weigh less than word shingles, so a template needs about as much
    fixed text in every script: eleven Han characters in a row, or about
    nineteen of Japanese mostly in kana, count like seven English words.

    *Limits.* A template needs at least :data:`MIN_TEXTS` distinct instances
    and fixed shingles weighing :data:`MIN_SHINGLES` word shingles (seven
    fixed words in a row give nine); shorter fixed text ("Translate: {text}")
    is not told apart from a common phrase. Shingles come from the first 192
    and the last 64 tokens of a text. Texts whose normalised forms share a
    128-bit hash would be treated as one.

    Examples
    --------
    >>> tpl = "Write a complete Python implementation for: {}. Include unit tests and a README."
    >>> texts = [tpl.format(t) for t in ["sorting a list", "parsing JSON files", "a web crawler"]]
    >>> res = mine_templates(texts + ["What is the capital of France?"])
    >>> len(set(res.template_ids[:3])), res.template_ids[3] == res.template_ids[0]
    (1, False)
    """
    thr = _check_params(threshold, max_prompts_per_account, seed)
    cap = int(max_prompts_per_account)
    values = _as_objects(texts, "texts")
    n = len(values)
    acct_codes: np.ndarray | None = None
    if accounts is not None:
        acct = _as_objects(accounts, "accounts")
        if len(acct) != n:
            raise InputError(f"mine_templates expects accounts to be aligned with texts. "
                             f"Got {len(acct)} accounts for {n} texts.")
        acct_codes = factorize_text(acct)[0].astype(np.int64)

    raw_codes, raw_uniques = factorize_text(values)  # pd.factorize merges strings equal up to a NUL before pandas 3.1
    raw_uniques = np.asarray(raw_uniques, dtype=object)
    bad = [i for i, v in enumerate(raw_uniques) if not isinstance(v, str)]
    if bad:
        v = raw_uniques[bad[0]]
        row = int(np.flatnonzero(raw_codes == bad[0])[0])
        raise InputError(f"mine_templates expects texts to hold str values or missing values. "
                         f"Got {type(v).__name__} {v!r} at row {row}.")

    row_group, group_id, table = _mine(raw_codes, _arrow_strings(raw_uniques), acct_codes, thr, cap, int(seed))
    template_ids = np.full(n, None, dtype=object)
    has = row_group >= 0
    template_ids[has] = group_id[row_group[has]]
    return Templates(template_ids=template_ids, table=table)


def mine_templates_encoded(
    text_codes: np.ndarray,
    texts: pa.Array,
    account_codes: np.ndarray | None = None,
    *,
    threshold: float = 0.4,
    max_prompts_per_account: int = 1000,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """:func:`mine_templates` on integer codes, as the pipeline holds its prompts.

    Parameters
    ----------
    text_codes : ndarray of int64
        Row ``i`` sent the prompt ``texts[text_codes[i]]``; -1 is a missing prompt.
    texts : pyarrow string array
        Distinct prompt texts (``string``, ``large_string`` or ``string_view``,
        one array or chunked), no nulls among those ``text_codes`` refers to.
    account_codes : ndarray of int64, optional
        Account of each row (-1: none), as ``accounts`` of :func:`mine_templates`.
    threshold, max_prompts_per_account, seed
        As in :func:`mine_templates`.

    Returns
    -------
    row_group : ndarray of int64
        Group of each row (a template or a text that fits none), -1 for a
        missing or empty prompt.
    group_id : ndarray of str
        Id of each group (``row_group`` indexes it).
    table : DataFrame
        As ``Templates.table``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> tpl = "Write a complete Python implementation for: {}. Include unit tests and a README."
    >>> texts = pa.array([tpl.format(t) for t in ["sorting", "parsing JSON files", "a web crawler"]] + ["Hi"])
    >>> rows, ids, table = mine_templates_encoded(np.array([0, 1, 2, 3, -1]), texts)
    >>> len(set(ids[rows[:3]])), int(rows[4])
    (1, -1)
    """
    thr = _check_params(threshold, max_prompts_per_account, seed)
    codes = np.asarray(text_codes, dtype=np.int64)
    if account_codes is not None and len(account_codes) != len(codes):
        raise InputError(f"mine_templates_encoded expects account_codes to be aligned with text_codes. "
                         f"Got {len(account_codes)} account codes for {len(codes)} rows.")
    acct = None if account_codes is None else np.asarray(account_codes, dtype=np.int64)
    return _mine(codes, _string_array(texts), acct, thr, int(max_prompts_per_account), int(seed))


def _string_array(texts: object) -> pa.Array:
    """``texts`` as one Arrow ``string`` or ``large_string`` array (the types every kernel here takes)."""
    if not isinstance(texts, (pa.Array, pa.ChunkedArray)):
        raise InputError(f"mine_templates_encoded expects texts to be a pyarrow string array. "
                         f"Got {type(texts).__name__} instead.")
    if not (pa.types.is_string(texts.type) or pa.types.is_large_string(texts.type)):
        is_view = getattr(pa.types, "is_string_view", None)  # pyarrow >= 16
        if not ((is_view is not None and is_view(texts.type)) or pa.types.is_null(texts.type)):
            raise InputError(f"mine_templates_encoded expects texts to be a pyarrow string array. "
                             f"Got an array of type {texts.type} instead.")
        texts = texts.cast(pa.large_string())
    if isinstance(texts, pa.ChunkedArray):
        # chunks of a string array can hold more than 2 GB together; large_string offsets cannot overflow
        texts = texts.cast(pa.large_string()).combine_chunks()
    return texts


# Longer than 80 lines (about 140): the mining stages share the distinct texts' arrays and are timed
# together; splitting it is left to the templates' own issue.
def _mine(raw_codes: np.ndarray, raw_uniques: pa.Array, acct_codes: np.ndarray | None, thr: float, cap: int,
          seed: int, rounds: list[tuple[_Model, int]] | None = None) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """The miner behind :func:`mine_templates` and :func:`mine_templates_encoded` (see their Returns).

    ``rounds``, when given, receives each learning round's templates and the
    group number of its first template (a saved model assigns new prompts with them).
    """
    # 1. normalise every distinct raw text, then deduplicate normalised texts
    #    (by a 128-bit hash; texts are numbered in hash order)
    n_raw = len(raw_uniques)
    chunks: list[pa.Array] = []
    h1 = np.empty(n_raw, dtype=np.uint64)
    h2 = np.empty(n_raw, dtype=np.uint64)
    raw_empty = np.zeros(n_raw, dtype=bool)
    # Arrow's kernels release the GIL, so chunks are normalised on several threads
    # (map keeps chunk order).
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        normalised = list(pool.map(_normalise_chunk, (raw_uniques[lo:lo + _CHUNK] for lo in range(0, n_raw, _CHUNK))))
    for lo, arr in zip(range(0, n_raw, _CHUNK), normalised):
        objs = arr.to_numpy(zero_copy_only=False)
        h1[lo:lo + len(arr)] = _hash_strings(objs)
        h2[lo:lo + len(arr)] = pd.util.hash_array(objs, hash_key=_HASH_KEY_2, categorize=False)
        raw_empty[lo:lo + len(arr)] = pc.equal(arr, "").to_numpy(zero_copy_only=False)
        chunks.append(arr)
    del raw_uniques
    order = np.lexsort((h2, h1))
    new_doc = np.r_[True, (h1[order][1:] != h1[order][:-1]) | (h2[order][1:] != h2[order][:-1])] \
        if n_raw else np.zeros(0, dtype=bool)
    doc_of_raw = np.empty(n_raw, dtype=np.int64)
    doc_of_raw[order] = np.cumsum(new_doc) - 1
    rep_raw = order[new_doc]  # one raw text per normalised text
    n_docs = len(rep_raw)
    doc_hash = h1[rep_raw]
    empty_doc = raw_empty[rep_raw]
    del order, new_doc, h1, h2, raw_empty
    row_doc = np.where(raw_codes >= 0, doc_of_raw[np.maximum(raw_codes, 0)] if n_raw else -1, -1)
    if empty_doc.any():
        row_doc[empty_doc[np.maximum(row_doc, 0)] & (row_doc >= 0)] = -1
    del raw_codes, doc_of_raw

    def texts_of(which: np.ndarray) -> pa.Array:
        """Normalised texts of the documents ``which`` (taken chunk by chunk)."""
        raw = rep_raw[which]
        chunk_of = raw // _CHUNK
        by_chunk = np.argsort(chunk_of, kind="stable")
        bounds = _run_starts(chunk_of[by_chunk])
        pieces = []
        for lo, hi in zip(bounds, np.r_[bounds[1:], len(raw)]):
            sel = by_chunk[lo:hi]
            pieces.append(chunks[int(chunk_of[sel[0]])].take(pa.array(raw[sel] % _CHUNK)))
        if not pieces:
            return pa.array([], type=pa.string())
        gathered = pa.concat_arrays(pieces)
        back = np.empty(len(raw), dtype=np.int64)
        back[by_chunk] = np.arange(len(raw))
        return gathered.take(pa.array(back))

    valid_rows = row_doc >= 0
    n_prompts = np.bincount(row_doc[valid_rows], minlength=n_docs)
    live = np.flatnonzero(n_prompts > 0)

    # (account, text) pairs for the per-account learning cap
    pair_doc = pair_acct = free_docs = None
    if acct_codes is not None:
        has_acct = valid_rows & (acct_codes >= 0)
        pairs = unique_sorted(acct_codes[has_acct] * max(n_docs, 1) + row_doc[has_acct])
        pair_acct, pair_doc = pairs // max(n_docs, 1), pairs % max(n_docs, 1)
        free_docs = unique_sorted(row_doc[valid_rows & (acct_codes < 0)])

    # 2. learn and assign, in rounds over the texts left over
    label = np.full(n_docs, -1, dtype=np.int64)
    score = np.zeros(n_docs, dtype=np.int64)  # template shingles held by each text
    n_labels = 0
    unassigned = live
    for round_ in range(MAX_ROUNDS):
        if len(unassigned) == 0:
            break
        sample = _learning_sample(unassigned, doc_hash, pair_doc, pair_acct, free_docs, cap)
        keys = _learning_keys(texts_of, sample)
        model = _learn(keys, doc_hash[sample], seed + round_)
        if len(model.size) == 0:
            break
        # assign the learning texts from their shingles, then the others by chunk
        got = np.full(n_docs, -1, dtype=np.int64)
        table = model.filter
        got[sample], score[sample] = _assign(
            (keys >> _U32).astype(np.uint32), (keys & _TEXT_MASK).astype(np.int64),
            len(sample), model, thr, table)
        del keys
        rest = unassigned[~np.isin(unassigned, sample, assume_unique=True)]
        batches = [rest[lo:lo + _CHUNK] for lo in range(0, len(rest), _CHUNK)]
        for which, (f, d) in zip(batches, _threaded(lambda w: _shingles(texts_of(w)), batches)):
            got[which], score[which] = _assign(f, d, len(which), model, thr, table)
        got = got[unassigned]
        hit = got >= 0
        if rounds is not None:
            rounds.append((model, n_labels if hit.any() else -1))
        if hit.any():
            label[unassigned[hit]] = got[hit] + n_labels
            n_labels += len(model.size)
        complete = len(sample) == len(unassigned)
        unassigned = unassigned[~hit]
        if complete:  # every text left was learned from: another round finds nothing new
            break

    # 3. ids: a template's id hashes its representative, a text that fits no
    #    template gets the hash of its own normalised text. Groups 0..n_labels-1
    #    are templates, the ones after are single texts.
    alone = live[(label[live] < 0) & ~empty_doc[live]]
    n_groups = n_labels + len(alone)
    group = np.full(n_docs, -1, dtype=np.int64)
    group[alone] = n_labels + np.arange(len(alone))
    group_id = np.full(n_groups, None, dtype=object)
    group_rep = np.full(n_groups, None, dtype=object)
    assigned = live[label[live] >= 0]
    if len(assigned):
        group[assigned] = label[assigned]
        # representative: the member holding most of the template's shingles,
        # then the most sent, then the smallest hash
        order = np.lexsort((doc_hash[assigned], -n_prompts[assigned], -score[assigned],
                            label[assigned]))
        lab_sorted = label[assigned][order]
        first = _run_starts(lab_sorted)
        reps = texts_of(assigned[order][first]).to_pylist()
        group_rep[lab_sorted[first]] = reps
        group_id[lab_sorted[first]] = [_template_id(t) for t in reps]
    for lo in range(0, len(alone), _CHUNK):
        part = texts_of(alone[lo:lo + _CHUNK]).to_pylist()
        group_rep[n_labels + lo:n_labels + lo + len(part)] = part
        group_id[n_labels + lo:n_labels + lo + len(part)] = [_template_id(t) for t in part]

    row_group = np.full(len(row_doc), -1, dtype=np.int64)
    row_group[valid_rows] = group[row_doc[valid_rows]]
    valid_group = row_group[valid_rows]

    # 4. table
    n_prompts_of = np.bincount(valid_group, minlength=n_groups)
    n_accounts_of = np.zeros(n_groups, dtype=np.int64)
    if acct_codes is not None:
        sent = acct_codes[valid_rows] >= 0
        n_acct = max(int(acct_codes.max()) + 1, 1) if len(acct_codes) else 1
        senders = unique_sorted(valid_group[sent] * n_acct + acct_codes[valid_rows][sent])
        n_accounts_of = np.bincount(senders // n_acct, minlength=n_groups)
    used = np.flatnonzero(n_prompts_of > 0)
    table = pd.DataFrame({
        "template_id": pd.Series(group_id[used], dtype="str"),
        "representative": pd.Series(group_rep[used], dtype="str"),
        "n_prompts": n_prompts_of[used].astype(np.int64),
        "n_accounts": n_accounts_of[used].astype(np.int64),
    })
    table = table.sort_values(["n_prompts", "template_id"], ascending=[False, True],
                              kind="stable").reset_index(drop=True)
    return row_group, group_id, table
