"""Benchmark of :func:`sybilgraph.templates.mine_templates`.

A seeded generator writes a corpus that looks like distillation traffic:

* prompts from 60 instruction templates whose slots are filled with realistic
  content (sentences and paragraphs, topic words, numbers, code blocks, inline
  code, quoted strings, identifiers, URLs, e-mail addresses, languages, names),
  some of them lightly paraphrased (synonyms, dropped or swapped words,
  punctuation, case and whitespace changes);
* free-form distractors (one to four random sentences drawn from the slot
  vocabulary; with ``--grammar-distractors`` written with the slot grammar,
  which is harder), each its own group;
* 20 distinct popular system prompts repeated verbatim, each its own group.

The grouping found by ``mine_templates`` is scored against the template of
origin with pairwise precision and recall computed from the contingency table.

Run::

    python benchmarks/bench_templates.py --n-prompts 1000000 --seed 0 --json out.json
    python benchmarks/bench_templates.py --n-prompts 100000 --compare   # candidates

Speed is the fastest of ``--repeat`` runs; peak memory is ``ru_maxrss`` and
"extra" is that peak minus the RSS before the call (the generated corpus).

``--compare`` also runs the candidate methods measured for
``docs/prompt_templates.md`` (Drain via drain3 on sorted distinct texts,
MinHash-LSH on the whole-text shingle sets with datasketch and with a
vectorised numpy sketch, the same on frequent shingles only, and the method
the library ships). drain3 is optional: without it that candidate is skipped.
"""

from __future__ import annotations

import argparse
import gc
import inspect
import json
import multiprocessing as mp
import random
import resource
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

__all__ = [
    "Corpus",
    "generate_corpus",
    "pairwise_precision_recall",
    "main",
]

# --------------------------------------------------------------------------- #
# Vocabulary and grammar (slot content, free-form distractors, system prompts)
# --------------------------------------------------------------------------- #

_NOUNS = """time person year way day thing man world life hand part child eye woman place
work week case point government company number group problem fact data user file
system program question service table list function server model network account
record message error value result request response page image report client
customer order product price market team project plan budget meeting email letter
book story article paper document note idea reason method process policy rule law
bank river city country road house room door window car train bus phone screen
computer database query index cache queue thread process memory disk cloud
cluster node graph tree edge path key token password string array object class
module package library framework test bug feature release version branch commit
pipeline job task schedule event log metric alert dashboard chart signal noise
school student teacher lesson course exam grade doctor patient hospital medicine
food water coffee garden animal dog cat bird fish weather rain storm season summer
winter music song movie game player score team coach friend family parent brother
sister history science art language word sentence paragraph chapter summary topic
energy power light heat engine machine robot sensor camera battery network""".split()
_VERBS = """write read build run test fix check find make take give send open close
create delete update change move copy load save parse sort filter merge split join
explain describe compare analyse review improve optimise measure count compute
design deploy install configure debug trace monitor store fetch render print
translate summarise classify predict train evaluate support handle manage use
need want like know think see show help start stop keep try call ask answer learn
teach follow lead reach leave meet pay buy sell grow lose win play watch feel""".split()
_ADJS = """good new first last long great little own other old right big high different
small large next early young important few public bad same able simple complex
fast slow quick lazy brown red green blue dark bright clean dirty safe secure
broken empty full strange common rare easy hard clear short modern legacy remote
local global private shared main final best worst happy sad busy free open closed
dynamic static efficient robust scalable small fresh cold hot warm quiet loud""".split()
_ADVS = """quickly slowly carefully often never always really very quite almost
again later soon together directly finally usually clearly exactly rarely""".split()
_PREPS = "of in to for with on at from by about into over after under between through".split()
_DETS = "the a the this that every some the each our my your their".split()
_PRONS = "i you we they he she it someone everyone".split()
_NAMES = """alice bob carol dave erin frank grace heidi ivan judy mallory oscar peggy
rupert sybil trent victor walter maria chen wei yuki omar fatima lucas sofia
mateo amara noah liam emma olivia ava mia ethan hugo ines""".split()
_LANGS = ["Python", "Rust", "Go", "Java", "TypeScript", "C++", "C#", "Kotlin", "Ruby",
          "Haskell", "Scala", "Swift", "SQL", "Bash"]
_HLANGS = ["French", "German", "Spanish", "Japanese", "Chinese", "Portuguese",
           "Italian", "Korean", "Russian", "Arabic", "Hindi", "Dutch"]

_FRAMES = [
    "D A N V D N P D N.",
    "P0 V D A N P D N.",
    "how do i V D N P D A N?",
    "D N P D N V R.",
    "please V D N and V it P D N.",
    "why does D N V when D N is A?",
    "D A N and D A N V P D N.",
    "P0 want to V D N P D A N R.",
    "is there a way to V D N without V D N?",
    "D N V D N, but D N V R.",
    "can you V D A N P D N?",
    "D N is A and D N is A.",
    "after D N V, D A N V D N.",
    "what is the best way to V D N P D N?",
]


def _zipf_weights(n: int, s: float = 1.0) -> list[float]:
    w = [1.0 / (i + 1) ** s for i in range(n)]
    acc, out = 0.0, []
    for x in w:
        acc += x
        out.append(acc)
    return out


class _Gen:
    """Seeded generator of sentences, slot values and paraphrases."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.cum = {
            k: _zipf_weights(len(v))
            for k, v in {"N": _NOUNS, "V": _VERBS, "A": _ADJS, "R": _ADVS}.items()
        }

    def word(self, kind: str) -> str:
        pool = {"N": _NOUNS, "V": _VERBS, "A": _ADJS, "R": _ADVS}[kind]
        return self.rng.choices(pool, cum_weights=self.cum[kind])[0]

    def sentence(self) -> str:
        rng = self.rng
        out = []
        for tok in rng.choice(_FRAMES).split():
            core, tail = tok.rstrip(".?,"), tok[len(tok.rstrip(".?,")):]
            if core in ("N", "V", "A", "R"):
                w = self.word(core)
            elif core == "D":
                w = rng.choice(_DETS)
            elif core == "P":
                w = rng.choice(_PREPS)
            elif core == "P0":
                w = rng.choice(_PRONS)
            else:
                w = core
            out.append(w + tail)
        s = " ".join(out)
        return s[0].upper() + s[1:]

    def sentences(self, lo: int, hi: int) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(lo, hi)))

    def random_sentence(self) -> str:
        """A sentence of 4 to 16 words drawn at random from the whole vocabulary."""
        rng = self.rng
        words = []
        for _ in range(rng.randint(4, 16)):
            r = rng.random()
            if r < 0.35:
                words.append(self.word("N"))
            elif r < 0.55:
                words.append(self.word("V"))
            elif r < 0.7:
                words.append(self.word("A"))
            elif r < 0.75:
                words.append(self.word("R"))
            elif r < 0.87:
                words.append(rng.choice(_DETS))
            else:
                words.append(rng.choice(_PREPS))
        s = " ".join(words)
        return s[0].upper() + s[1:] + rng.choice([".", ".", ".", "?", "!"])

    def ident(self) -> str:
        rng = self.rng
        words = [self.word(rng.choice("NVA")) for _ in range(rng.randint(2, 4))]
        style = rng.random()
        if style < 0.4:
            return "_".join(words)
        if style < 0.7:
            return words[0] + "".join(w.capitalize() for w in words[1:])
        if style < 0.85:
            return words[0] + str(rng.randint(0, 9999))
        return "".join(w.capitalize() for w in words)

    def code_block(self) -> str:
        rng = self.rng
        lang = rng.choice(_LANGS).lower()
        lines = []
        for _ in range(rng.randint(2, 9)):
            kind = rng.random()
            if kind < 0.3:
                lines.append(f"def {self.ident()}({self.word('N')}, {self.word('N')}):")
            elif kind < 0.6:
                lines.append(f"    {self.ident()} = {self.ident()}({rng.randint(0, 500)})")
            elif kind < 0.8:
                lines.append(f"    return {self.word('N')} + {rng.random():.3f}")
            else:
                lines.append(f"# {self.sentence()}")
        return f"```{lang}\n" + "\n".join(lines) + "\n```"

    def number(self) -> str:
        r = self.rng.random()
        if r < 0.5:
            return str(self.rng.randint(0, 10000))
        if r < 0.8:
            return f"{self.rng.uniform(0, 1000):.{self.rng.randint(1, 3)}f}"
        return f"{self.rng.randint(1, 999)},{self.rng.randint(0, 999):03d}"

    def slot(self, kind: str) -> str:
        rng = self.rng
        if kind == "task":
            return self.sentences(1, 3)
        if kind == "para":
            return self.sentences(3, 8)
        if kind == "topic":
            return " ".join(self.word(rng.choice("NA")) for _ in range(rng.randint(1, 4)))
        if kind == "word":
            return self.word("N")
        if kind == "n":
            return self.number()
        if kind == "code":
            return self.code_block()
        if kind == "inline":
            return f"`{self.ident()}({self.word('N')})`"
        if kind == "quote":
            return '"' + " ".join(self.word(rng.choice("NVA")) for _ in range(rng.randint(1, 6))) + '"'
        if kind == "ident":
            return self.ident()
        if kind == "lang":
            return rng.choice(_LANGS)
        if kind == "hlang":
            return rng.choice(_HLANGS)
        if kind == "name":
            return rng.choice(_NAMES).capitalize()
        if kind == "url":
            return (f"https://{self.word('N')}.{rng.choice(['com', 'org', 'io'])}/"
                    f"{self.word('N')}/{rng.randint(1, 99999)}")
        if kind == "email":
            return f"{rng.choice(_NAMES)}.{self.word('N')}@{self.word('N')}.com"
        if kind == "hex":
            if rng.random() < 0.5:
                return "%032x" % rng.getrandbits(128)
            h = "%032x" % rng.getrandbits(128)
            return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        raise KeyError(kind)


# --------------------------------------------------------------------------- #
# Templates
# --------------------------------------------------------------------------- #

TEMPLATES: list[str] = [
    "Write a complete {lang} implementation for: {task} Include unit tests. Repository context: {code}",
    "You are an expert {lang} developer. Refactor the following code so that it is easier to read and faster: {code} Explain every change you made.",
    "Translate the following text into {hlang}, keeping the tone and the formatting exactly as they are: {para}",
    "Summarise the following article in {n} bullet points for a busy executive: {para}",
    "Solve this step by step and show all of your reasoning before giving the final answer: {task} The answer must be a number.",
    "Given the function {inline}, write pytest tests that cover every branch, including the edge cases around {topic}.",
    "Act as a senior code reviewer. Find bugs, security problems and style issues in this snippet: {code} Rate the code from 1 to 10.",
    "Generate {n} diverse question and answer pairs about {topic} for training a customer support model. Return them as JSON lines.",
    "Classify the sentiment of this review as positive, negative or neutral and justify the label in one sentence: {quote}",
    "Rewrite the paragraph below in the style of a formal academic paper, without changing its meaning: {para}",
    "Explain to a ten year old child how {topic} works, using a short story with a character named {name}.",
    "Extract every person, organisation and location mentioned in the text and return a JSON object with three lists: {para}",
    "I am getting the error {quote} when I run {inline} in my {lang} project. What is the cause and how do I fix it? Here is the code: {code}",
    "Write a SQL query that returns {topic} from the table {ident}, grouped by month, for the last {n} days.",
    "Create a detailed lesson plan for teaching {topic} to university students, with learning goals, activities and an assessment.",
    "Convert this {lang} code to idiomatic {lang} with type annotations and docstrings: {code}",
    "Provide a chain of thought, then the final answer, for the following maths problem: {task}",
    "Write a product description of at most {n} words for an online shop selling {topic}. Mention the price and the warranty.",
    "Draft a polite e-mail to {name} at {email} asking for an update on {topic}. Keep it under five sentences.",
    "Analyse the time and space complexity of the following algorithm and suggest a faster one if possible: {code}",
    "Pretend you are a Linux terminal. I will type commands and you will reply with what the terminal should show. My first command is {inline}",
    "Generate a realistic but fictional dialogue between a user and an AI assistant about {topic}. The user should ask at least {n} follow-up questions.",
    "Fix the grammar and spelling mistakes in this text and list every correction you made: {para}",
    "What are the main differences between {topic} and {topic}? Answer with a comparison table and a short conclusion.",
    "Write a bash script that backs up the directory {ident} to {url} every {n} hours and logs failures.",
    "Design a REST API for {topic}. List the endpoints, the request and response bodies, and the error codes.",
    "Given the following log lines, identify the root cause of the outage and propose a remediation plan: {code}",
    "Write a short poem about {topic} in the voice of {name}, with exactly {n} lines and an AABB rhyme scheme.",
    "Score the following answer from 0 to 10 for correctness, helpfulness and harmlessness, and explain each score. Question: {task} Answer: {task}",
    "Continue the story from where it stops, adding about {n} words and keeping the same characters: {para}",
    "Produce a regular expression that matches {topic} but not {quote}, and explain each part of the pattern.",
    "Implement the class {ident} in {lang} with methods for adding, removing and searching items, and write a usage example.",
    "List {n} creative startup ideas in the field of {topic}, each with a target customer and a revenue model.",
    "Answer the question using only the context below. If the answer is not in the context, say that you do not know. Context: {para} Question: {task}",
    "Generate the docstring for this function in numpydoc format, describing parameters, returns and raises: {code}",
    "Role play as a customer service agent for a bank. The customer says: {quote} Reply in a calm and helpful way.",
    "Write unit tests in {lang} for the module at {url}, mocking every network call and covering the failure paths.",
    "Create a multiple choice quiz with {n} questions about {topic}. Mark the correct answer of each question with an asterisk.",
    "Describe the image in detail for a visually impaired person. The image shows {task}",
    "Paraphrase the following sentence in {n} different ways while keeping its meaning: {task}",
    "Identify any personally identifiable information in this record and replace it with placeholders: {name}, {email}, {hex}, {para}",
    "Write the commit message for this diff following the conventional commits specification: {code}",
    "Estimate how long it would take a team of {n} engineers to build {topic}, and break the estimate down by milestone.",
    "You are a helpful travel agent. Plan a {n} day trip to {topic} for a family with two children on a moderate budget.",
    "Prove or disprove the following statement, and write the proof rigorously: {task}",
    "Generate a JSON schema for an object describing {topic}, with required fields, types and one valid example.",
    "Critique this essay for argument structure, evidence and clarity, then give an overall grade: {para}",
    "Turn these meeting notes into a list of action items with owners and due dates: {para}",
    "Write a Dockerfile for a {lang} web service called {ident} that listens on port {n} and runs as a non-root user.",
    "Explain what this {lang} snippet does line by line, as if to a junior developer on their first day: {code}",
    "Suggest {n} names for a new brand of {topic}, each with a one line tagline.",
    "Answer as concisely as possible, in one word if you can: {task}",
    "Translate this {lang} error message into plain English and tell me the three most likely causes: {quote}",
    "Generate synthetic customer records with the fields name, email, city and last order for {n} customers who bought {topic}.",
    "Compare the performance of {inline} and {inline} on large inputs and recommend one, with benchmarks if possible.",
    "Rewrite this prompt so that a language model follows it more reliably, and explain your changes: {task}",
    "Write a cover letter for the position of {topic} at a company in {hlang} speaking country, for a candidate named {name}.",
    "Check whether the following claim is true and cite your sources: {task}",
    "Write a tweet thread of {n} tweets explaining {topic} to beginners, with one emoji per tweet.",
    "Create a study guide that covers {topic}, {topic} and {topic}, with key definitions and practice questions.",
]

_SYNONYMS: dict[str, list[str]] = {
    "write": ["create", "produce", "compose"], "complete": ["full", "whole"],
    "following": ["below", "next"], "explain": ["describe", "clarify"],
    "every": ["each", "all"], "create": ["make", "build"], "generate": ["produce", "create"],
    "short": ["brief"], "detailed": ["thorough"], "list": ["enumerate"],
    "answer": ["reply", "response"], "give": ["provide"], "find": ["identify", "spot"],
    "fix": ["correct", "repair"], "text": ["passage"], "code": ["source"],
    "question": ["query"], "main": ["key"], "rewrite": ["rephrase"], "keep": ["preserve"],
    "detail": ["depth"], "suggest": ["propose"], "using": ["with"], "about": ["on"],
    "possible": ["feasible"], "helpful": ["useful"], "each": ["every"],
}


def _split_template(tpl: str) -> list[tuple[bool, str]]:
    """Split into (is_slot, text) parts."""
    parts: list[tuple[bool, str]] = []
    i = 0
    while i < len(tpl):
        j = tpl.find("{", i)
        if j < 0:
            parts.append((False, tpl[i:]))
            break
        if j > i:
            parts.append((False, tpl[i:j]))
        k = tpl.index("}", j)
        parts.append((True, tpl[j + 1:k]))
        i = k + 1
    return parts


_PARTS = [_split_template(t) for t in TEMPLATES]


def _paraphrase(rng: random.Random, fixed: list[str]) -> list[str]:
    """Apply one light edit to the fixed text of a template."""
    fixed = list(fixed)
    idx = [i for i, t in enumerate(fixed) if t.strip()]
    i = rng.choice(idx)
    seg = fixed[i]
    core_seg = seg.strip()
    lead = seg[: len(seg) - len(seg.lstrip())]
    trail = seg[len(seg.rstrip()):]
    words = core_seg.split(" ")
    wi = [k for k, w in enumerate(words) if w.strip(".,:?!").isalpha()]
    if not wi:
        return fixed
    op = rng.random()
    k = rng.choice(wi)
    w = words[k]
    core = w.strip(".,:?!")
    if op < 0.35:  # synonym (or drop when the word has none)
        syn = _SYNONYMS.get(core.lower())
        words[k] = w.replace(core, rng.choice(syn)) if syn else ""
    elif op < 0.55:  # drop a word
        words[k] = ""
    elif op < 0.7:  # swap two neighbours
        if k + 1 < len(words):
            words[k], words[k + 1] = words[k + 1], words[k]
    elif op < 0.85:  # punctuation
        if w.endswith((".", ",", ":")):
            words[k] = w[:-1] + rng.choice(["", ";", "!", " -"])
        else:
            words[k] = w + rng.choice([",", ":", " -"])
    else:  # case and whitespace
        words[k] = w.upper() if rng.random() < 0.5 else w + "\n "
    fixed[i] = lead + " ".join(x for x in words if x != "") + trail
    return fixed


def _fill(gen: _Gen, t: int, paraphrase: float) -> str:
    parts = _PARTS[t]
    fixed = [p for s, p in parts if not s]
    rng = gen.rng
    r = rng.random()
    if r < paraphrase:
        fixed = _paraphrase(rng, fixed)
        if rng.random() < 0.3:
            fixed = _paraphrase(rng, fixed)
    out: list[str] = []
    fi = 0
    for is_slot, p in parts:
        if is_slot:
            out.append(gen.slot(p))
        else:
            out.append(fixed[fi])
            fi += 1
    s = "".join(out)
    if rng.random() < 0.05:
        s = "  " + s.upper() if rng.random() < 0.3 else s + "\n\n"
    return s


_SYSTEM_OPENERS = [
    "You are a helpful assistant.", "You are a friendly tutor for high school students.",
    "Act as a senior software engineer who values readable code.",
    "This assistant supports lawyers but never gives legal advice.",
    "Welcome to the airline help desk bot.", "Your job is to be a creative writing partner.",
    "As a careful medical information assistant you must cite sources.",
    "I want you to behave like a meticulous data analyst.", "Hello! I am your chess coach.",
    "Kitchen helper mode is on.", "Travel planning assistant, version two.",
    "You teach languages through conversation.", "Security expert persona enabled.",
    "Interview coach: be encouraging but honest.", "Personal finance guide for young adults.",
    "Fitness trainer instructions follow.", "History professor simulation.",
    "Bedtime storyteller for children aged four to eight.",
    "Product management copilot for a software team.", "Research librarian on duty.",
    "Supportive listener, not a therapist.", "Marketing copywriter with a playful voice.",
]
_SYSTEM_CLOSERS = [
    "Keep every answer under two hundred words.", "Use British spelling throughout.",
    "Format your replies in Markdown with headings.", "Ask one clarifying question when unsure.",
    "Refuse politely if a request is unsafe.", "Prefer bullet lists over long paragraphs.",
    "Never mention that you are an AI model.", "End each reply with a short summary.",
    "Do not browse the web.", "Answer only in the language of the user.",
    "Include an example whenever possible.", "Avoid jargon unless asked.",
    "Cite at least one reliable source.", "Use a warm and upbeat tone.",
    "Do not give medical diagnoses.", "Stay strictly on topic.",
    "Think before you answer and check your arithmetic.", "Use metric units.",
    "Offer a follow-up suggestion at the end.", "Be concise.",
    "Sign off with a friendly emoji.", "Admit when you do not know.",
]


def _system_prompts(n: int, seed: int) -> list[str]:
    """``n`` distinct popular system prompts (fixed strings, no shared template)."""
    gen = _Gen(random.Random(seed + 7919))
    out = []
    for i in range(n):
        body = " ".join(gen.sentence() for _ in range(gen.rng.randint(2, 6)))
        out.append(f"{_SYSTEM_OPENERS[i % len(_SYSTEM_OPENERS)]} {body} "
                   f"{_SYSTEM_CLOSERS[i % len(_SYSTEM_CLOSERS)]}")
    return out


@dataclass
class Corpus:
    """A generated benchmark corpus."""

    texts: list[str]
    accounts: list[str]
    truth: np.ndarray  # int64 group of origin
    kind: np.ndarray  # "template" | "free" | "system"
    n_templates: int = field(default=len(TEMPLATES))


def generate_corpus(n_prompts: int, seed: int = 0, *, paraphrase: float = 0.3,
                    p_free: float = 0.15, p_system: float = 0.15,
                    n_system: int = 20, grammar_distractors: bool = False) -> Corpus:
    """Generate a labelled corpus of ``n_prompts`` prompts.

    Parameters
    ----------
    n_prompts : int
        Number of prompts.
    seed : int
        Seed of the generator; the corpus is a pure function of the arguments.
    paraphrase : float
        Probability that a template prompt is lightly paraphrased (one edit,
        a second one with probability 0.3).
    p_free, p_system : float
        Shares of free-form distractors and of system prompts.
    n_system : int
        Number of distinct popular system prompts.
    grammar_distractors : bool
        Write the free-form distractors with the sentence grammar of the slot
        content (frames such as "what is the best way to ...") instead of
        random word sequences. Harder: common phrasings are template-like.

    Returns
    -------
    Corpus
        Texts, accounts, ground-truth group and kind of every prompt.
    """
    rng = random.Random(seed)
    gen = _Gen(rng)
    n_tpl = len(TEMPLATES)
    tpl_cum = _zipf_weights(n_tpl, 0.8)
    order = list(range(n_tpl))
    rng.shuffle(order)
    sys_prompts = _system_prompts(n_system, seed)
    sys_cum = _zipf_weights(n_system, 1.0)
    # operators: template t is sent by 3..40 accounts of its operator; the first
    # template also has one heavy account sending a third of its prompts.
    op_accounts = [[f"op{t}-acct{j}" for j in range(rng.randint(3, 40))] for t in range(n_tpl)]
    texts: list[str] = []
    accounts: list[str] = []
    truth = np.empty(n_prompts, dtype=np.int64)
    kind = np.empty(n_prompts, dtype=object)
    free_id = n_tpl + n_system
    for i in range(n_prompts):
        r = rng.random()
        if r < p_free:
            n_sent = rng.randint(1, 4)
            if grammar_distractors:
                texts.append(" ".join(gen.sentence() for _ in range(n_sent)))
            else:
                texts.append(" ".join(gen.random_sentence() for _ in range(n_sent)))
            accounts.append(f"user{rng.randrange(200_000)}")
            truth[i] = free_id
            free_id += 1
            kind[i] = "free"
        elif r < p_free + p_system:
            s = rng.choices(range(n_system), cum_weights=sys_cum)[0]
            texts.append(sys_prompts[s])
            accounts.append(f"user{rng.randrange(200_000)}")
            truth[i] = n_tpl + s
            kind[i] = "system"
        else:
            t = order[rng.choices(range(n_tpl), cum_weights=tpl_cum)[0]]
            texts.append(_fill(gen, t, paraphrase))
            if t == order[0] and rng.random() < 0.33:
                accounts.append("heavy-operator-account")
            else:
                accounts.append(rng.choice(op_accounts[t]))
            truth[i] = t
            kind[i] = "template"
    return Corpus(texts, accounts, truth, kind)


# --------------------------------------------------------------------------- #
# Scoring
# --------------------------------------------------------------------------- #


def _pairs(counts: np.ndarray) -> float:
    c = counts.astype(np.float64)
    return float(np.sum(c * (c - 1.0) / 2.0))


def pairwise_precision_recall(pred: Sequence[object] | np.ndarray,
                              truth: Sequence[object] | np.ndarray) -> tuple[float, float]:
    """Pairwise precision and recall of a grouping, from the contingency table.

    Parameters
    ----------
    pred : array-like
        Predicted group of every item (any hashable labels).
    truth : array-like
        True group of every item.

    Returns
    -------
    (float, float)
        Precision: share of the pairs grouped together that belong together.
        Recall: share of the pairs that belong together that are grouped
        together. 1.0 when the denominator is empty.

    Notes
    -----
    ``O(n)``: the pair counts are sums of ``c * (c - 1) / 2`` over the cells,
    rows and columns of the contingency table; no pair is enumerated.
    """
    p_codes = pd.factorize(np.asarray(pred, dtype=object), use_na_sentinel=False)[0]
    t_codes = pd.factorize(np.asarray(truth, dtype=object), use_na_sentinel=False)[0]
    cell = pd.Series(p_codes.astype(np.int64) * (int(t_codes.max()) + 1) + t_codes).value_counts()
    tp = _pairs(cell.to_numpy())
    pp = _pairs(np.bincount(p_codes))
    tt = _pairs(np.bincount(t_codes))
    return (tp / pp if pp else 1.0, tp / tt if tt else 1.0)


# --------------------------------------------------------------------------- #
# Candidates (for --compare)
# --------------------------------------------------------------------------- #


def _run_library(corpus: Corpus, args: argparse.Namespace) -> np.ndarray:
    from sybilgraph.templates import mine_templates

    default = inspect.signature(mine_templates).parameters["threshold"].default
    res = mine_templates(corpus.texts, corpus.accounts if not args.no_accounts else None,
                         threshold=default if args.threshold is None else args.threshold,
                         seed=args.seed)
    return res.template_ids


def _distinct_normalised(texts: list[str]) -> tuple[np.ndarray, list[str]]:
    """Codes of the rows into the sorted distinct normalised texts."""
    from sybilgraph import templates as T

    codes, uniques = pd.factorize(np.asarray(texts, dtype=object))
    norm: list[str] = []
    for lo in range(0, len(uniques), 16384):
        norm.extend(T._normalise_chunk(list(uniques[lo:lo + 16384])).to_pylist())
    distinct = sorted(set(norm))  # sorted: order-independent processing
    index = {t: i for i, t in enumerate(distinct)}
    doc_of_unique = np.array([index[t] for t in norm], dtype=np.int64)
    return doc_of_unique[codes], distinct


def _run_drain(corpus: Corpus, args: argparse.Namespace) -> np.ndarray:
    """Drain (drain3) over the sorted distinct normalised texts."""
    from drain3 import TemplateMiner
    from drain3.template_miner_config import TemplateMinerConfig

    rows, distinct = _distinct_normalised(corpus.texts)
    cfg = TemplateMinerConfig()
    cfg.profiling_enabled = False
    cfg.drain_sim_th = args.drain_sim_th
    cfg.drain_depth = 4
    miner = TemplateMiner(config=cfg)
    cluster = np.array([miner.add_log_message(t)["cluster_id"] for t in distinct], dtype=np.int64)
    return cluster[rows]


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        p = self.parent
        while p[i] != i:
            p[i] = p[p[i]]
            i = p[i]
        return i

    def union(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def _run_datasketch_lsh(corpus: Corpus, args: argparse.Namespace) -> np.ndarray:
    """datasketch MinHash + MinHashLSH on the word-trigram sets of whole texts."""
    from datasketch import MinHash, MinHashLSH

    rows, distinct = _distinct_normalised(corpus.texts)
    sets = []
    for t in distinct:
        w = [x.strip(".,:;!?()") for x in t.split()]
        w = [x for x in w if x]
        sets.append({" ".join(w[i:i + 3]).encode() for i in range(max(1, len(w) - 2))})
    hashes = MinHash.bulk(sets, num_perm=64, seed=args.seed)
    lsh = MinHashLSH(threshold=args.lsh_threshold, num_perm=64)
    for i, m in enumerate(hashes):
        lsh.insert(i, m)
    uf = _UnionFind(len(distinct))
    for i, m in enumerate(hashes):
        for j in lsh.query(m):
            uf.union(i, j)
    root = np.array([uf.find(i) for i in range(len(distinct))], dtype=np.int64)
    return root[rows]


def _numpy_lsh_groups(features: np.ndarray, doc: np.ndarray, members: np.ndarray,
                      n_docs: int, doc_hash: np.ndarray, threshold: float,
                      num_perm: int = 64, rows_per_band: int = 2) -> np.ndarray:
    """Connected components of texts whose MinHash signatures agree (vectorised)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from sybilgraph import templates as T

    order = np.argsort(doc, kind="stable")
    f, d = features[order].astype(np.uint64), doc[order]
    starts = np.flatnonzero(np.r_[True, d[1:] != d[:-1]]) if len(d) else np.empty(0, np.int64)
    rng = np.random.default_rng(0)
    mult = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) | np.uint64(1)
    sig = np.full((n_docs, num_perm), np.iinfo(np.uint64).max, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(num_perm):
            sig[d[starts], k] = np.minimum.reduceat(T._mix(f * mult[k]), starts)
    ea, eb = [], []
    sub = sig[members]
    with np.errstate(over="ignore"):
        for band in range(num_perm // rows_per_band):
            key = np.zeros(len(members), dtype=np.uint64)
            for j in range(rows_per_band):
                key = T._mix(key * T._M1 + sub[:, band * rows_per_band + j])
            o = np.lexsort((doc_hash[members], key))
            run = T._run_starts(key[o])
            leader = np.repeat(members[o][run], np.diff(np.r_[run, len(o)]))
            m = members[o]
            ok = (np.count_nonzero(sig[m] == sig[leader], axis=1) >= threshold * num_perm)
            ea.append(m[ok & (m != leader)])
            eb.append(leader[ok & (m != leader)])
    a, b = np.concatenate(ea), np.concatenate(eb)
    g = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n_docs, n_docs))
    return connected_components(g, directed=False)[1]


def _numpy_lsh(corpus: Corpus, args: argparse.Namespace, skeleton: bool) -> np.ndarray:
    import pyarrow as pa

    from sybilgraph import templates as T

    rows, distinct = _distinct_normalised(corpus.texts)
    n_docs = len(distinct)
    feats, docs = [], []
    for lo in range(0, n_docs, 16384):
        f, d = T._shingles(pa.array(distinct[lo:lo + 16384], type=pa.string()))
        feats.append(f)
        docs.append(d + lo)
    f, d = np.concatenate(feats), np.concatenate(docs)
    doc_hash = T._hash_strings(np.asarray(distinct, dtype=object))
    members = np.arange(n_docs)
    if skeleton:  # keep the shingles found in >= MIN_TEXTS texts
        u, inv, cnt = np.unique(f, return_inverse=True, return_counts=True)
        keep = cnt[inv] >= T.MIN_TEXTS
        f, d = f[keep], d[keep]
        size = np.bincount(d, minlength=n_docs)
        members = np.flatnonzero(size >= T.MIN_SHINGLES)
    comp = _numpy_lsh_groups(f, d, members, n_docs, doc_hash, args.lsh_threshold)
    label = np.where(np.isin(np.arange(n_docs), members), comp, n_docs + np.arange(n_docs))
    return label[rows]


CANDIDATES: dict[str, Callable[[Corpus, argparse.Namespace], np.ndarray]] = {
    "sybilgraph": _run_library,
    "drain3 (sorted)": _run_drain,
    "datasketch MinHashLSH (whole text)": _run_datasketch_lsh,
    "numpy MinHash-LSH (whole text)": lambda c, a: _numpy_lsh(c, a, skeleton=False),
    "numpy MinHash-LSH (frequent shingles)": lambda c, a: _numpy_lsh(c, a, skeleton=True),
}



def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _score(name: str, corpus: Corpus, pred: np.ndarray, seconds: float,
           rss_before: float, peak: float) -> dict[str, object]:
    n = len(corpus.texts)
    row: dict[str, object] = {"method": name, "n_prompts": n}
    p, r = pairwise_precision_recall(pred, corpus.truth)
    row.update(precision=round(p, 5), recall=round(r, 5))
    tmask = corpus.kind == "template"
    p_t, r_t = pairwise_precision_recall(pred[tmask], corpus.truth[tmask])
    row.update(precision_templates=round(p_t, 5), recall_templates=round(r_t, 5))
    row.update(seconds=round(seconds, 2), prompts_per_s=round(n / seconds),
               peak_rss_mb=round(peak, 1), extra_rss_mb=round(peak - rss_before, 1),
               n_groups=int(pd.Series(pred, dtype=object).nunique()))
    return row


def _measure(name: str, corpus: Corpus, args: argparse.Namespace
             ) -> tuple[np.ndarray, float, float, float] | None:
    """Run one method: (prediction, seconds, RSS before in MB, peak RSS in MB)."""
    gc.collect()
    rss_before = _rss_mb()
    times = []
    pred = None
    for _ in range(max(1, args.repeat)):
        pred = None  # let the previous run's result go before the next run
        t0 = time.perf_counter()
        try:
            pred = CANDIDATES[name](corpus, args)
        except ImportError as exc:
            print(f"{name}: skipped ({exc})", flush=True)
            return None
        times.append(time.perf_counter() - t0)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        if len(times) > 1:
            print(f"  run {len(times)}: {times[-1]:.2f} s", flush=True)
    # the fastest run is the least disturbed by other load on the machine
    return np.asarray(pred, dtype=object), min(times), rss_before, peak


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n-prompts", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threshold", type=float, default=None,
                    help="threshold passed to mine_templates (default: its own)")
    ap.add_argument("--no-accounts", action="store_true",
                    help="call mine_templates without accounts")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run each method this many times and report the fastest run")
    ap.add_argument("--compare", action="store_true",
                    help="also run the candidate methods (slow; drain3 optional)")
    ap.add_argument("--json", type=Path, default=None, help="write the rows as JSON here")
    ap.add_argument("--grammar-distractors", action="store_true",
                    help="free-form distractors written with the slot grammar (harder)")
    ap.add_argument("--lsh-threshold", type=float, default=0.5,
                    help="Jaccard threshold of the MinHash-LSH candidates (--compare)")
    ap.add_argument("--drain-sim-th", type=float, default=0.4,
                    help="similarity threshold of the drain3 candidate (--compare)")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    corpus = generate_corpus(args.n_prompts, args.seed,
                             grammar_distractors=args.grammar_distractors)
    gen_s = time.perf_counter() - t0
    print(f"generated {args.n_prompts:,} prompts in {gen_s:.1f} s "
          f"({len(TEMPLATES)} templates, kinds: "
          f"{pd.Series(corpus.kind).value_counts().to_dict()})", flush=True)
    names = list(CANDIDATES) if args.compare else ["sybilgraph"]
    rows = []
    for name in names:
        if args.compare and "fork" in mp.get_all_start_methods():
            # each candidate in a forked child, so that peak memory is its own
            with mp.get_context("fork").Pool(1) as pool:
                out = pool.apply(_measure, (name, corpus, args))
        else:
            out = _measure(name, corpus, args)
        if out is None:
            continue
        pred, seconds, rss_before, peak = out
        rows.append(_score(name, corpus, pred, seconds, rss_before, peak))
        print(pd.DataFrame([rows[-1]]).to_string(index=False), flush=True)
        del pred
    table = pd.DataFrame(rows)
    print()
    print(table.to_string(index=False))
    if args.json is not None:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                         "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
