"""Synthetic sybil campaigns with ground truth.

:func:`generate` builds a seeded, reproducible population of accounts -- fake
accounts run by one or more *operators* (organisations working in teams) hidden
inside a crowd of ordinary (*benign*) accounts -- and returns the observations
a platform would log about them together with the ground truth needed to score
a clustering.

Everything is vectorised with numpy and pyarrow compute kernels: no Python
loop runs over accounts or observation rows (only over organisations and
company domains, of which there are at most a few thousand).  On a 2-core
machine the default scenario (124,001 accounts, about 766,000 observations)
builds in about one second and ``scale=10`` (1.24 million accounts, 7.7
million observations) in about ten seconds.

Memory
------
The whole population is built in memory: at ``scale=10`` the process peaks at
about 1.9 GB and the observation frame holds about 0.6 GB (pyarrow-backed
strings; prompt text dominates).  Memory grows linearly with ``scale``; there
is no streaming mode.

Examples
--------
>>> from sybilgraph.synth import generate
>>> data = generate("distillation", scale=0.05, seed=1)
>>> sorted(data.observations["kind"].unique())
['device', 'email', 'ip', 'payment', 'prompt']
>>> set(data.truth["role"]) == {"operator", "benign"}
True
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import string
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sybilgraph._arrays import text_array
from sybilgraph._errors import ParameterError
from sybilgraph.kinds import SYNTHETIC

__all__ = [
    "KINDS",
    "OperatorSpec",
    "SynthParams",
    "Scenario",
    "SCENARIOS",
    "SynthData",
    "generate",
    "describe_params",
    "PromptCorpus",
    "PROMPT_SCRIPTS",
    "prompt_corpus",
]

#: Observation kinds emitted by :func:`generate`, in a fixed order.
KINDS: tuple[str, ...] = SYNTHETIC
_IP, _EMAIL, _PAYMENT, _DEVICE, _PROMPT = (KINDS.index(k) for k in ("ip", "email", "payment", "device", "prompt"))

_DAY = 86_400

# ---------------------------------------------------------------------------
# Vocabulary (all text is made up; no value refers to a real person or host)
# ---------------------------------------------------------------------------

_VERBS = (
    "parse validate merge cache index render encode decode compress stream "
    "schedule route sort filter rank deduplicate tokenize serialize migrate "
    "benchmark profile refactor translate summarise classify cluster embed "
    "retry throttle batch shard replicate rotate sign verify hash compile "
    "optimise visualise aggregate normalise reconcile export import sync "
    "monitor simulate estimate forecast interpolate paginate authenticate "
    "authorise lint format patch instrument"
).split()

_ADJECTIVES = (
    "nested concurrent incremental distributed lazy immutable sparse dense "
    "streaming recursive cached weighted balanced persistent async typed "
    "secure minimal robust scalable reactive modular generic parallel "
    "versioned encrypted compressed partial approximate probabilistic "
    "hierarchical temporal spatial adaptive lossless idempotent atomic "
    "rolling sliding multi-tenant offline real-time configurable portable "
    "quiet bright rapid silver golden crimson amber hidden silent swift"
).split()

_NOUNS = (
    "tree graph queue heap trie buffer cache index ledger invoice report "
    "scheduler tokenizer parser compiler router gateway webhook pipeline "
    "dataset matrix tensor vector histogram timeline calendar inventory "
    "catalog cart checkout payment account profile session token cookie "
    "certificate keystore bucket shard replica cluster node worker job task "
    "event stream topic partition snapshot backup migration schema table "
    "column query cursor transaction lock mutex semaphore thread coroutine "
    "socket packet frame image thumbnail video subtitle playlist podcast "
    "recipe garden budget mortgage resume essay poem lecture syllabus quiz "
    "falcon river harbor meadow canyon comet lantern orchard summit glacier "
    "sensor drone robot satellite turbine battery circuit firmware kernel "
    "driver plugin widget layout theme template form wizard dashboard chart"
).split()

_PREPOSITIONS = "for with from into over across using without under behind".split()

_LANGUAGES = (
    "Python", "Rust", "Go", "TypeScript", "JavaScript", "Java", "Kotlin", "C++",
    "C#", "Swift", "Ruby", "Scala", "Haskell", "Elixir", "Julia", "R", "Lua", "Zig",
)

_LIBRARIES = (
    "pytest", "numpy", "pandas", "requests", "asyncio", "tokio", "serde",
    "express", "react", "django", "flask", "fastapi", "spring", "hibernate",
    "junit", "gtest", "boost", "sqlalchemy", "pydantic", "celery", "kafka",
    "redis", "grpc", "protobuf", "hypothesis", "click", "argparse", "lodash",
    "axios", "vitest", "tensorflow", "pytorch", "scikit-learn", "polars",
)

_EXTENSIONS = ("py", "rs", "go", "ts", "js", "java", "kt", "cpp", "cs", "rb", "sql", "yaml")

_FIRST_NAMES = (
    "james mary john patricia robert jennifer michael linda william elizabeth "
    "david barbara richard susan joseph jessica thomas sarah charles karen "
    "daniel nancy matthew lisa anthony betty mark helen donald sandra steven "
    "donna paul carol andrew ruth joshua sharon kevin michelle brian laura "
    "george emily edward kimberly ronald deborah timothy dorothy jason amy "
    "jeffrey angela ryan ashley jacob brenda gary emma nicholas olivia eric "
    "cynthia jonathan marie stephen janet larry catherine justin frances "
    "scott christine brandon samantha benjamin debra samuel rachel gregory "
    "carolyn frank janet alexander maria raymond heather patrick diane jack "
    "julie dennis joyce jerry victoria tyler kelly aaron lauren jose christina "
    "adam joan henry evelyn nathan judith douglas megan zachary andrea peter "
    "cheryl kyle hannah noah jacqueline ethan martha jeremy gloria walter teresa "
    "wei li yuki hiroshi ananya rahul priya fatima omar ahmed lucia mateo "
    "sofia leon mila lars ingrid pierre chloe giulia marco ana joao"
).split()

_LAST_NAMES = (
    "smith johnson williams brown jones garcia miller davis rodriguez martinez "
    "hernandez lopez gonzalez wilson anderson thomas taylor moore jackson "
    "martin lee perez thompson white harris sanchez clark ramirez lewis "
    "robinson walker young allen king wright scott torres nguyen hill flores "
    "green adams nelson baker hall rivera campbell mitchell carter roberts "
    "gomez phillips evans turner diaz parker cruz edwards collins reyes "
    "stewart morris morales murphy cook rogers gutierrez ortiz morgan cooper "
    "peterson bailey reed kelly howard ramos kim cox ward richardson watson "
    "brooks chavez wood james bennett gray mendoza ruiz hughes price alvarez "
    "castillo sanders patel myers long ross foster jimenez powell jenkins "
    "perry russell sullivan bell coleman butler henderson barnes gonzales "
    "fisher vasquez simmons romero jordan patterson alexander hamilton graham "
    "reynolds griffin wallace moreno west cole hayes bryant herrera gibson "
    "ellis tran medina aguilar stevens murray ford castro marshall owens "
    "wang zhang chen liu yamamoto tanaka sato singh kumar sharma khan ali "
    "mueller schmidt schneider fischer weber rossi russo ferrari silva santos "
    "dubois moreau lefebvre novak kowalski nielsen hansen larsen berg"
).split()

_WEBMAIL_DOMAINS = (
    "gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "icloud.com",
    "proton.me", "gmx.de", "mail.ru",
)
_WEBMAIL_WEIGHTS = (0.45, 0.15, 0.12, 0.10, 0.08, 0.05, 0.03, 0.02)

_TLDS = ("com", "io", "net", "co", "ai", "tech")

# Distillation-style operator prompt templates.  Slots are filled per prompt
# with random content (see _SLOT_GENERATORS).
_OPERATOR_TEMPLATES = (
    "Write a complete {lang} implementation for: {task}. Include tests. Repository context: {ctx}",
    "You are an expert {lang} engineer. Solve step by step and show all reasoning: {task}.",
    "Explain your chain of thought in full detail before answering. Problem {num}: {task}",
    "Generate {num} diverse question-answer pairs about {topic}. Return JSON lines with fields question, answer, rationale.",
    "Translate the following {lang} function into idiomatic Rust and explain each change: {ident}({words})",
    "Act as a senior reviewer. Review the patch to {file} in {ctx} and list every bug you find.",
    "Rewrite this answer so it is more detailed and cites sources: {words}",
    "Solve the following competition problem and give the final answer in a box. Problem {num}: {task}",
    "Produce a step-by-step tutorial on {topic} for beginners, with code samples in {lang}.",
    "Given the function {ident} in {file}, write exhaustive unit tests using {lib}.",
    "Refactor {file} to remove duplication. Keep the public API of {ident} unchanged. Context: {ctx}",
    "List the assumptions, edge cases and failure modes for: {task}. Then implement it in {lang}.",
    "Return only valid JSON. Classify the sentiment and intent of: {words}",
    "Write a detailed system design document for {topic} handling {num} requests per second.",
    "Derive the time and space complexity of {ident} and prove it formally. Code: {ctx}",
    "Answer as a helpful assistant would, then critique your own answer and improve it: {task}",
    "Create a {lang} command-line tool that can {task}. Use {lib} for argument parsing.",
    "Summarise the key ideas of {topic} in exactly {num} bullet points, then expand each one.",
    "Write SQL queries for the schema in {file} that answer: {task}",
    "Fix the failing test {ident} in {ctx}. Show the full corrected file {file}.",
    "Generate a dataset of {num} synthetic user requests about {topic} with ideal assistant replies.",
    "Think carefully. What is the best way to {task}? Compare at least three approaches in {lang}.",
    "Provide a formal proof or counterexample: {words}",
    "Write docstrings and type hints for every function in {file}. Project: {ctx}",
    "Convert this pseudo-code into production {lang} with error handling: {task}",
    "You are grading answers. Score the following response from 1 to 10 and justify: {words}",
    "Implement {ident} using only the standard library of {lang}. Requirements: {task}",
    "Explain how {lib} works internally, including the data structures it uses for {topic}.",
    "Write a regex that matches {topic} and explain each component. Test cases: {words}",
    "Create a multiple-choice exam of {num} questions on {topic} with answer keys and explanations.",
    "Port the module {file} from {lib} to {lang}. Preserve the behaviour of {ident}.",
    "Play the role of a tutor. Walk through solving: {task}. Ask no questions; give the full solution.",
    "Write an optimised CUDA kernel to {task} and explain the memory access pattern.",
    "Given this stack trace from {ctx}, identify the root cause and patch {file}: {words}",
    "Produce a chain-of-thought rationale and a final answer for problem {num}: {task}",
    "Draft an API specification for {topic} with {num} endpoints, including request and response examples.",
    "Rank the following solutions to {task} from best to worst and explain your ranking: {words}",
    "Build a {lang} class {ident} that supports the following: {task}. Add benchmarks with {lib}.",
    "Write a Dockerfile and CI configuration for the project at {ctx} that uses {lib}.",
    "Explain this code line by line as if to a new hire: {ctx}/{file}",
    "Generate adversarial test inputs for {ident} that would break a naive attempt to {task}.",
    "Solve this math word problem showing every intermediate step: {words} (variant {num})",
    "Write a literature review on {topic} covering methods, datasets and open problems.",
    "Design a database schema for {topic}. Output DDL for PostgreSQL and explain the indexes.",
    "Convert the following description into a state machine in {lang}: {task}",
    "Implement a parser for {topic} in {lang} with a hand-written lexer. Entry point: {ident}",
    "Answer the question and then list {num} follow-up questions a user might ask: {task}",
    "Write a Terraform module that provisions {topic}. Variables should mirror {ident}.",
    "Simulate an expert panel discussing {topic}; each expert argues a different position.",
    "Produce a minimal reproducible example for the bug in {file} of {ctx} using {lib}.",
    "Optimise this {lang} function for speed and explain each optimisation: {ident} in {file}",
    "Rewrite the following text in a formal academic register without losing content: {words}",
    "Give a Socratic explanation of {topic}, then test understanding with {num} exercises.",
    "Implement the algorithm described here in {lang} and verify it on {num} random inputs: {task}",
    "Identify security vulnerabilities in {file} of {ctx} and propose patches with {lib}.",
    "Write a migration plan to move {ctx} away from {lib}, step by step.",
    "Create function-calling examples: the user asks to {task}; show the tool call and the final reply.",
    "Write a short story of {num} words about {topic}, then explain the narrative choices.",
    "Extract all entities and relations from the text and return them as JSON triples: {words}",
    "Compare {lang} and Rust to {task}; include benchmark code using {lib}.",
    "Explain the proof technique behind {topic} and apply it to problem {num}.",
    "Write a complete solution with comments to: {task}. Constraints: n up to {num}.",
    "Generate {num} paraphrases of the instruction '{task}' with diverse wording.",
    "Annotate the reasoning errors in this solution and produce a corrected one: {words}",
)

# When a scenario needs more team templates than the bank holds, further
# templates are made of random sequences of these words around two slots.
# Random 2-5 word sequences from 157 words (none of them slot vocabulary) almost never repeat a word trigram,
# so such templates share no fixed wording with each other or with the bank
# (a base template reused with different suffixes would still link teams).
_FRAMING_WORDS = tuple(
    "meticulously thoroughly rigorously concisely verbatim stepwise annotated "
    "numbered exhaustive canonical idiomatic defensive pedantic granular terse "
    "verbose formal informal layered staged tiered inline tabular bulleted "
    "rubric appendix outline checklist walkthrough derivation rationale "
    "baseline audit critique transcript glossary primer digest synopsis "
    "dossier tableau manifest blueprint scaffold skeleton harness fixture "
    "oracle verdict tally scorecard memo brief charter playbook runbook "
    "cookbook handbook lexicon corpus anthology compendium registry roster "
    "enumerate itemise tabulate contrast juxtapose distil condense expand "
    "elaborate justify defend refute corroborate attest ratify certify "
    "annotate transcribe paraphrase rephrase restate recast reframe rework "
    "overhaul streamline harden sanitise scrub prune trim pad align "
    "thereafter beforehand meanwhile alongside throughout underneath via per "
    "amid versus upon toward within beyond despite except plus sans "
    "crisp lucid plain vivid sober neutral candid blunt gentle strict "
    "lenient exact rough provisional final interim draft polished raw "
    "mirrored dual triple quadruple sequential alternating cumulative "
    "marginal ordinal cardinal nominal literal figurative implicit explicit "
    "preamble coda epilogue prologue footnote sidebar caption heading".split()
)
_FRAMING_SLOTS_A = ("task", "topic", "words")
_FRAMING_SLOTS_B = ("lang", "lib", "file", "ident", "num", "ctx")


def _framed_template(rng: np.random.Generator) -> str:
    """A random template: framing words around two slots."""
    def words(lo: int, hi: int) -> str:
        picks = rng.choice(len(_FRAMING_WORDS), size=int(rng.integers(lo, hi + 1)), replace=False)
        return " ".join(_FRAMING_WORDS[i] for i in picks)

    slot_a = _FRAMING_SLOTS_A[rng.integers(len(_FRAMING_SLOTS_A))]
    slot_b = _FRAMING_SLOTS_B[rng.integers(len(_FRAMING_SLOTS_B))]
    opener = words(3, 5)
    return (f"{opener[0].upper()}{opener[1:]}: {{{slot_a}}} {words(2, 4)} {{{slot_b}}}. "
            f"{words(3, 5).capitalize()}.")


# Benign: popular fixed system prompts shared by many unrelated users.
_POPULAR_PROMPTS = (
    "You are a helpful assistant.",
    "You are a helpful, respectful and honest assistant.",
    "You are a coding assistant. Answer with code only.",
    "Summarize the following text.",
    "Translate the user's message into English.",
    "Correct the grammar and spelling of the following text.",
    "You are a friendly customer support agent for an online store.",
    "Rewrite the following paragraph to be more concise.",
    "Explain it like I'm five.",
    "You are an expert Python developer.",
    "Act as a professional translator between English and Spanish.",
    "You are a travel planner. Suggest an itinerary.",
    "Write a professional email based on the notes below.",
    "You are a patient math tutor for high school students.",
    "Generate five catchy titles for the following article.",
    "You are a helpful assistant that answers in Markdown.",
    "Extract the key points as a bulleted list.",
    "You are a senior software engineer reviewing code.",
    "Answer concisely.",
    "Continue the story.",
    "You are a nutritionist. Give healthy meal suggestions.",
    "Act as a Linux terminal.",
    "Make this sound more polite.",
    "You are a career coach helping with job applications.",
    "Convert the following to a table.",
    "You are an assistant that only answers questions about cooking.",
    "Paraphrase the following sentence in three different ways.",
    "You are a SQL expert. Write queries for the user's request.",
    "Write a haiku about the topic the user gives.",
    "You are a fitness coach. Create a weekly workout plan.",
    "Classify the sentiment of the following review as positive, negative or neutral.",
    "You are a historian. Answer with dates and sources.",
    "Please proofread my essay.",
    "You are a legal assistant. This is not legal advice.",
    "Give me a motivational quote.",
    "You are a language tutor. Correct my French.",
    "Draft a polite reminder message.",
    "Explain the following error message.",
    "You are a product manager writing user stories.",
    "Describe the image in detail.",
    "You are an assistant for data analysis with pandas.",
    "Suggest a name for my project.",
)

# Benign free-form prompts: loose templates with many random slots so that
# almost every filled text is unique.
_BENIGN_TEMPLATES = (
    "How do I {task} in {lang}?",
    "can you help me {task}",
    "What is the difference between {topic} and {ident}?",
    "write an email to my landlord about {words}",
    "Explain {topic} like I'm five",
    "give me a recipe with {words}",
    "Plan a {num}-day trip to see the {topic}",
    "why does my {lang} code throw an error in {file}",
    "Summarize this: {words}",
    "What are good books about {topic}?",
    "Help me write a cover letter that mentions {words}",
    "Is {topic} worth learning in {num}?",
    "fix my query: select {ident} from {file}",
    "make this sound more polite: {words}",
    "What does {ident} mean in {lib}?",
    "brainstorm names for a {topic} startup",
    "how many {topic} fit in {num} boxes",
    "translate to german: {words}",
    "write a birthday poem for {words}",
    "what's wrong with this: {ident} = {num}",
    "Compare {lib} with {lang} for {topic}",
    "I need a workout plan for {words}",
    "list pros and cons of {topic}",
    "debug: {words}",
    "{words}?",
    "tell me a joke about {topic}",
    "How can I {task} without {lib}?",
    "rewrite my bio: {words}",
)

_PARAPHRASES = (
    ("Write ", "Please write "),
    ("Generate ", "Could you generate "),
    ("Explain ", "Can you explain "),
    ("Implement ", "Please implement "),
    (" and ", " & "),
    (". ", "; "),
    ("Produce ", "Create "),
    ("Solve ", "Work out "),
)

# ---------------------------------------------------------------------------
# IP address spaces (first octets); each role gets disjoint space so that no
# value is shared by accident between pools that should be independent.
# ---------------------------------------------------------------------------
_DC_OCTETS = np.array([45, 104, 138, 139, 143, 159, 167, 185], dtype=np.int64)
_OFFICE_OCTETS = np.array([12, 38, 63, 66, 199, 204, 208, 216], dtype=np.int64)
_RESIDENTIAL_OCTETS = np.array(
    [24, 71, 73, 76, 79, 81, 82, 84, 86, 87, 90, 93, 95, 98, 174, 176, 178, 188, 212, 217],
    dtype=np.int64,
)
_UNIVERSITY_OCTETS = np.array([128, 129, 130, 131, 132, 134, 137, 140], dtype=np.int64)
_CGNAT_BASE = (100 << 24) | (64 << 16)  # 100.64.0.0/10, carrier-grade NAT space

# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OperatorSpec:
    """One organisation running fake accounts.

    Parameters
    ----------
    name : str
        Organisation id, e.g. ``"op-B"``.  Must not contain ``"/"`` (team
        entities are written ``"<name>/team-<k>"``).
    exchanges : float
        Total exchanges (requests) the organisation sent at ``scale=1``.
        Account counts are split between organisations in proportion to it.
    teams : int
        Number of teams the organisation works in; each team has its own
        pools of cards, devices, networks and prompt templates.
    """

    name: str
    exchanges: float
    teams: int = 1


def _p(doc: str) -> dict[str, str]:
    return {"doc": doc}


_DEFAULT_OPERATORS = (
    OperatorSpec("op-A", 150_000, 1),
    OperatorSpec("op-B", 3_400_000, 3),
    OperatorSpec("op-C", 13_000_000, 6),
)


@dataclass(frozen=True)
class SynthParams:
    """Every knob of a synthetic scenario (see :func:`describe_params`).

    Defaults are those of the ``"distillation"`` scenario; other scenarios
    override some of them.  Counts are given at ``scale=1``: :func:`generate`
    multiplies account counts (and the pools sized from them) by ``scale``.
    Each field's ``metadata["doc"]`` holds its meaning and the reasoning for
    its default; :func:`describe_params` lists them.  Probabilities are per
    account unless stated otherwise.
    """

    # -- population --------------------------------------------------------
    operators: tuple[OperatorSpec, ...] = field(default=_DEFAULT_OPERATORS, metadata=_p(
        "Organisations running fake accounts (name, total exchanges, teams). Default: the "
        "reported campaign of three organisations with about 150k, 3.4M and 13M exchanges "
        "working in 1, 3 and 6 teams (larger operators run more teams)."))
    fake_accounts: int = field(default=24_000, metadata=_p(
        "Fake accounts shared among `operators` in proportion to their exchanges "
        "(about 220, 4,900 and 18,900). Default: the reported total of about 24,000."))
    n_small_operators: int = field(default=0, metadata=_p(
        "Extra single-team organisations named op-001, op-002, ... with random sizes. "
        "Default 0: the reported campaign had three large operators."))
    small_operator_accounts: tuple[int, int] = field(default=(10, 80), metadata=_p(
        "Inclusive range of a small operator's account count (uniform). Default: small "
        "enough to be lost in the crowd, large enough to be worth finding."))
    small_operator_exchanges_per_account: float = field(default=690.0, metadata=_p(
        "Exchanges per account of small operators. Default: the reported operators' "
        "rate (13M exchanges / 18,900 accounts)."))
    benign_accounts: int = field(default=100_000, metadata=_p(
        "Ordinary accounts. Default: about four benign accounts per fake one, enough for "
        "popular values (stock devices, carrier NAT) to reach tens of thousands of carriers."))
    team_size_concentration: float = field(default=4.0, metadata=_p(
        "Dirichlet concentration of the split of an operator's accounts among its teams. "
        "Default: teams of visibly unequal but comparable size."))
    # -- time ----------------------------------------------------------------
    start_time: int = field(default=1_735_689_600, metadata=_p(
        "Start of the campaign window, unix seconds. Default: 2025-01-01T00:00:00Z."))
    period_days: float = field(default=90.0, metadata=_p(
        "Length of the campaign window in days. Default: one quarter, a typical "
        "reporting period for an abuse investigation."))
    accounts_per_burst: float = field(default=150.0, metadata=_p(
        "Mean number of a team's accounts created in one registration burst. Default: a "
        "scripted sign-up run of a few hundred accounts at most."))
    burst_spread_hours: float = field(default=6.0, metadata=_p(
        "Mean delay (exponential) of an account's creation after its burst starts. "
        "Default: a burst lasts a working shift."))
    fake_active_days: float = field(default=5.0, metadata=_p(
        "Median span (lognormal) over which a fake account's observations fall after "
        "creation. Default: fake accounts are used hard and soon, then abandoned."))
    fake_active_sigma: float = field(default=0.7, metadata=_p(
        "Log-space standard deviation of that span. Default: from about a day to a few "
        "weeks."))
    benign_history_days: float = field(default=730.0, metadata=_p(
        "Benign accounts are created uniformly over this many days before the window "
        "(and during it) and are observed until its end. Default: two years of sign-ups."))
    # -- exchanges -----------------------------------------------------------
    exchange_sigma: float = field(default=1.2, metadata=_p(
        "Log-space standard deviation of a fake account's share of its operator's "
        "exchanges. Default: heavy-tailed, a few accounts carry much of the traffic."))
    benign_exchanges_median: float = field(default=12.0, metadata=_p(
        "Median exchanges of a benign account. Default: occasional use, far below the "
        "roughly 690 per fake account."))
    benign_exchange_sigma: float = field(default=1.5, metadata=_p(
        "Log-space standard deviation of benign exchanges. Default: a long tail of power "
        "users."))
    # -- operator team pools -----------------------------------------------
    accounts_per_card: float = field(default=12.0, metadata=_p(
        "Mean accounts per prepaid card in a team. Default: each card is reused by a "
        "handful to a few dozen accounts."))
    card_weight_sigma: float = field(default=0.8, metadata=_p(
        "Log-space spread of card popularity inside a team. Default: some cards are "
        "reused much more than others."))
    devices_per_team: tuple[int, int] = field(default=(2, 6), metadata=_p(
        "Inclusive range of emulator / scripted-browser images per team. Default: a few "
        "images, each shared by many of the team's accounts."))
    dc_networks_per_team: tuple[int, int] = field(default=(1, 4), metadata=_p(
        "Inclusive range of data-centre /24 networks per team. Default: a few rented "
        "servers' networks."))
    dc_hosts_per_network: int = field(default=8, metadata=_p(
        "Distinct addresses used in each data-centre /24. Default: a small rack of "
        "egress hosts, so that both exact IPs and /24 prefixes are shared."))
    accounts_per_proxy_ip: float = field(default=6.0, metadata=_p(
        "Mean accounts per residential proxy IP of a team. Default: rotating proxies "
        "reuse each exit a few times."))
    templates_per_team: tuple[int, int] = field(default=(2, 6), metadata=_p(
        "Inclusive range of prompt templates per team. Default: a team runs a handful "
        "of extraction scripts."))
    # -- operator per-account draws ------------------------------------------
    p_team_card: float = field(default=0.85, metadata=_p(
        "Probability that a fake account pays with one of its team's cards. Default: "
        "most fake accounts need a payment method; some stay on free tiers."))
    p_unique_card: float = field(default=0.05, metadata=_p(
        "Probability that a fake account pays with a single-use card of its own. "
        "Default: a few one-off virtual cards."))
    p_team_device: float = field(default=0.8, metadata=_p(
        "Probability that a fake account carries one of its team's device images. "
        "Default: most accounts run in the team's emulators."))
    p_stock_device: float = field(default=0.3, metadata=_p(
        "Probability that a fake account also carries a stock browser fingerprint "
        "(camouflage). Default: some traffic goes through off-the-shelf browsers."))
    ip_count_probs: tuple[float, float, float] = field(default=(0.4, 0.35, 0.25), metadata=_p(
        "Probabilities that an account is seen from 1, 2 or 3 IPs. Default: 1-3 IPs, "
        "mostly one."))
    ip_source_probs: tuple[float, float, float, float] = field(
        default=(0.35, 0.3, 0.15, 0.2), metadata=_p(
            "Probabilities that a fake account's IP is from (team data-centre, team "
            "residential proxy, Hydra proxy network, carrier NAT). Default: mostly the "
            "team's own infrastructure, with some shared camouflage."))
    p_webmail: float = field(default=0.95, metadata=_p(
        "Probability that a fake account has a webmail address (unique per account). "
        "Default: sign-up requires an e-mail; throwaway webmail is the norm."))
    prompt_count_probs: tuple[float, float, float] = field(default=(0.3, 0.4, 0.3), metadata=_p(
        "Probabilities that an account (fake or benign) has 1, 2 or 3 prompt rows. "
        "Default: keeps observations at about 7 rows per account."))
    p_second_template: float = field(default=0.4, metadata=_p(
        "Probability that a fake account uses two of its team's templates rather than "
        "one. Default: accounts usually run one script."))
    p_paraphrase: float = field(default=0.1, metadata=_p(
        "Probability that an operator prompt is lightly paraphrased. Default: operators "
        "rarely bother to vary their templates."))
    # -- Hydra proxy network ---------------------------------------------------
    hydra_exit_ips: int = field(default=300, metadata=_p(
        "Exit IPs of the commercial proxy service used by several operators and by "
        "ordinary VPN customers. Default: a mid-size provider, about 40 accounts per exit."))
    hydra_zipf: float = field(default=0.8, metadata=_p(
        "Zipf exponent of the popularity of Hydra exits. Default: some exits are much "
        "busier than others."))
    p_benign_vpn: float = field(default=0.03, metadata=_p(
        "Probability that a benign account is a customer of the proxy service (1-2 exits). "
        "Default: a few percent of users use a commercial VPN."))
    # -- benign crowd ------------------------------------------------------
    household_share: float = field(default=0.3, metadata=_p(
        "Share of benign accounts living in households. Default: family members "
        "commonly share a connection."))
    household_size: tuple[int, int] = field(default=(2, 5), metadata=_p(
        "Inclusive range of household sizes. Default: 2-5 people."))
    p_household_ip: float = field(default=0.9, metadata=_p(
        "Probability that a household member is seen from the home IP. Default: nearly "
        "everyone uses the home connection."))
    p_household_card: float = field(default=0.3, metadata=_p(
        "Probability that a household shares one card. Default: a family plan on one card is "
        "common but not the rule."))
    p_household_card_use: float = field(default=0.8, metadata=_p(
        "Probability that a member of a card-sharing household pays with the shared card "
        "(otherwise possibly an own card). Default: most members use the family card."))
    p_household_tablet: float = field(default=0.25, metadata=_p(
        "Probability that a household shares a tablet. Default: a shared family device is "
        "common."))
    p_household_tablet_use: float = field(default=0.7, metadata=_p(
        "Probability that a member of a tablet-sharing household is seen on the tablet (an "
        "extra device row). Default: most members use it now and then."))
    company_share: float = field(default=0.12, metadata=_p(
        "Share of benign accounts that are employees of companies. Default: business "
        "seats are a sizeable minority."))
    company_size: tuple[int, int] = field(default=(10, 500), metadata=_p(
        "Inclusive range of company sizes (lognormal, median `company_size_median`). "
        "Default: small firms to mid-size organisations."))
    company_size_median: float = field(default=40.0, metadata=_p(
        "Median company size. Default: most companies are small."))
    company_size_sigma: float = field(default=1.0, metadata=_p(
        "Log-space standard deviation of company sizes (before clipping to `company_size`). "
        "Default: sizes spread over two orders of magnitude."))
    office_egress_ips: tuple[int, int] = field(default=(1, 4), metadata=_p(
        "Inclusive range of NAT egress IPs of a company office /24. Default: one to a "
        "few firewalls."))
    p_office_ip: float = field(default=0.85, metadata=_p(
        "Probability that an employee is seen from the office network. Default: most "
        "work happens at the office or over its VPN."))
    p_corporate_email: float = field(default=0.9, metadata=_p(
        "Probability that an employee signed up with a corporate address. Default: "
        "business seats use work e-mail."))
    p_company_card: float = field(default=0.6, metadata=_p(
        "Probability that a company pays with one corporate card. Default: a real "
        "organisation, not a sybil ring, often shares one card."))
    p_company_card_use: float = field(default=0.7, metadata=_p(
        "Probability that an employee of a card-sharing company pays with the corporate card. "
        "Default: most seats are billed centrally, some are expensed privately."))
    university_share: float = field(default=0.05, metadata=_p(
        "Share of benign accounts that are students behind university NAT. Default: a "
        "visible academic population."))
    students_per_university: float = field(default=2_500.0, metadata=_p(
        "Students per university. Default: each university IP is shared by about a "
        "thousand students."))
    university_egress_ips: int = field(default=2, metadata=_p(
        "NAT egress IPs per university. Default: a couple of campus gateways."))
    loner_share: float = field(default=0.1, metadata=_p(
        "Share of individual benign accounts that share nothing (no stock device, carrier "
        "NAT, VPN or popular prompt). Default: some users are entirely unique."))
    p_home_ip: float = field(default=0.8, metadata=_p(
        "Probability that a benign account outside a household is seen from a home IP of "
        "its own. Default: most users have a home connection."))
    p_ipv6: float = field(default=0.1, metadata=_p(
        "Probability that a home connection is IPv6 (a /64 written as an address). "
        "Default: a minority of dual-stack homes."))
    p_cgnat: float = field(default=0.4, metadata=_p(
        "Probability that a benign account is seen from a carrier-NAT IP. Default: mobile "
        "traffic is common."))
    accounts_per_cgnat_ip: float = field(default=3_000.0, metadata=_p(
        "Benign accounts per carrier-NAT IP. Default: carrier NAT puts thousands of "
        "subscribers behind one address."))
    p_own_card: float = field(default=0.6, metadata=_p(
        "Probability that a benign account not using a shared card has a card of its own. "
        "Default: most but not all users pay."))
    n_stock_devices: int = field(default=8, metadata=_p(
        "Number of stock browser fingerprints. Default: a handful of browser/OS combinations "
        "cover most users."))
    stock_device_zipf: float = field(default=1.0, metadata=_p(
        "Zipf exponent of the popularity of stock fingerprints. Default: the top one is "
        "carried by a third of their users."))
    p_stock_device_benign: float = field(default=0.55, metadata=_p(
        "Probability that a benign account carries a stock fingerprint. Default: the top "
        "fingerprints are carried by tens of thousands."))
    p_unique_device: float = field(default=0.9, metadata=_p(
        "Probability that a benign account without a stock fingerprint (or a loner) carries "
        "a unique one. Default: fingerprinting usually succeeds."))
    n_popular_prompts: int = field(default=40, metadata=_p(
        "Number of popular fixed system prompts (at most 42). Default: a few dozen texts "
        "copied from tutorials."))
    p_popular_prompt: float = field(default=0.3, metadata=_p(
        "Probability that a benign prompt row is a popular system prompt (Zipf) rather "
        "than free-form text. Default: many users paste the same system prompt."))
    popular_prompt_zipf: float = field(default=1.0, metadata=_p(
        "Zipf exponent of the popularity of those prompts. Default: the top few dominate."))
    p_benign_webmail: float = field(default=0.97, metadata=_p(
        "Probability that a benign account (not using a corporate address) has a webmail "
        "address. Default: nearly every sign-up has one."))
    # -- indicators -------------------------------------------------------
    indicator_kinds: tuple[str, ...] = field(default=("payment", "ip", "email", "account"),
                                             metadata=_p(
        "Kinds of known indicators listed per organisation: a payment instrument, an "
        "office range as CIDR (kind 'ip'), a corporate e-mail domain (kind 'email') and "
        "known account ids (kind 'account'). Default: all four."))
    indicator_share: tuple[float, float] = field(default=(0.02, 0.05), metadata=_p(
        "Range of the share of an organisation's accounts carrying each indicator "
        "(uniform, at least one account). Default: intelligence covers only a small "
        "share of an operation."))

    def __post_init__(self) -> None:
        object.__setattr__(self, "operators", _check_operators(self.operators))
        kinds = self.indicator_kinds
        if (isinstance(kinds, str) or not isinstance(kinds, (tuple, list))
                or not all(isinstance(k, str) and k in _INDICATOR_KINDS for k in kinds)):
            _bad("indicator_kinds", f"a tuple drawn from {_INDICATOR_KINDS}", kinds)
        object.__setattr__(self, "indicator_kinds", tuple(kinds))
        for f in dataclasses.fields(self):
            name, value = f.name, getattr(self, f.name)
            if name in ("operators", "indicator_kinds"):
                continue
            if name.endswith("_probs"):
                n = len(f.default)  # type: ignore[arg-type]
                if (not isinstance(value, (tuple, list)) or len(value) != n
                        or not all(_is_real(v) and v >= 0 for v in value)
                        or abs(sum(float(v) for v in value) - 1.0) > 1e-6):
                    _bad(name, f"a tuple of {n} probabilities summing to 1", value)
                object.__setattr__(self, name, tuple(float(v) for v in value))
            elif name == "indicator_share":
                if (not isinstance(value, (tuple, list)) or len(value) != 2
                        or not all(_is_real(v) for v in value) or not 0 <= value[0] <= value[1] <= 1):
                    _bad(name, "a (low, high) pair of floats with 0 <= low <= high <= 1", value)
                object.__setattr__(self, name, (float(value[0]), float(value[1])))
            elif isinstance(f.default, tuple):  # inclusive integer ranges
                high = _MAX_RANGE.get(name)
                if (not isinstance(value, (tuple, list)) or len(value) != 2
                        or not all(_is_int(v) for v in value) or not 1 <= value[0] <= value[1]
                        or (high is not None and value[1] > high)):
                    limit = f" <= {high}" if high is not None else ""
                    _bad(name, f"a (low, high) pair of integers with 1 <= low <= high{limit}", value)
                object.__setattr__(self, name, (int(value[0]), int(value[1])))
            elif name.startswith("p_") or name.endswith("_share"):
                if not _is_real(value) or not 0.0 <= float(value) <= 1.0:
                    _bad(name, "a float in [0, 1]", value)
            elif isinstance(f.default, int):
                low, high = _INT_LIMITS.get(name, (0, None))
                if not _is_int(value) or value < low or (high is not None and value > high):
                    what = f"an int >= {low}" if high is None else f"an int in [{low}, {high}]"
                    _bad(name, what, value)
            elif name in _NON_NEGATIVE_FLOATS:
                if not _is_real(value) or not float(value) >= 0:
                    _bad(name, "a float >= 0", value)
            elif not _is_real(value) or not float(value) > 0:
                _bad(name, "a float > 0", value)
        if self.p_team_card + self.p_unique_card > 1.0 + 1e-12:
            _bad("p_unique_card", "a float in [0, 1 - p_team_card]", self.p_unique_card)
        if self.household_share + self.company_share + self.university_share > 1.0 + 1e-12:
            _bad("household_share", "a float with household_share + company_share + "
                 "university_share <= 1", self.household_share)


_INDICATOR_KINDS = ("payment", "ip", "email", "account")


def _attributes_doc() -> str:
    lines = ["", "    Attributes", "    ----------"]
    for f in dataclasses.fields(SynthParams):
        lines.append(f"    {f.name} : {f.type}")
        lines.append(f"        {f.metadata.get('doc', '')}")
    return "\n".join(lines) + "\n"


SynthParams.__doc__ = (SynthParams.__doc__ or "") + _attributes_doc()
_MAX_RANGE = {"office_egress_ips": 254}
_INT_LIMITS: dict[str, tuple[int, int | None]] = {
    "start_time": (0, None),
    "dc_hosts_per_network": (1, 254),
    "university_egress_ips": (1, 254),
    "n_stock_devices": (1, None),
    "hydra_exit_ips": (1, None),
    "n_popular_prompts": (1, len(_POPULAR_PROMPTS)),
}
_NON_NEGATIVE_FLOATS = frozenset({"burst_spread_hours", "benign_history_days", "exchange_sigma",
                                  "benign_exchange_sigma", "card_weight_sigma", "hydra_zipf",
                                  "company_size_sigma", "fake_active_sigma", "stock_device_zipf",
                                  "popular_prompt_zipf"})


def _check_operators(ops: Any) -> tuple[OperatorSpec, ...]:
    requirement = "a sequence of OperatorSpec(name, exchanges > 0, teams >= 1) with distinct names without '/'"
    if isinstance(ops, (OperatorSpec, str)) or not isinstance(ops, (tuple, list)):
        _bad("operators", requirement, ops)
    out: list[OperatorSpec] = []
    for op in ops:
        try:
            if isinstance(op, dict):
                op = OperatorSpec(**op)
            elif isinstance(op, (tuple, list)):
                op = OperatorSpec(*op)
        except TypeError:
            _bad("operators", requirement, ops)
        if (not isinstance(op, OperatorSpec) or not isinstance(op.name, str) or not op.name
                or "/" in op.name or not _is_real(op.exchanges) or op.exchanges <= 0
                or not _is_int(op.teams) or op.teams < 1):
            _bad("operators", requirement, ops)
        out.append(op)
    if len({op.name for op in out}) != len(out):
        _bad("operators", requirement, ops)
    return tuple(out)


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    return (isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, (bool, np.bool_)) and math.isfinite(float(value)))


def _bad(name: str, requirement: str, value: Any, function: str = "generate") -> None:
    raise ParameterError(
        f"The {name!r} parameter of {function} must be {requirement}. Got {value!r} instead."
    )


def describe_params() -> list[tuple[str, Any, str]]:
    """List every parameter of :class:`SynthParams`.

    Returns
    -------
    list of (str, object, str)
        ``(name, default, description)`` for each field, in declaration
        order; the description states the default's reasoning.
    """
    out = []
    for f in dataclasses.fields(SynthParams):
        out.append((f.name, f.default, f.metadata.get("doc", "")))
    return out


@dataclass(frozen=True)
class Scenario:
    """A named set of default parameters.

    Parameters
    ----------
    name : str
        Key in :data:`SCENARIOS`.
    description : str
        What the scenario models and what a good clustering should find.
    params : SynthParams
        The scenario's defaults; :func:`generate` overrides them field by field.
    """

    name: str
    description: str
    params: SynthParams


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "distillation",
            "The reported campaign: three organisations (about 220, 4,900 and 18,900 fake "
            "accounts in 1, 3 and 6 teams) with team pools of cards, device images, "
            "networks and prompt templates, some camouflage, a shared Hydra proxy network, "
            "inside 100,000 benign accounts with natural sharing.",
            SynthParams(),
        ),
        Scenario(
            "camouflage",
            "The same three organisations, hiding harder: no shared payment (only "
            "single-use cards), fewer team devices, mostly shared-crowd IPs (Hydra, "
            "carrier NAT), stock fingerprints and webmail everywhere, more templates and "
            "paraphrasing.  Indicators list no payment instrument.",
            SynthParams(
                p_team_card=0.0,
                p_unique_card=0.6,
                p_team_device=0.35,
                p_stock_device=0.8,
                ip_source_probs=(0.1, 0.25, 0.3, 0.35),
                p_webmail=1.0,
                templates_per_team=(4, 6),
                p_second_template=0.6,
                p_paraphrase=0.35,
                indicator_kinds=("ip", "email", "account"),
            ),
        ),
        Scenario(
            "benign",
            "Only the benign crowd (households, companies, universities, carrier NAT, "
            "VPN users, loners).  The right answer is no sybil cluster at all; truth "
            "has no operator and the indicator table is empty.",
            SynthParams(operators=(), fake_accounts=0),
        ),
        Scenario(
            "many_small",
            "Sixty small single-team operators of 10-80 accounts each (about 2,700 fake "
            "accounts) inside the default benign crowd: tests recall on small clusters.",
            SynthParams(operators=(), fake_accounts=0, n_small_operators=60),
        ),
    )
}

# ---------------------------------------------------------------------------
# Result
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SynthData:
    """A generated population with its ground truth.

    Attributes
    ----------
    observations : pandas.DataFrame
        ``account_id`` (str), ``kind`` (str, one of :data:`KINDS`), ``value``
        (str), ``timestamp`` (int64 unix seconds); sorted by account id then
        timestamp.  Every account has at least one row.
    truth : pandas.DataFrame
        One row per account, sorted by account id: ``account_id``,
        ``entity`` (``"op-B/team-2"`` for a fake account's team, ``"hh-12"``
        for a household, ``"co-3"`` for a company, ``"benign-<account_id>"``
        for everybody else), ``role`` (``"operator"`` or ``"benign"``),
        ``organisation`` (operator name, ``""`` for benign) and ``team``
        (``"team-2"``, ``""`` for benign).
    indicators : pandas.DataFrame
        ``organisation``, ``kind``, ``value``: known indicators for
        attribution.  Kinds: ``payment`` (a card fingerprint), ``ip`` (an
        office range as CIDR, ``"a.b.c.0/24"``), ``email`` (a corporate
        domain) and ``account`` (a known account id).  Each value is carried
        by only a small share of its organisation's accounts.
    exchanges : pandas.DataFrame
        ``account_id``, ``exchanges`` (int64): requests sent by each account
        (heavy-tailed; operators' totals follow their reported traffic).
    scenario : str
        Name of the scenario used.
    params : dict
        All parameters used (the :class:`SynthParams` fields plus
        ``scenario``, ``scale`` and ``seed``); JSON-serialisable.
    """

    observations: pd.DataFrame
    truth: pd.DataFrame
    indicators: pd.DataFrame
    exchanges: pd.DataFrame
    scenario: str
    params: dict[str, Any]

    def write(self, directory: str | PathLike[str]) -> None:
        """Write the data set to a directory (created if missing).

        Writes ``observations.parquet``, ``observations.csv``, ``truth.csv``,
        ``indicators.csv``, ``exchanges.csv`` and ``params.json``; existing
        files of those names are replaced. All six are written to temporaries
        first and renamed together at the end, so an interrupted write leaves
        the previous set (or none), never a mix. The CSV files are written as
        :func:`sybilgraph.write_table` writes CSV (text quoted, cells that a
        spreadsheet would run as formulas escaped); synthetic ids and values
        never need the escape, so ``observations.csv`` holds exactly the
        values of ``observations.parquet``.

        Parameters
        ----------
        directory : str or os.PathLike
            Target directory.
        """
        from sybilgraph._write import staged_writes

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pandas(self.observations, preserve_index=False)
        with staged_writes() as staging:
            staging.parquet(table, out / "observations.parquet")
            staging.arrow_csv(table, out / "observations.csv")
            staging.table(self.truth, out / "truth.csv")
            staging.table(self.indicators, out / "indicators.csv")
            staging.table(self.exchanges, out / "exchanges.csv")
            staging.text(json.dumps(self.params, indent=2, sort_keys=True) + "\n", out / "params.json")

    def __repr__(self) -> str:
        from ..views import synth_repr

        return synth_repr(self)

    def _repr_html_(self) -> str:
        from ..views import synth_html

        return synth_html(self)


# ---------------------------------------------------------------------------
# Vectorised string helpers
# ---------------------------------------------------------------------------

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _arr(values: Any) -> pa.Array:
    return pa.array(values, type=pa.string())


def _join(*parts: Any) -> pa.Array:
    """Concatenate string arrays / scalars element-wise (no separator)."""
    return pc.binary_join_element_wise(*parts, "")


def _pick(rng: np.random.Generator, vocab: pa.Array, m: int) -> pa.Array:
    return vocab.take(pa.array(rng.integers(0, len(vocab), m)))


def _int_str(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def _fixed_width(chars: np.ndarray) -> pa.Array:
    """Strings from an (m, width) uint8 matrix of ASCII codes."""
    m, width = chars.shape
    offsets = np.arange(0, width * (m + 1), width, dtype=np.int32)
    return pa.StringArray.from_buffers(
        m, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(chars).tobytes())
    )


def _random_hex(rng: np.random.Generator, m: int, width: int) -> pa.Array:
    """``m`` random lowercase hex strings of ``width`` characters."""
    if m == 0:
        return pa.array([], type=pa.string())
    raw = np.frombuffer(rng.bytes(m * ((width + 1) // 2)), dtype=np.uint8).reshape(m, -1)
    nibbles = np.empty((m, raw.shape[1] * 2), dtype=np.uint8)
    nibbles[:, 0::2] = raw >> 4
    nibbles[:, 1::2] = raw & 15
    return _fixed_width(_HEX[nibbles[:, :width]])


def _ipv4(values: np.ndarray) -> pa.Array:
    v = np.asarray(values, dtype=np.int64)
    octets = [_int_str((v >> s) & 255) for s in (24, 16, 8, 0)]
    return pc.binary_join_element_wise(*octets, ".")


def _ipv6_home(rng: np.random.Generator, m: int) -> pa.Array:
    """Random residential IPv6 addresses, one /64 each (``2a0X:....::1``)."""
    groups = [_random_hex(rng, m, 4) for _ in range(3)]
    head = _join("2a0", _int_str(rng.integers(1, 10, m)))
    return _join(pc.binary_join_element_wise(head, *groups, ":"), "::1")


def _zipf_weights(n: int, exponent: float) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** exponent
    return w / w.sum()


def _offsets(sizes: np.ndarray) -> np.ndarray:
    out = np.zeros(len(sizes), dtype=np.int64)
    np.cumsum(sizes[:-1], out=out[1:])
    return out


def _uniform_in_groups(rng: np.random.Generator, groups: np.ndarray, offsets: np.ndarray,
                       sizes: np.ndarray) -> np.ndarray:
    """Uniformly pick one flat pool index inside each row's group."""
    size = sizes[groups]
    pick = (rng.random(len(groups)) * size).astype(np.int64)
    return offsets[groups] + np.minimum(pick, size - 1)


def _weighted_in_groups(rng: np.random.Generator, groups: np.ndarray, offsets: np.ndarray,
                        sizes: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Pick one flat pool index inside each row's group with given weights.

    ``weights`` is flat, group after group.  Normalising each group to sum 1
    makes the global cumulative sum pass through ``g`` at the end of group
    ``g - 1``, so one ``searchsorted`` serves every group at once.
    """
    owner = np.repeat(np.arange(len(sizes)), sizes)
    totals = np.bincount(owner, weights=weights, minlength=len(sizes))
    cum = np.cumsum(weights / totals[owner])
    target = groups + rng.random(len(groups))
    idx = np.searchsorted(cum, target, side="right")
    return np.clip(idx, offsets[groups], offsets[groups] + sizes[groups] - 1)


def _unique_ints(rng: np.random.Generator, m: int, space: int) -> np.ndarray:
    if m > space:
        raise ParameterError(
            f"The 'scale' parameter of generate is too large for the synthetic address "
            f"space ({m} values requested from {space}). Got a population that needs more."
        )
    return rng.choice(space, size=m, replace=False).astype(np.int64)


def _blocks_to_ips(block24: np.ndarray, octets: np.ndarray, host: np.ndarray) -> np.ndarray:
    """Map /24 block numbers within the given first octets to address ints."""
    first = octets[block24 // 65536]
    return (first << 24) | ((block24 % 65536) << 8) | host


# -- prompt slots -------------------------------------------------------------

_V_VERBS = _arr(_VERBS)
_V_ADJ = _arr(_ADJECTIVES)
_V_NOUNS = _arr(_NOUNS)
_V_PREP = _arr(_PREPOSITIONS)
_V_LANG = _arr(_LANGUAGES)
_V_LIB = _arr(_LIBRARIES)
_V_EXT = _arr(_EXTENSIONS)
_V_WORDS = _arr(_VERBS + _ADJECTIVES + _NOUNS + _PREPOSITIONS)
_V_FIRST = _arr(_FIRST_NAMES)
_V_LAST = _arr(_LAST_NAMES)


def _slot_task(rng: np.random.Generator, m: int) -> pa.Array:
    return pc.binary_join_element_wise(
        _pick(rng, _V_VERBS, m), _pick(rng, _V_ADJ, m), _pick(rng, _V_NOUNS, m),
        _pick(rng, _V_PREP, m), _pick(rng, _V_NOUNS, m), " ")


def _slot_ctx(rng: np.random.Generator, m: int) -> pa.Array:
    repo = pc.binary_join_element_wise(_pick(rng, _V_NOUNS, m), _pick(rng, _V_NOUNS, m), "-")
    mod = pc.binary_join_element_wise(_pick(rng, _V_VERBS, m), _pick(rng, _V_NOUNS, m), "_")
    return pc.binary_join_element_wise(repo, "src", _pick(rng, _V_NOUNS, m), _join(mod, ".py"), "/")


def _slot_ident(rng: np.random.Generator, m: int) -> pa.Array:
    return pc.binary_join_element_wise(
        _pick(rng, _V_VERBS, m), _pick(rng, _V_NOUNS, m), _int_str(rng.integers(0, 100, m)), "_")


def _slot_lang(rng: np.random.Generator, m: int) -> pa.Array:
    return _pick(rng, _V_LANG, m)


def _slot_num(rng: np.random.Generator, m: int) -> pa.Array:
    return _int_str(np.rint(rng.lognormal(4.0, 1.5, m)).astype(np.int64) + 2)


def _slot_topic(rng: np.random.Generator, m: int) -> pa.Array:
    return pc.binary_join_element_wise(_pick(rng, _V_ADJ, m), _pick(rng, _V_NOUNS, m), " ")


def _slot_lib(rng: np.random.Generator, m: int) -> pa.Array:
    return _pick(rng, _V_LIB, m)


def _slot_file(rng: np.random.Generator, m: int) -> pa.Array:
    stem = pc.binary_join_element_wise(_pick(rng, _V_NOUNS, m), _pick(rng, _V_NOUNS, m), "_")
    return pc.binary_join_element_wise(stem, _pick(rng, _V_EXT, m), ".")


def _slot_words(rng: np.random.Generator, m: int) -> pa.Array:
    return pc.binary_join_element_wise(*[_pick(rng, _V_WORDS, m) for _ in range(7)], " ")


_SLOT_GENERATORS: dict[str, Callable[[np.random.Generator, int], pa.Array]] = {
    "task": _slot_task,
    "ctx": _slot_ctx,
    "ident": _slot_ident,
    "lang": _slot_lang,
    "num": _slot_num,
    "topic": _slot_topic,
    "lib": _slot_lib,
    "file": _slot_file,
    "words": _slot_words,
}
_SLOT_NAMES = tuple(_SLOT_GENERATORS)


class _Templates:
    """A list of slot templates, fillable for many rows at once.

    ``generators`` maps slot names to functions ``(rng, m) -> m strings``;
    the default is the operator prompt slots. Slots of one position are
    filled in the mapping's order, so the random draws depend only on it.
    """

    def __init__(self, templates: list[str],
                 generators: dict[str, Callable[[np.random.Generator, int], pa.Array]] | None = None) -> None:
        self.generators = _SLOT_GENERATORS if generators is None else generators
        names = tuple(self.generators)
        parsed = []
        for text in templates:
            lits: list[str] = []
            slots: list[int] = []
            for literal, name, _spec, _conv in string.Formatter().parse(text):
                if lits and len(lits) > len(slots):
                    lits[-1] += literal
                else:
                    lits.append(literal)
                if name is not None:
                    slots.append(names.index(name))
            if len(lits) == len(slots):
                lits.append("")
            parsed.append((lits, slots))
        self.width = max((len(s) for _, s in parsed), default=0)
        self.literals = [
            _arr([lits[k] if k < len(lits) else "" for lits, _ in parsed])
            for k in range(self.width + 1)
        ]
        self.slot_type = np.full((len(templates), max(self.width, 1)), -1, dtype=np.int64)
        for i, (_, slots) in enumerate(parsed):
            self.slot_type[i, : len(slots)] = slots

    def fill(self, rng: np.random.Generator, tid: np.ndarray) -> pa.Array:
        m = len(tid)
        tid_pa = pa.array(tid)
        parts: list[pa.Array] = []
        for k in range(self.width + 1):
            parts.append(self.literals[k].take(tid_pa))
            if k == self.width:
                break
            kinds = self.slot_type[tid, k]
            col = pa.nulls(m, pa.string())
            for s, (name, generator) in enumerate(self.generators.items()):
                mask = kinds == s
                count = int(mask.sum())
                if count:
                    col = pc.replace_with_mask(col, pa.array(mask), generator(rng, count))
            parts.append(pc.fill_null(col, ""))
        return _join(*parts)


def _paraphrase(rng: np.random.Generator, texts: pa.Array, p: float) -> pa.Array:
    """Lightly paraphrase a random share ``p`` of the texts."""
    mask = rng.random(len(texts)) < p
    n = int(mask.sum())
    if n == 0:
        return texts
    sub = texts.filter(pa.array(mask))
    for old, new in _PARAPHRASES:
        sub = pc.replace_substring(sub, old, new, max_replacements=1)
    tail = rng.random(n) < 0.5
    sub = pc.if_else(pa.array(tail), _join(sub, " Thanks."), sub)
    return pc.replace_with_mask(texts, pa.array(mask), sub)


_N_COMBOS_NAME = len(_FIRST_NAMES) * 3 * len(_LAST_NAMES)
_N_COMBOS_HANDLE = len(_ADJECTIVES) * len(_NOUNS)
_NUMBER_SPACE = 10_000
_V_SEPS = _arr([".", "_", ""])
_V_WEBMAIL = _arr(_WEBMAIL_DOMAINS)


def _webmail(rng: np.random.Generator, m: int) -> pa.Array:
    """``m`` distinct webmail addresses (``first.last123@gmail.com``, ``quietfalcon7@...``)."""
    u = _unique_ints(rng, m, (_N_COMBOS_NAME + _N_COMBOS_HANDLE) * _NUMBER_SPACE)
    combo, number = np.divmod(u, _NUMBER_SPACE)
    is_name = combo < _N_COMBOS_NAME
    c_name = np.where(is_name, combo, 0)
    first, rest = np.divmod(c_name, 3 * len(_LAST_NAMES))
    sep, last = np.divmod(rest, len(_LAST_NAMES))
    named = _join(_V_FIRST.take(pa.array(first)), _V_SEPS.take(pa.array(sep)),
                  _V_LAST.take(pa.array(last)))
    c_handle = np.where(is_name, 0, combo - _N_COMBOS_NAME)
    adj, noun = np.divmod(c_handle, len(_NOUNS))
    handle = _join(_V_ADJ.take(pa.array(adj)), _V_NOUNS.take(pa.array(noun)))
    local = _join(pc.if_else(pa.array(is_name), named, handle), _int_str(number))
    domain = _V_WEBMAIL.take(pa.array(rng.choice(len(_WEBMAIL_DOMAINS), m, p=_WEBMAIL_WEIGHTS)))
    return _join(local, "@", domain)


def _corporate(rng: np.random.Generator, index_in_org: np.ndarray, domains: pa.Array) -> pa.Array:
    """``first.last<k>@domain`` addresses, unique within each domain.

    ``index_in_org`` must be distinct within a domain; it is appended (empty
    for 0), which keeps addresses distinct because names are letters only.
    """
    m = len(index_in_org)
    suffix = pc.if_else(pa.array(index_in_org == 0), "", _int_str(index_in_org))
    local = _join(_pick(rng, _V_FIRST, m), ".", _pick(rng, _V_LAST, m), suffix)
    return _join(local, "@", domains)


def _make_domains(rng: np.random.Generator, n: int, taken: set[str], style: str) -> list[str]:
    """``n`` distinct made-up domains (a Python loop over organisations only)."""
    out: list[str] = []
    while len(out) < n:
        a = _NOUNS[rng.integers(len(_NOUNS))]
        b = _NOUNS[rng.integers(len(_NOUNS))]
        if style == "operator":
            adj = _ADJECTIVES[rng.integers(len(_ADJECTIVES))]
            name = f"{adj}{a}-{('labs', 'research', 'ai', 'systems')[rng.integers(4)]}.com"
        else:
            name = f"{a}{b}.{_TLDS[rng.integers(len(_TLDS))]}"
            if rng.random() < 0.3:
                name = f"{a}-{b}-{('group', 'gmbh', 'inc', 'partners')[rng.integers(4)]}.com"
        if name not in taken:
            taken.add(name)
            out.append(name)
    return out


# ---------------------------------------------------------------------------
# Generator
# ---------------------------------------------------------------------------


class _Rows:
    """Observation rows collected block by block."""

    def __init__(self) -> None:
        self.acc: list[np.ndarray] = []
        self.kind: list[np.ndarray] = []
        self.values: list[pa.Array] = []

    def add(self, acc: np.ndarray, kind: int, values: pa.Array) -> None:
        acc = np.asarray(acc, dtype=np.int64)
        if len(acc) == 0:
            return
        if len(values) != len(acc):  # pragma: no cover - internal invariant
            raise AssertionError("row block length mismatch")
        self.acc.append(acc)
        self.kind.append(np.full(len(acc), kind, dtype=np.int8))
        self.values.append(values.cast(pa.large_string()))


def _counts(rng: np.random.Generator, m: int, probs: tuple[float, ...]) -> np.ndarray:
    """Per-account counts 1..len(probs) drawn with the given probabilities."""
    return rng.choice(np.arange(1, len(probs) + 1), size=m, p=np.asarray(probs) / sum(probs))


def _range_draw(rng: np.random.Generator, bounds: tuple[int, int], m: int) -> np.ndarray:
    return rng.integers(bounds[0], bounds[1] + 1, size=m)


def _scaled(count: float, scale: float) -> int:
    return int(round(count * scale))


def _split_sizes(rng: np.random.Generator, target: int, draw: Callable[[int], np.ndarray],
                 min_size: int) -> np.ndarray:
    """Group sizes drawn by ``draw`` adding up to ``target`` (last group truncated)."""
    if target <= 0:
        return np.zeros(0, dtype=np.int64)
    sizes = draw(target // max(min_size, 1) + 1).astype(np.int64)
    cum = np.cumsum(sizes)
    k = int(np.searchsorted(cum, target))
    sizes = sizes[: k + 1].copy()
    sizes[-1] -= int(cum[k]) - target
    return sizes[sizes > 0]


# The sections below draw from one random stream in a fixed order: each takes the layout drawn before it
# (_Operators, _Benign, _Networks, _Indicators) and must keep every draw in place (benchmarks/hash_outputs.py
# shows the synthetic scenarios unchanged).
@dataclass(frozen=True)
class _Operators:
    """Operators, their teams and each fake account's team and organisation."""

    op_names: list[str]
    op_exch_arr: np.ndarray
    n_ops: int
    team_org: np.ndarray
    team_size: np.ndarray
    team_label_l: list[str]
    n_teams: int
    n_fake: int
    f_team: np.ndarray
    f_org: np.ndarray

@dataclass(frozen=True)
class _Benign:
    """The benign crowd's layout: households, companies, students, individuals (internal indices)."""

    n_benign: int
    n_total: int
    b0: int
    n_hh: int
    n_hh_acc: int
    hh_acc: np.ndarray
    hh_of: np.ndarray
    n_co: int
    n_co_acc: int
    co_acc: np.ndarray
    co_of: np.ndarray
    co_index: np.ndarray
    n_students: int
    st_acc: np.ndarray
    n_uni: int
    uni_of: np.ndarray
    in_acc: np.ndarray
    isolated: np.ndarray
    crowd: np.ndarray

@dataclass(frozen=True)
class _Networks:
    """Address spaces and shared pools: residential, data-centre, office, carrier-NAT, university IPs and devices."""

    n_cards_t: np.ndarray
    n_dev_t: np.ndarray
    n_res_t: np.ndarray
    n_tpl_t: np.ndarray
    n_dc_pool_t: np.ndarray
    dc_ips: np.ndarray
    team_res_ips: np.ndarray
    n_hydra: int
    hydra_ip_str: pa.Array
    hydra_w: np.ndarray
    n_cgnat: int
    cgnat_str: pa.Array
    ipv6_home_hh: np.ndarray
    hh_v4_ips: np.ndarray
    has_home: np.ndarray
    ipv6_home_own: np.ndarray
    own_home_v4: np.ndarray
    own_v4_ips: np.ndarray
    office_nets: np.ndarray
    n_egress: np.ndarray
    office_ips: np.ndarray
    office_off: np.ndarray
    uni_ips: np.ndarray
    stock_devices: pa.Array
    stock_w: np.ndarray

@dataclass(frozen=True)
class _Indicators:
    """The organisations' identities and the indicators an investigator holds about them."""

    org_domains: list[str]
    co_domains: list[str]
    org_cards: pa.Array
    indicator_rows: list[tuple[str, str, str]]
    ind_card: np.ndarray
    ind_ip: np.ndarray
    ind_mail: np.ndarray


def _operators(p: SynthParams, rng: np.random.Generator, scale: float) -> _Operators:
    """Draw the operators (named ones and small ones), their teams and team sizes."""
    op_names: list[str] = [op.name for op in p.operators]
    op_exch: list[float] = [float(op.exchanges) for op in p.operators]
    op_teams: list[int] = [op.teams for op in p.operators]
    total_exch = sum(op_exch)
    op_size: list[int] = [
        max(1, _scaled(p.fake_accounts * e / total_exch, scale)) if p.fake_accounts > 0 else 0
        for e in op_exch
    ]
    if p.n_small_operators:
        width = max(3, len(str(p.n_small_operators)))
        small = _range_draw(rng, p.small_operator_accounts, p.n_small_operators)
        for i, n in enumerate(small):
            size = max(1, _scaled(float(n), scale))
            op_names.append(f"op-{i + 1:0{width}d}")
            op_size.append(size)
            op_exch.append(size / scale * p.small_operator_exchanges_per_account)
            op_teams.append(1)
    keep = [i for i, n in enumerate(op_size) if n > 0]
    op_names = [op_names[i] for i in keep]
    op_size_arr = np.array([op_size[i] for i in keep], dtype=np.int64)
    op_exch_arr = np.array([op_exch[i] for i in keep], dtype=np.float64) * scale
    op_teams_arr = np.minimum(np.array([op_teams[i] for i in keep], dtype=np.int64),
                              np.maximum(op_size_arr, 1))
    n_ops = len(op_names)

    team_org_l: list[int] = []
    team_size_l: list[int] = []
    team_label_l: list[str] = []
    for o in range(n_ops):
        k = int(op_teams_arr[o])
        n = int(op_size_arr[o])
        share = rng.dirichlet(np.full(k, p.team_size_concentration))
        sizes = np.ones(k, dtype=np.int64) + rng.multinomial(n - k, share)
        team_org_l += [o] * k
        team_size_l += sizes.tolist()
        team_label_l += [f"team-{j + 1}" for j in range(k)]
    team_org = np.array(team_org_l, dtype=np.int64)
    team_size = np.array(team_size_l, dtype=np.int64)
    n_teams = len(team_size)
    n_fake = int(team_size.sum())
    f_team = np.repeat(np.arange(n_teams), team_size)
    f_org = team_org[f_team] if n_teams else np.zeros(0, dtype=np.int64)

    return _Operators(op_names=op_names, op_exch_arr=op_exch_arr, n_ops=n_ops, team_org=team_org, team_size=team_size,
                      team_label_l=team_label_l, n_teams=n_teams, n_fake=n_fake, f_team=f_team,
                      f_org=f_org)


def _benign_layout(p: SynthParams, rng: np.random.Generator, scale: float, n_fake: int) -> _Benign:
    """Lay out the benign crowd after the ``n_fake`` fake accounts."""
    n_benign = _scaled(p.benign_accounts, scale)
    hh_sizes = _split_sizes(rng, _scaled(p.household_share * p.benign_accounts, scale),
                            lambda k: _range_draw(rng, p.household_size, k), p.household_size[0])
    lo, hi = p.company_size
    co_sizes = _split_sizes(
        rng, _scaled(p.company_share * p.benign_accounts, scale),
        lambda k: np.clip(np.rint(rng.lognormal(np.log(p.company_size_median), p.company_size_sigma, k)), lo, hi),
        lo)
    n_students = min(_scaled(p.university_share * p.benign_accounts, scale),
                     max(0, n_benign - int(hh_sizes.sum()) - int(co_sizes.sum())))
    n_hh_acc = int(hh_sizes.sum())
    n_co_acc = int(co_sizes.sum())
    if n_hh_acc + n_co_acc > n_benign:  # pragma: no cover - guarded by share validation
        raise ParameterError("The 'household_share' parameter of generate leaves no room. Got too many.")
    n_ind = n_benign - n_hh_acc - n_co_acc - n_students
    n_uni = int(math.ceil(n_students / p.students_per_university)) if n_students else 0
    n_hh, n_co = len(hh_sizes), len(co_sizes)

    n_total = n_fake + n_benign
    if n_total == 0:
        raise ParameterError(
            f"The 'scale' parameter of generate must leave at least one account. Got {scale!r} "
            f"instead (with {p.benign_accounts} benign accounts and no operator)."
        )
    # benign local index ranges
    b0 = n_fake
    hh_acc = np.arange(b0, b0 + n_hh_acc)
    co_acc = np.arange(b0 + n_hh_acc, b0 + n_hh_acc + n_co_acc)
    st_acc = np.arange(b0 + n_hh_acc + n_co_acc, b0 + n_hh_acc + n_co_acc + n_students)
    in_acc = np.arange(b0 + n_hh_acc + n_co_acc + n_students, n_total)
    hh_of = np.repeat(np.arange(n_hh), hh_sizes)
    co_of = np.repeat(np.arange(n_co), co_sizes)
    co_index = np.arange(n_co_acc) - _offsets(co_sizes)[co_of] if n_co else np.zeros(0, np.int64)
    uni_of = rng.integers(0, max(n_uni, 1), n_students)
    isolated = rng.random(n_ind) < p.loner_share
    crowd = in_acc[~isolated]  # individuals who may share popular values

    return _Benign(n_benign=n_benign, n_total=n_total, b0=b0, n_hh=n_hh, n_hh_acc=n_hh_acc, hh_acc=hh_acc, hh_of=hh_of,
                   n_co=n_co, n_co_acc=n_co_acc, co_acc=co_acc, co_of=co_of, co_index=co_index,
                   n_students=n_students, st_acc=st_acc, n_uni=n_uni, uni_of=uni_of, in_acc=in_acc,
                   isolated=isolated, crowd=crowd)


def _networks(p: SynthParams, rng: np.random.Generator, scale: float, ops: _Operators, benign: _Benign) -> _Networks:
    """Draw the address spaces and shared pools every account's values come from."""
    n_ops, team_size, n_teams = ops.n_ops, ops.team_size, ops.n_teams
    n_benign, n_hh, n_hh_acc, n_co, n_uni = benign.n_benign, benign.n_hh, benign.n_hh_acc, benign.n_co, benign.n_uni
    n_cards_t = np.maximum(1, np.rint(team_size / p.accounts_per_card)).astype(np.int64)
    n_dev_t = _range_draw(rng, p.devices_per_team, n_teams)
    n_dc_t = _range_draw(rng, p.dc_networks_per_team, n_teams)
    n_res_t = np.maximum(2, np.rint(team_size / p.accounts_per_proxy_ip)).astype(np.int64)
    n_tpl_t = _range_draw(rng, p.templates_per_team, n_teams)
    n_hydra = max(1, _scaled(p.hydra_exit_ips, scale))
    n_cgnat = max(1, int(round(p.p_cgnat * n_benign / p.accounts_per_cgnat_ip)))
    ipv6_home_hh = rng.random(n_hh) < p.p_ipv6
    has_home = rng.random(n_benign - n_hh_acc) < p.p_home_ip  # co + students + individuals
    ipv6_home_own = rng.random(n_benign - n_hh_acc) < p.p_ipv6
    own_home_v4 = has_home & ~ipv6_home_own
    n_res_needed = int(n_res_t.sum()) + n_hydra + int((~ipv6_home_hh).sum()) + int(own_home_v4.sum())
    res_space = len(_RESIDENTIAL_OCTETS) * 65536 * 254
    res_u = _unique_ints(rng, n_res_needed, res_space)
    res_ips = _blocks_to_ips(res_u // 254, _RESIDENTIAL_OCTETS, res_u % 254 + 1)
    cut = np.cumsum([int(n_res_t.sum()), n_hydra, int((~ipv6_home_hh).sum())])
    team_res_ips, hydra_ips, hh_v4_ips, own_v4_ips = np.split(res_ips, cut)

    dc_nets = _unique_ints(rng, int(n_dc_t.sum()), len(_DC_OCTETS) * 65536)
    host_pick = np.argsort(rng.random((len(dc_nets), 254)), axis=1)[:, : p.dc_hosts_per_network] + 1
    dc_ips = _blocks_to_ips(np.repeat(dc_nets, p.dc_hosts_per_network), _DC_OCTETS, host_pick.ravel())
    n_dc_pool_t = n_dc_t * p.dc_hosts_per_network  # team dc pool: its networks x hosts

    n_offices = n_co + n_ops
    office_nets = _unique_ints(rng, n_offices, len(_OFFICE_OCTETS) * 65536)
    n_egress = _range_draw(rng, p.office_egress_ips, n_offices)
    n_egress[n_co:] = 2  # organisations' own office: two gateways
    egress_hosts = np.argsort(rng.random((n_offices, 254)), axis=1) + 1
    egress_mask = np.arange(254)[None, :] < n_egress[:, None]
    office_ips = _blocks_to_ips(np.repeat(office_nets, n_egress), _OFFICE_OCTETS,
                                egress_hosts[egress_mask])
    office_off = _offsets(n_egress)

    cgnat_ips = _CGNAT_BASE + _unique_ints(rng, n_cgnat, 1 << 22)
    uni_blocks = _unique_ints(rng, n_uni, len(_UNIVERSITY_OCTETS) * 256)
    uni_ips = np.zeros(n_uni * p.university_egress_ips, dtype=np.int64)
    if n_uni:
        hosts16 = rng.integers(256, 65535, size=(n_uni, p.university_egress_ips))
        first = _UNIVERSITY_OCTETS[uni_blocks // 256]
        uni_ips = ((first << 24) | ((uni_blocks % 256) << 16))[:, None] + hosts16
        uni_ips = uni_ips.ravel()

    stock_devices = _join(_random_hex(rng, p.n_stock_devices, 16), _random_hex(rng, p.n_stock_devices, 16))
    stock_w = _zipf_weights(p.n_stock_devices, p.stock_device_zipf)
    hydra_w = _zipf_weights(n_hydra, p.hydra_zipf)
    hydra_ip_str = _ipv4(hydra_ips)
    cgnat_str = _ipv4(cgnat_ips)

    return _Networks(n_cards_t=n_cards_t, n_dev_t=n_dev_t, n_res_t=n_res_t, n_tpl_t=n_tpl_t, n_dc_pool_t=n_dc_pool_t,
                     dc_ips=dc_ips, team_res_ips=team_res_ips, n_hydra=n_hydra,
                     hydra_ip_str=hydra_ip_str, hydra_w=hydra_w, n_cgnat=n_cgnat,
                     cgnat_str=cgnat_str, ipv6_home_hh=ipv6_home_hh, hh_v4_ips=hh_v4_ips,
                     has_home=has_home, ipv6_home_own=ipv6_home_own, own_home_v4=own_home_v4,
                     own_v4_ips=own_v4_ips, office_nets=office_nets, n_egress=n_egress,
                     office_ips=office_ips, office_off=office_off, uni_ips=uni_ips,
                     stock_devices=stock_devices, stock_w=stock_w)


def _indicators(p: SynthParams, rng: np.random.Generator, ops: _Operators, benign: _Benign, nets: _Networks,
                account_ids: pa.Array) -> _Indicators:
    """Draw the organisations' domains and cards, and the indicators an investigator holds."""
    op_names, n_ops, n_fake, f_org = ops.op_names, ops.n_ops, ops.n_fake, ops.f_org
    n_co = benign.n_co
    office_nets = nets.office_nets
    taken: set[str] = set()
    org_domains = _make_domains(rng, n_ops, taken, "operator")
    co_domains = _make_domains(rng, n_co, taken, "company")
    org_cards = _random_hex(rng, n_ops, 16)

    f_acc = np.arange(n_fake)
    org_members = [np.flatnonzero(f_org == o) for o in range(n_ops)]
    indicator_rows: list[tuple[str, str, str]] = []
    ind_card_acc: list[np.ndarray] = []
    ind_ip_acc: list[np.ndarray] = []
    ind_mail_acc: list[np.ndarray] = []
    lo_s, hi_s = p.indicator_share
    for o in range(n_ops):
        members = org_members[o]
        for kind in p.indicator_kinds:
            k = max(1, int(round(rng.uniform(lo_s, hi_s) * len(members))))
            chosen = np.sort(rng.choice(members, size=min(k, len(members)), replace=False))
            if kind == "payment":
                ind_card_acc.append(chosen)
                indicator_rows.append((op_names[o], "payment", org_cards[o].as_py()))
            elif kind == "ip":
                ind_ip_acc.append(chosen)
                net = int(office_nets[n_co + o])
                base = _blocks_to_ips(np.array([net]), _OFFICE_OCTETS, np.array([0]))
                indicator_rows.append((op_names[o], "ip", _ipv4(base)[0].as_py() + "/24"))
            elif kind == "email":
                ind_mail_acc.append(chosen)
                indicator_rows.append((op_names[o], "email", org_domains[o]))
            else:
                indicator_rows += [(op_names[o], "account", a)
                                   for a in account_ids.take(pa.array(chosen)).to_pylist()]
    empty = np.zeros(0, dtype=np.int64)
    ind_card = np.concatenate(ind_card_acc) if ind_card_acc else empty
    ind_ip = np.concatenate(ind_ip_acc) if ind_ip_acc else empty
    ind_mail = np.concatenate(ind_mail_acc) if ind_mail_acc else empty

    return _Indicators(org_domains=org_domains, co_domains=co_domains, org_cards=org_cards, indicator_rows=indicator_rows,
                       ind_card=ind_card, ind_ip=ind_ip, ind_mail=ind_mail)


# A little over 80 lines: ten of them unpack the layout; the rows are one run of draws in order.
def _fake_rows(p: SynthParams, rng: np.random.Generator, rows: _Rows, ops: _Operators, benign: _Benign,
               nets: _Networks, ind: _Indicators) -> list[np.ndarray]:
    """Add the fake accounts' payment, device, IP, e-mail and prompt rows; return the accounts still to get webmail."""
    n_fake, f_team, f_org = ops.n_fake, ops.f_team, ops.f_org
    n_co = benign.n_co
    (n_cards_t, n_dev_t, n_res_t, n_tpl_t, n_dc_pool_t, dc_ips, team_res_ips, n_hydra, hydra_ip_str, hydra_w,
     n_cgnat, cgnat_str, office_ips, office_off, stock_devices, stock_w) = (
        nets.n_cards_t, nets.n_dev_t, nets.n_res_t, nets.n_tpl_t, nets.n_dc_pool_t, nets.dc_ips, nets.team_res_ips,
        nets.n_hydra, nets.hydra_ip_str, nets.hydra_w, nets.n_cgnat, nets.cgnat_str, nets.office_ips, nets.office_off,
        nets.stock_devices, nets.stock_w)
    (org_domains, org_cards, ind_card, ind_ip, ind_mail) = (
        ind.org_domains, ind.org_cards, ind.ind_card, ind.ind_ip, ind.ind_mail)
    f_acc = np.arange(n_fake)
    empty = np.zeros(0, dtype=np.int64)
    # payment
    r = rng.random(n_fake)
    card_kind = np.where(r < p.p_team_card, 1, np.where(r < p.p_team_card + p.p_unique_card, 2, 0))
    card_kind[ind_card] = 3
    team_cards = _random_hex(rng, int(n_cards_t.sum()), 16)
    sel = f_acc[card_kind == 1]
    if len(sel):
        idx = _weighted_in_groups(rng, f_team[sel], _offsets(n_cards_t), n_cards_t,
                                  rng.lognormal(0.0, p.card_weight_sigma, int(n_cards_t.sum())))
        rows.add(sel, _PAYMENT, team_cards.take(pa.array(idx)))
    sel = f_acc[card_kind == 2]
    rows.add(sel, _PAYMENT, _random_hex(rng, len(sel), 16))
    sel = f_acc[card_kind == 3]
    rows.add(sel, _PAYMENT, org_cards.take(pa.array(f_org[sel])))

    # devices
    team_devices = _join(_random_hex(rng, int(n_dev_t.sum()), 16), _random_hex(rng, int(n_dev_t.sum()), 16))
    sel = f_acc[rng.random(n_fake) < p.p_team_device]
    rows.add(sel, _DEVICE, team_devices.take(pa.array(
        _uniform_in_groups(rng, f_team[sel], _offsets(n_dev_t), n_dev_t))))
    sel = f_acc[rng.random(n_fake) < p.p_stock_device]
    rows.add(sel, _DEVICE, stock_devices.take(pa.array(rng.choice(p.n_stock_devices, len(sel), p=stock_w))))

    # IPs
    n_ip = _counts(rng, n_fake, p.ip_count_probs)
    n_ip[ind_ip] -= 1  # the office IP replaces one of them
    ip_acc = np.repeat(f_acc, n_ip)
    source = rng.choice(4, size=len(ip_acc), p=np.asarray(p.ip_source_probs) / sum(p.ip_source_probs))
    sel = ip_acc[source == 0]
    rows.add(sel, _IP, _ipv4(dc_ips[_uniform_in_groups(rng, f_team[sel], _offsets(n_dc_pool_t), n_dc_pool_t)]))
    sel = ip_acc[source == 1]
    rows.add(sel, _IP, _ipv4(team_res_ips[_uniform_in_groups(rng, f_team[sel], _offsets(n_res_t), n_res_t)]))
    sel = ip_acc[source == 2]
    rows.add(sel, _IP, hydra_ip_str.take(pa.array(rng.choice(n_hydra, len(sel), p=hydra_w))))
    sel = ip_acc[source == 3]
    rows.add(sel, _IP, cgnat_str.take(pa.array(rng.integers(0, n_cgnat, len(sel)))))
    if len(ind_ip):
        office = n_co + f_org[ind_ip]
        pick = office_off[office] + rng.integers(0, 2, len(ind_ip))
        rows.add(ind_ip, _IP, _ipv4(office_ips[pick]))

    # e-mail (webmail rows are generated together with the benign ones below)
    has_mail = rng.random(n_fake) < p.p_webmail
    has_mail[ind_mail] = False
    webmail_acc = [f_acc[has_mail]]
    if len(ind_mail):
        # distinct per-organisation index keeps corporate addresses unique
        order = np.argsort(f_org[ind_mail], kind="stable")
        ind_mail = ind_mail[order]
        org_of = f_org[ind_mail]
        starts = np.searchsorted(org_of, org_of, side="left")
        idx_in_org = np.arange(len(ind_mail)) - starts
        rows.add(ind_mail, _EMAIL, _corporate(rng, idx_in_org, _arr(org_domains).take(pa.array(org_of))))

    # prompts
    templates, tpl_off = _team_templates(rng, n_tpl_t)
    n_pr = _counts(rng, n_fake, p.prompt_count_probs)
    t1 = _uniform_in_groups(rng, f_team, tpl_off, n_tpl_t) if n_fake else empty
    t2 = _uniform_in_groups(rng, f_team, tpl_off, n_tpl_t) if n_fake else empty
    two = rng.random(n_fake) < p.p_second_template
    pr_acc = np.repeat(f_acc, n_pr)
    use2 = two[pr_acc] & (rng.random(len(pr_acc)) < 0.5)
    tid = np.where(use2, t2[pr_acc], t1[pr_acc]) if len(pr_acc) else empty
    if len(pr_acc):
        texts = _Templates(templates).fill(rng, tid)
        rows.add(pr_acc, _PROMPT, _paraphrase(rng, texts, p.p_paraphrase))

    return webmail_acc


# A little over 80 lines: ten of them unpack the layout; the rows are one run of draws in order.
def _benign_rows(p: SynthParams, rng: np.random.Generator, rows: _Rows, benign: _Benign, nets: _Networks,
                 ind: _Indicators, webmail_acc: list[np.ndarray]) -> None:
    """Add the benign accounts' rows, and the webmail addresses of everyone in ``webmail_acc``."""
    sel: np.ndarray  # accounts selected for the rows being added (a mask first, then indices)
    (n_benign, n_total, b0, n_hh, n_hh_acc, hh_acc, hh_of, n_co, n_co_acc, co_acc, co_of, co_index, n_students,
     st_acc, uni_of, in_acc, isolated, crowd) = (
        benign.n_benign, benign.n_total, benign.b0, benign.n_hh, benign.n_hh_acc, benign.hh_acc, benign.hh_of,
        benign.n_co, benign.n_co_acc, benign.co_acc, benign.co_of, benign.co_index, benign.n_students, benign.st_acc,
        benign.uni_of, benign.in_acc, benign.isolated, benign.crowd)
    (n_hydra, hydra_ip_str, hydra_w, n_cgnat, cgnat_str, ipv6_home_hh, hh_v4_ips, has_home, ipv6_home_own,
     own_home_v4, own_v4_ips, n_egress, office_ips, office_off, uni_ips, stock_devices, stock_w) = (
        nets.n_hydra, nets.hydra_ip_str, nets.hydra_w, nets.n_cgnat, nets.cgnat_str, nets.ipv6_home_hh,
        nets.hh_v4_ips, nets.has_home, nets.ipv6_home_own, nets.own_home_v4, nets.own_v4_ips, nets.n_egress,
        nets.office_ips, nets.office_off, nets.uni_ips, nets.stock_devices, nets.stock_w)
    co_domains = ind.co_domains
    # IPs: household home, own home, office, university, carrier NAT, VPN
    hh_home = pa.chunked_array([_ipv4(hh_v4_ips), _ipv6_home(rng, int(ipv6_home_hh.sum()))]).combine_chunks()
    hh_home_idx = np.empty(n_hh, dtype=np.int64)
    hh_home_idx[~ipv6_home_hh] = np.arange(int((~ipv6_home_hh).sum()))
    hh_home_idx[ipv6_home_hh] = int((~ipv6_home_hh).sum()) + np.arange(int(ipv6_home_hh.sum()))
    sel = rng.random(n_hh_acc) < p.p_household_ip
    rows.add(hh_acc[sel], _IP, hh_home.take(pa.array(hh_home_idx[hh_of[sel]])))
    non_hh = np.arange(b0 + n_hh_acc, n_total)
    rows.add(non_hh[own_home_v4], _IP, _ipv4(own_v4_ips))
    sel = non_hh[has_home & ipv6_home_own]
    rows.add(sel, _IP, _ipv6_home(rng, len(sel)))
    sel = rng.random(n_co_acc) < p.p_office_ip
    if n_co:
        pick = _uniform_in_groups(rng, co_of[sel], office_off[:n_co], n_egress[:n_co])
        rows.add(co_acc[sel], _IP, _ipv4(office_ips[pick]))
    if n_students:
        pick = uni_of * p.university_egress_ips + rng.integers(0, p.university_egress_ips, n_students)
        rows.add(st_acc, _IP, _ipv4(uni_ips[pick]))
    sharers = np.concatenate([hh_acc, co_acc, st_acc, crowd])
    sel = sharers[rng.random(len(sharers)) < p.p_cgnat]
    rows.add(sel, _IP, cgnat_str.take(pa.array(rng.integers(0, n_cgnat, len(sel)))))
    sel = sharers[rng.random(len(sharers)) < p.p_benign_vpn]
    sel = np.repeat(sel, rng.integers(1, 3, len(sel)))
    rows.add(sel, _IP, hydra_ip_str.take(pa.array(rng.choice(n_hydra, len(sel), p=hydra_w))))

    # payment
    hh_card = rng.random(n_hh) < p.p_household_card
    uses_hh_card = hh_card[hh_of] & (rng.random(n_hh_acc) < p.p_household_card_use)
    hh_cards = _random_hex(rng, n_hh, 16)
    rows.add(hh_acc[uses_hh_card], _PAYMENT, hh_cards.take(pa.array(hh_of[uses_hh_card])))
    co_card = rng.random(n_co) < p.p_company_card
    uses_co_card = co_card[co_of] & (rng.random(n_co_acc) < p.p_company_card_use)
    co_cards = _random_hex(rng, n_co, 16)
    rows.add(co_acc[uses_co_card], _PAYMENT, co_cards.take(pa.array(co_of[uses_co_card])))
    others = np.concatenate([hh_acc[~uses_hh_card], co_acc[~uses_co_card], st_acc, in_acc])
    sel = others[rng.random(len(others)) < p.p_own_card]
    rows.add(sel, _PAYMENT, _random_hex(rng, len(sel), 16))

    # devices
    tablet = rng.random(n_hh) < p.p_household_tablet
    sel_mask = tablet[hh_of] & (rng.random(n_hh_acc) < p.p_household_tablet_use)
    tablets = _join(_random_hex(rng, n_hh, 16), _random_hex(rng, n_hh, 16))
    rows.add(hh_acc[sel_mask], _DEVICE, tablets.take(pa.array(hh_of[sel_mask])))
    stock = rng.random(len(sharers)) < p.p_stock_device_benign
    sel = sharers[stock]
    rows.add(sel, _DEVICE, stock_devices.take(pa.array(rng.choice(p.n_stock_devices, len(sel), p=stock_w))))
    uniq = np.concatenate([sharers[~stock], in_acc[isolated]])
    sel = uniq[rng.random(len(uniq)) < p.p_unique_device]
    rows.add(sel, _DEVICE, _join(_random_hex(rng, len(sel), 16), _random_hex(rng, len(sel), 16)))

    # e-mail
    corp = rng.random(n_co_acc) < p.p_corporate_email
    if n_co:
        rows.add(co_acc[corp], _EMAIL,
                 _corporate(rng, co_index[corp], _arr(co_domains).take(pa.array(co_of[corp]))))
    rest = np.concatenate([hh_acc, co_acc[~corp], st_acc, in_acc])
    webmail_acc.append(rest[rng.random(len(rest)) < p.p_benign_webmail])
    all_webmail = np.concatenate(webmail_acc)
    rows.add(all_webmail, _EMAIL, _webmail(rng, len(all_webmail)))

    # prompts
    b_acc = np.arange(b0, n_total)
    n_pr_b = _counts(rng, n_benign, p.prompt_count_probs)
    pr_acc = np.repeat(b_acc, n_pr_b)
    can_share = np.ones(n_total, dtype=bool)
    can_share[in_acc[isolated]] = False
    popular = can_share[pr_acc] & (rng.random(len(pr_acc)) < p.p_popular_prompt)
    sel = pr_acc[popular]
    pop_w = _zipf_weights(p.n_popular_prompts, p.popular_prompt_zipf)
    rows.add(sel, _PROMPT, _arr(list(_POPULAR_PROMPTS[: p.n_popular_prompts])).take(
        pa.array(rng.choice(p.n_popular_prompts, len(sel), p=pop_w))))
    sel = pr_acc[~popular]
    if len(sel):
        rows.add(sel, _PROMPT, _Templates(list(_BENIGN_TEMPLATES)).fill(
            rng, rng.integers(0, len(_BENIGN_TEMPLATES), len(sel))))



def _activity(p: SynthParams, rng: np.random.Generator, ops: _Operators, benign: _Benign,
              end_time: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw each account's creation time, active span and number of exchanges."""
    (op_exch_arr, n_ops, team_size, n_fake, f_team, f_org) = (
        ops.op_exch_arr, ops.n_ops, ops.team_size, ops.n_fake, ops.f_team, ops.f_org)
    n_benign, n_total, b0 = benign.n_benign, benign.n_total, benign.b0
    creation = np.empty(n_total, dtype=np.int64)
    span = np.empty(n_total, dtype=np.float64)
    if n_fake:
        n_burst_t = np.maximum(1, np.rint(team_size / p.accounts_per_burst)).astype(np.int64)
        centres = p.start_time + rng.random(int(n_burst_t.sum())) * (p.period_days * _DAY)
        burst = _uniform_in_groups(rng, f_team, _offsets(n_burst_t), n_burst_t)
        creation[:n_fake] = (centres[burst] + rng.exponential(p.burst_spread_hours * 3600, n_fake)).astype(np.int64)
        span[:n_fake] = rng.lognormal(np.log(p.fake_active_days * _DAY), p.fake_active_sigma, n_fake)
    history = p.benign_history_days * _DAY
    creation[b0:] = (p.start_time - history + rng.random(n_benign) * (history + p.period_days * _DAY)).astype(np.int64)
    span[b0:] = np.maximum(end_time - creation[b0:], 1)

    exch = np.empty(n_total, dtype=np.int64)
    if n_fake:
        w = rng.lognormal(0.0, p.exchange_sigma, n_fake)
        w_tot = np.bincount(f_org, weights=w, minlength=n_ops)
        exch[:n_fake] = np.maximum(1, np.rint(w / w_tot[f_org] * op_exch_arr[f_org]))
    exch[b0:] = np.maximum(1, np.rint(rng.lognormal(np.log(p.benign_exchanges_median),
                                                    p.benign_exchange_sigma, n_benign)))

    return creation, span, exch


def _truth_tables(ops: _Operators, benign: _Benign, ind: _Indicators, account_ids: pa.Array, id_by_number: pa.Array,
                  perm: np.ndarray, exch: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Return the truth (entity, role, organisation, team per account), the exchanges and the indicators tables."""
    (op_names, team_org, team_label_l, n_fake, f_team, f_org) = (
        ops.op_names, ops.team_org, ops.team_label_l, ops.n_fake, ops.f_team, ops.f_org)
    (n_benign, n_total, hh_of, co_of, st_acc, in_acc) = (
        benign.n_benign, benign.n_total, benign.hh_of, benign.co_of, benign.st_acc, benign.in_acc)
    indicator_rows = ind.indicator_rows
    by_number = np.argsort(perm)  # account number -> internal index
    org_arr = _arr(op_names)
    team_lab = _arr(team_label_l)
    entity_team = pc.binary_join_element_wise(org_arr.take(pa.array(team_org)), team_lab, "/")
    entity = pa.chunked_array([
        entity_team.take(pa.array(f_team)),
        _join("hh-", _int_str(hh_of)),
        _join("co-", _int_str(co_of)),
        _join("benign-", account_ids.take(pa.array(np.concatenate([st_acc, in_acc])))),
    ], type=pa.string()).combine_chunks()
    role = np.array(["operator", "benign"], dtype=object)
    organisation = pa.chunked_array([org_arr.take(pa.array(f_org)), pa.repeat(pa.scalar("", pa.string()), n_benign)],
                                    type=pa.string()).combine_chunks()
    team = pa.chunked_array([team_lab.take(pa.array(f_team)), pa.repeat(pa.scalar("", pa.string()), n_benign)],
                            type=pa.string()).combine_chunks()
    is_benign = (np.arange(n_total) >= n_fake).astype(np.int64)
    bn = pa.array(by_number)
    truth = pd.DataFrame({
        "account_id": text_array(id_by_number.cast(pa.large_string())),
        "entity": text_array(entity.take(bn).cast(pa.large_string())),
        "role": text_array(role[is_benign[by_number]]),
        "organisation": text_array(organisation.take(bn).cast(pa.large_string())),
        "team": text_array(team.take(bn).cast(pa.large_string())),
    })
    exchanges = pd.DataFrame({
        "account_id": truth["account_id"].copy(),
        "exchanges": exch[by_number],
    })
    indicators = pd.DataFrame(indicator_rows, columns=["organisation", "kind", "value"]).astype("str")

    return truth, exchanges, indicators


def _generate(params: SynthParams, scale: float, seed: int, scenario: str) -> SynthData:
    p = params
    rng = np.random.default_rng(seed)
    rows = _Rows()
    end_time = p.start_time + int(p.period_days * _DAY)

    ops = _operators(p, rng, scale)
    benign = _benign_layout(p, rng, scale, ops.n_fake)
    n_total = benign.n_total
    width = max(7, len(str(max(n_total - 1, 0))))
    perm = rng.permutation(n_total).astype(np.int64)  # internal index -> account number
    id_by_number = _join("a", pc.utf8_lpad(_int_str(np.arange(n_total)), width, "0"))
    account_ids = id_by_number.take(pa.array(perm))  # indexed by internal index

    nets = _networks(p, rng, scale, ops, benign)
    ind = _indicators(p, rng, ops, benign, nets, account_ids)
    webmail_acc = _fake_rows(p, rng, rows, ops, benign, nets, ind)
    _benign_rows(p, rng, rows, benign, nets, ind, webmail_acc)
    creation, span, exch = _activity(p, rng, ops, benign, end_time)
    # ---- assemble observations -------------------------------------------------
    acc = np.concatenate(rows.acc)
    kind_codes = np.concatenate(rows.kind)
    ts = creation[acc] + (rng.random(len(acc)) * span[acc]).astype(np.int64)
    order = np.lexsort((ts, perm[acc]))
    acc = acc[order]
    values = pa.chunked_array(rows.values, type=pa.large_string()).take(pa.array(order))
    observations = pd.DataFrame({
        "account_id": text_array(account_ids.take(pa.array(acc)).cast(pa.large_string())),
        "kind": text_array(_arr(list(KINDS)).take(pa.array(kind_codes[order])).cast(pa.large_string())),
        "value": text_array(values),
        "timestamp": ts[order],
    })

    truth, exchanges, indicators = _truth_tables(ops, benign, ind, account_ids, id_by_number, perm, exch)

    params_dict = _jsonable(dataclasses.asdict(p))
    params_dict.update(scenario=scenario, scale=float(scale), seed=int(seed))
    return SynthData(observations=observations, truth=truth, indicators=indicators,
                     exchanges=exchanges, scenario=scenario, params=params_dict)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _team_templates(rng: np.random.Generator, n_tpl_t: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Distinct template texts for every team (flat list, team after team).

    Teams draw from the bank without replacement; once it is exhausted,
    further templates are made by :func:`_framed_template`, so no two teams
    ever share template wording.
    """
    needed = int(n_tpl_t.sum())
    bank = list(_OPERATOR_TEMPLATES)
    order = rng.permutation(len(bank))
    texts = [bank[i] for i in order[: min(needed, len(bank))]]
    seen = set(texts)
    while len(texts) < needed:
        text = _framed_template(rng)
        if text not in seen:
            seen.add(text)
            texts.append(text)
    shuffled = [texts[i] for i in rng.permutation(len(texts))]
    return shuffled, _offsets(n_tpl_t)


def generate(scenario: str = "distillation", *, scale: float = 1.0, seed: int = 0,
             **overrides: Any) -> SynthData:
    """Generate a synthetic population of fake and benign accounts.

    Parameters
    ----------
    scenario : str, default "distillation"
        A key of :data:`SCENARIOS`: ``"distillation"``, ``"camouflage"``,
        ``"benign"`` or ``"many_small"``.
    scale : float, default 1.0
        Multiplies every account count (benign and fake) and the pools sized
        from them; must be > 0.  ``scale=10`` gives about 1.24 million
        accounts in the default scenario.
    seed : int, default 0
        Seed of the numpy random generator; the same seed, scenario, scale
        and overrides give identical frames.
    **overrides
        Any field of :class:`SynthParams`, replacing the scenario's default.

    Returns
    -------
    SynthData
        Observations, truth, indicators and exchanges.

    Raises
    ------
    ParameterError
        If the scenario is unknown, ``scale`` or ``seed`` is invalid, an
        override names no parameter or a parameter is out of range.

    Examples
    --------
    >>> data = generate("many_small", scale=0.1, seed=3, benign_accounts=20_000)
    >>> int((data.truth["role"] == "operator").sum()) > 0
    True
    """
    if not isinstance(scenario, str) or scenario not in SCENARIOS:
        raise ParameterError(
            f"The 'scenario' parameter of generate must be one of {sorted(SCENARIOS)}. "
            f"Got {scenario!r} instead."
        )
    if not _is_real(scale) or not float(scale) > 0:
        _bad("scale", "a float > 0", scale)
    if not _is_int(seed) or int(seed) < 0:
        _bad("seed", "an int >= 0", seed)
    names = {f.name for f in dataclasses.fields(SynthParams)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        hints = [f"{u!r} (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(u, names, 1))
                 else repr(u) for u in unknown]
        raise ParameterError(
            f"generate got unknown parameter(s) {', '.join(hints)}; the valid names are the "
            f"fields of SynthParams (see describe_params())."
        )
    params = dataclasses.replace(SCENARIOS[scenario].params, **overrides)
    return _generate(params, float(scale), int(seed), scenario)


# ---------------------------------------------------------------------------
# Prompt corpora: labelled prompts in several scripts (template benchmarks)
# ---------------------------------------------------------------------------

#: Scripts of :func:`prompt_corpus` and the languages of each.
PROMPT_SCRIPTS: dict[str, tuple[str, ...]] = {
    "operators": ("en-ops",),
    "english": ("en",),
    "latin": ("de", "fr", "es"),
    "cjk": ("zh", "ja"),
    "arabic": ("ar",),
    "mixed": ("mixed",),
}

_N_VARIANTS = 16  # paraphrased variants of every template (the first one is the template itself)
_FULLWIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}
_DIGITS_FULLWIDTH = tuple(chr(0xFF10 + d) for d in range(10))
_DIGITS_ARABIC_INDIC = tuple(chr(0x0660 + d) for d in range(10))
_EMOJI = ("🙏", "🔥", "👍🏽", "✨", "🚀", "😊", "👉", "❤️", "🇫🇷", "👨‍💻")
_NOISE = {  # script-specific edits a paraphrased variant may carry
    "en-ops": ("case", "zwsp", "space", "emoji"),
    "en": ("case", "zwsp", "space", "emoji"),
    "de": ("accents", "case", "zwsp", "space", "emoji"),
    "fr": ("accents", "case", "zwsp", "space", "emoji"),
    "es": ("accents", "case", "zwsp", "space", "emoji"),
    "zh": ("fullwidth", "zwsp", "space", "emoji"),
    "ja": ("fullwidth", "zwsp", "space", "emoji"),
    "ar": ("tatweel", "harakat", "bidi", "zwsp", "emoji"),
    "mixed": ("zwsp", "bidi", "fullwidth", "case", "emoji"),
}

Gen = Callable[[np.random.Generator, int], pa.Array]


@dataclass(frozen=True, eq=False)
class PromptCorpus:
    """Labelled prompts: the corpus of the template-mining benchmarks.

    Attributes
    ----------
    texts : numpy.ndarray
        Object array of ``str``: the prompts.
    accounts : numpy.ndarray
        Object array of ``str``: the sender of each prompt. Each template has
        an operator with 3 to 30 accounts; other prompts come from users
        drawn from 200,000.
    truth : numpy.ndarray
        ``int64`` group of origin: the prompts of one template share it, the
        copies of one system prompt share it, and every free-form prompt has
        a group of its own (free-form prompts that came out identical, by
        chance, share one).
    kind : numpy.ndarray
        Object array: ``"template"``, ``"system"`` or ``"free"``.
    language : numpy.ndarray
        Object array: the language whose bank wrote the prompt (``"en"``,
        ``"de"``, ``"fr"``, ``"es"``, ``"zh"``, ``"ja"``, ``"ar"``,
        ``"mixed"``, or ``"en-ops"`` for the operator templates).
    script : str
        The ``script`` argument of :func:`prompt_corpus`.
    """

    texts: np.ndarray
    accounts: np.ndarray
    truth: np.ndarray
    kind: np.ndarray
    language: np.ndarray
    script: str


@dataclass(frozen=True, eq=False)
class _PromptSource:
    """Everything :func:`prompt_corpus` needs of one language."""

    language: str
    sep: str  # between the sentences of generated content
    generators: dict[str, Gen]
    templates: tuple[str, ...]
    sentences: Gen  # one to three sentences (free-form content)
    openers: tuple[str, ...]
    closers: tuple[str, ...]
    system: tuple[str, ...]
    edits: tuple[tuple[str, str], ...]
    punct: tuple[tuple[str, str], ...]
    droppable: tuple[str, ...]


def _pick_from(values: tuple[str, ...] | list[str]) -> Gen:
    vocab = _arr(list(values))
    return lambda rng, m: _pick(rng, vocab, m)


def _number_slot(language: str) -> Gen:
    digits = {"zh": _DIGITS_FULLWIDTH, "ja": _DIGITS_FULLWIDTH, "ar": _DIGITS_ARABIC_INDIC}.get(language)

    def gen(rng: np.random.Generator, m: int) -> pa.Array:
        out = _int_str(np.rint(rng.lognormal(2.5, 1.2, m)).astype(np.int64) + 2)
        if digits is None:
            return out
        native = rng.random(m) < 0.3  # some users type their script's digits
        sub = out.filter(pa.array(native))
        for d in range(10):
            sub = pc.replace_substring(sub, str(d), digits[d])
        return pc.replace_with_mask(out, pa.array(native), sub)

    return gen


def _sentences(frames: _Templates, n_frames: int, lo: int, hi: int, sep: str) -> Gen:
    """``lo`` to ``hi`` sentences drawn from ``frames``, joined by ``sep``."""
    def gen(rng: np.random.Generator, m: int) -> pa.Array:
        k = rng.integers(lo, hi + 1, m)
        cols = []
        for j in range(hi):
            col = frames.fill(rng, rng.integers(0, n_frames, m))
            cols.append(col if j < lo else pc.if_else(pa.array(j < k), col, ""))
        out = pc.binary_join_element_wise(*cols, sep)
        return pc.utf8_trim(pc.replace_substring_regex(out, " {2,}", " "), " ") if sep else out

    return gen


def _content_generators(language: str) -> tuple[dict[str, Gen], Gen, str]:
    """Slot generators of one language's content, its free-form sentences and sentence separator."""
    from sybilgraph.evaluation._prompt_banks import BANKS

    bank = BANKS[language]
    words: dict[str, Gen] = {"N": _pick_from(bank.nouns), "V": _pick_from(bank.verbs),
                             "A": _pick_from(bank.adjectives), "n": _number_slot(language),
                             "name": _pick_from(bank.names)}
    frames_list, sep, conj = list(bank.frames), (" " if bank.sep else ""), bank.conj
    hlangs, quotes, nouns, names = _pick_from(bank.hlangs), bank.quotes, words["N"], words["name"]
    frames = _Templates(frames_list, words)
    one = _sentences(frames, len(frames_list), 1, 1, sep)
    space = " " if sep else ""

    def topic(rng: np.random.Generator, m: int) -> pa.Array:
        two = pc.binary_join_element_wise(nouns(rng, m), f"{space}{conj}{space}", nouns(rng, m), "")
        return pc.if_else(pa.array(rng.random(m) < 0.4), two, nouns(rng, m))

    quote_open = _arr([q[0] for q in quotes])
    quote_close = _arr([q[1] for q in quotes])

    def quote(rng: np.random.Generator, m: int) -> pa.Array:
        q = pa.array(rng.integers(0, len(quotes), m))
        return _join(quote_open.take(q), one(rng, m), quote_close.take(q))

    def code(rng: np.random.Generator, m: int) -> pa.Array:
        return _join("```", pc.utf8_lower(_slot_lang(rng, m)), "\ndef ", _slot_ident(rng, m), "(",
                     _pick(rng, _V_NOUNS, m), "):\n    # ", one(rng, m), "\n    return ", _slot_ident(rng, m),
                     "(", _int_str(rng.integers(0, 1000, m)), ")\n```")

    generators: dict[str, Gen] = {
        "task": _sentences(frames, len(frames_list), 1, 2, sep),
        "para": _sentences(frames, len(frames_list), 2, 5, sep),
        "topic": topic, "quote": quote, "code": code, "n": words["n"], "name": names, "hlang": hlangs,
        "lang": _slot_lang,
    }
    return generators, _sentences(frames, len(frames_list), 1, 3, sep), sep


def _prompt_source(language: str) -> _PromptSource:
    from sybilgraph.evaluation import _prompt_banks as banks

    if language == "mixed":
        generators: dict[str, Gen] = {}
        for lang in ("en", "zh", "ja", "ar"):
            gens, _, _ = _content_generators(lang)
            generators.update({f"{k}_{lang}": gens[k] for k in ("task", "para", "topic")})
        gens, sentences, sep = _content_generators("en")
        generators.update({k: gens[k] for k in ("n", "lang", "code")})
        everyone = [_prompt_source(lang) for lang in banks.BANKS]
        return _PromptSource("mixed", " ", generators, banks.MIXED_TEMPLATES, sentences,
                             tuple(o for s in everyone for o in s.openers),
                             tuple(c for s in everyone for c in s.closers),
                             tuple(p for s in everyone for p in s.system[:3]),
                             banks.MIXED_EDITS, banks.MIXED_PUNCT, banks.MIXED_DROPPABLE)
    if language == "en-ops":  # the operator templates and slots of generate(), English free-form prompts
        en = _prompt_source("en")
        return _PromptSource("en-ops", en.sep, dict(_SLOT_GENERATORS), _OPERATOR_TEMPLATES, en.sentences,
                             en.openers, en.closers, _POPULAR_PROMPTS[:8], _PARAPHRASES + en.edits, en.punct, ())
    generators, sentences, sep = _content_generators(language)
    bank = banks.BANKS[language]
    return _PromptSource(language, sep, generators, bank.templates, sentences, bank.openers, bank.closers,
                         bank.system, bank.edits, bank.punct, bank.droppable)


def _noise(rng: np.random.Generator, kind: str, text: str) -> str:
    """One script-specific edit of a piece of fixed text (see :data:`_NOISE`)."""
    import unicodedata

    words = text.split(" ")
    k = int(rng.integers(len(words)))
    w = words[k]
    pos = int(rng.integers(1, len(w))) if len(w) > 1 else len(w)
    if kind == "case":
        words[k] = w.upper()
    elif kind == "zwsp":  # a zero-width space inside a word
        words[k] = w[:pos] + "\u200b" + w[pos:]
    elif kind == "bidi":  # a right-to-left or left-to-right mark before a word
        words[k] = ("\u200f" if rng.random() < 0.5 else "\u200e") + w
    elif kind == "space":
        words[k] = w + ("\n" if rng.random() < 0.5 else "  ")
    elif kind == "emoji":
        return (f"{_EMOJI[int(rng.integers(len(_EMOJI)))]} {text}" if rng.random() < 0.5
                else f"{text} {_EMOJI[int(rng.integers(len(_EMOJI)))]}")
    elif kind == "accents":  # typed without accents
        return unicodedata.normalize("NFC", "".join(
            c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)))
    elif kind == "fullwidth":
        return "".join(_FULLWIDTH.get(c, c) for c in text)
    elif kind in ("tatweel", "harakat"):  # a kashida or a short vowel after an Arabic letter
        letters = [i for i, c in enumerate(text) if "\u0621" <= c <= "\u064a"]
        if not letters:
            return text
        i = letters[int(rng.integers(len(letters)))] + 1
        return text[:i] + ("\u0640" if kind == "tatweel" else "\u064e") + text[i:]
    return " ".join(words)


def _paraphrase_template(rng: np.random.Generator, template: str, src: _PromptSource) -> str:
    """A light paraphrase of a template's fixed text (slots untouched): one edit, two 30 % of the time."""
    parts = list(string.Formatter().parse(template))
    lits = [lit for lit, _, _, _ in parts]
    for _ in range(2 if rng.random() < 0.3 else 1):
        for _attempt in range(10):  # an edit that does not apply is drawn again
            op = rng.choice(["sub", "drop", "punct", "noise"], p=[0.3, 0.2, 0.15, 0.35])
            i = int(rng.integers(len(lits)))
            lit = lits[i]
            if not lit.strip():
                continue
            if op in ("sub", "punct"):
                pairs = [(a, b) for a, b in (src.edits if op == "sub" else src.punct) if a in lit]
                if not pairs:
                    continue
                a, b = pairs[int(rng.integers(len(pairs)))]
                lits[i] = lit.replace(a, b, 1)
            elif op == "drop":
                if src.droppable:
                    present = [d for d in src.droppable if d in lit]
                    if not present:
                        continue
                    lits[i] = lit.replace(present[int(rng.integers(len(present)))], "", 1)
                else:
                    words = lit.split(" ")
                    real = [k for k, w in enumerate(words) if any(c.isalpha() for c in w)]
                    if len(real) < 2:
                        continue
                    del words[real[int(rng.integers(len(real)))]]
                    lits[i] = " ".join(words)
            else:
                kinds = _NOISE[src.language]
                lits[i] = _noise(rng, kinds[int(rng.integers(len(kinds)))], lit)
            break
    return "".join(lit + ("" if name is None else "{" + name + "}")
                   for lit, (_, name, _, _) in zip(lits, parts))


def _free_prompts(rng: np.random.Generator, opener: _PromptSource, content: _PromptSource, m: int) -> pa.Array:
    """Stock opener, one to three sentences, and a stock closer half of the time."""
    sep = opener.sep
    closing = pc.if_else(pa.array(rng.random(m) < 0.5), _pick_from(opener.closers)(rng, m), "")
    out = pc.binary_join_element_wise(_pick_from(opener.openers)(rng, m), content.sentences(rng, m), closing, sep)
    return pc.utf8_trim(out, " ")


# Longer than 80 lines: one seeded pass per language whose draws must stay in order (see _generate).
def prompt_corpus(script: str = "english", *, n_prompts: int = 10_000, seed: int = 0, paraphrase: float = 0.3,
                  p_free: float = 0.15, p_system: float = 0.15) -> PromptCorpus:
    """Generate labelled prompts in one script: the template benchmarks' corpus.

    Operators send instructions with slots ("Übersetze den folgenden Text ins
    {hlang} ...: {para}", "请把下面这段文字翻译成{hlang}，...：{para}"),
    each filled with varied content in the same language and sometimes
    lightly paraphrased. Ordinary users send free-form prompts that share
    stock phrases ("请详细解释一下", "Ich habe eine Frage:") but no template,
    and popular system prompts verbatim.

    Parameters
    ----------
    script : str, default "english"
        A key of :data:`PROMPT_SCRIPTS`: ``"english"``, ``"latin"`` (German,
        French and Spanish, with
        their accents), ``"cjk"`` (Chinese and Japanese: no spaces),
        ``"arabic"`` (right to left) or ``"mixed"`` (instructions in one
        script around content in another; emoji; Cyrillic, Hangul, Thai,
        Devanagari, Hebrew and traditional Chinese instructions). The
        English, German, French, Spanish, Chinese, Japanese and Arabic banks
        hold the same twelve instructions, translated, and the Chinese,
        Japanese and Arabic ones a few more. ``"operators"`` fills the 64
        operator templates of :func:`generate` with its slots (short
        templates: several have fewer fixed words than a template miner can
        tell from a common phrase).
    n_prompts : int, default 10000
        Number of prompts, >= 0. The languages of a script share them equally.
    seed : int, default 0
        Seed; the corpus is a pure function of the arguments.
    paraphrase : float, default 0.3
        Share of template prompts written from a paraphrased variant of their
        template, in [0, 1]. Each template has 15 variants, each made of one
        edit (two 30 % of the time): a synonym, a dropped word or particle,
        other punctuation (``：`` for ``:``), or a script-specific change --
        letter case, accents left out, full-width letters, a zero-width space
        or a bidi mark inside the text, a kashida or a short vowel in Arabic,
        an emoji.
    p_free, p_system : float, default 0.15
        Shares of free-form and of system prompts; the rest are template
        prompts. Each in [0, 1], their sum at most 1.

    Returns
    -------
    PromptCorpus
        Texts, accounts, group of origin, kind and language of every prompt.

    Raises
    ------
    ParameterError
        If ``script`` is unknown or a parameter is out of range.

    Notes
    -----
    The generation is vectorised (Arrow kernels fill the slots of all prompts
    of one language at once): 100,000 prompts take 1 to 2.5 s on a 2-core
    machine. This function draws from its own generator, so what
    :func:`generate` writes does not depend on it.

    Examples
    --------
    >>> corpus = prompt_corpus("cjk", n_prompts=200, seed=1)
    >>> sorted(set(corpus.language)), len(corpus.texts)
    (['ja', 'zh'], 200)
    """
    if not isinstance(script, str) or script not in PROMPT_SCRIPTS:
        raise ParameterError(f"The 'script' parameter of prompt_corpus must be one of {sorted(PROMPT_SCRIPTS)}. "
                             f"Got {script!r} instead.")
    if not _is_int(n_prompts) or int(n_prompts) < 0:
        _bad("n_prompts", "an int >= 0", n_prompts, "prompt_corpus")
    if not _is_int(seed) or int(seed) < 0:
        _bad("seed", "an int >= 0", seed, "prompt_corpus")
    for name, value in (("paraphrase", paraphrase), ("p_free", p_free), ("p_system", p_system)):
        if not _is_real(value) or not 0.0 <= float(value) <= 1.0:
            _bad(name, "a float in [0, 1]", value, "prompt_corpus")
    if float(p_free) + float(p_system) > 1.0:
        _bad("p_free", f"a float in [0, 1 - p_system] (p_system is {p_system})", p_free, "prompt_corpus")
    n = int(n_prompts)
    rng = np.random.default_rng(int(seed))
    languages = PROMPT_SCRIPTS[script]
    draw = rng.random(n)
    kind = np.where(draw < p_free, "free", np.where(draw < p_free + p_system, "system", "template")).astype(object)
    lang_of = rng.integers(0, len(languages), n)
    texts = pa.nulls(n, pa.string())
    accounts = pa.nulls(n, pa.string())
    truth = np.full(n, -1, dtype=np.int64)

    def users(m: int) -> pa.Array:
        return _join("user", _int_str(rng.integers(0, 200_000, size=m)))

    offset = 0
    for li, language in enumerate(languages):
        src = _prompt_source(language)
        n_tpl = len(src.templates)
        # templates: Zipf popularity over a shuffled order, 15 paraphrased variants each
        variants = [v for t in src.templates
                    for v in [t] + [_paraphrase_template(rng, t, src) for _ in range(_N_VARIANTS - 1)]]
        popularity = rng.permutation(n_tpl)
        rows = np.flatnonzero((lang_of == li) & (kind == "template"))
        m = len(rows)
        tpl = popularity[rng.choice(n_tpl, m, p=_zipf_weights(n_tpl, 0.8))]
        var = np.where(rng.random(m) < paraphrase, rng.integers(1, _N_VARIANTS, m), 0)
        mask = np.zeros(n, dtype=bool)
        mask[rows] = True
        if m:
            texts = pc.replace_with_mask(texts, pa.array(mask),
                                         _Templates(variants, src.generators).fill(rng, tpl * _N_VARIANTS + var))
            op_size = rng.integers(3, 31, n_tpl)
            member = (rng.random(m) * op_size[tpl]).astype(np.int64)
            accounts = pc.replace_with_mask(accounts, pa.array(mask), _join(
                f"{language}-op", _int_str(tpl), "-acct", _int_str(member)))
        truth[rows] = offset + tpl
        # system prompts, verbatim, Zipf popularity
        rows = np.flatnonzero((lang_of == li) & (kind == "system"))
        m = len(rows)
        mask[:] = False
        mask[rows] = True
        which = rng.choice(len(src.system), m, p=_zipf_weights(len(src.system), 1.0))
        if m:
            texts = pc.replace_with_mask(texts, pa.array(mask), _arr(list(src.system)).take(pa.array(which)))
            accounts = pc.replace_with_mask(accounts, pa.array(mask), users(m))
        truth[rows] = offset + n_tpl + which
        offset += n_tpl + len(src.system)
        # free-form prompts; in the mixed script, with a stock phrase of one
        # language around content of another
        rows = np.flatnonzero((lang_of == li) & (kind == "free"))
        m = len(rows)
        mask[:] = False
        mask[rows] = True
        if m:
            if language == "mixed":
                from sybilgraph.evaluation._prompt_banks import BANKS

                sources = [_prompt_source(lang) for lang in BANKS]
                a = rng.integers(0, len(sources), m)
                b = np.where(rng.random(m) < 0.5, a, rng.integers(0, len(sources), m))
                free = pa.nulls(m, pa.string())
                for i, j in sorted(set(zip(a.tolist(), b.tolist()))):
                    sel = (a == i) & (b == j)
                    free = pc.replace_with_mask(free, pa.array(sel),
                                                _free_prompts(rng, sources[i], sources[j], int(sel.sum())))
            else:
                free = _free_prompts(rng, src, src, m)
            texts = pc.replace_with_mask(texts, pa.array(mask), free)
            accounts = pc.replace_with_mask(accounts, pa.array(mask), users(m))
    text_list = np.asarray(texts.to_pylist(), dtype=object)
    free_rows = np.flatnonzero(kind == "free")
    truth[free_rows] = offset + pd.factorize(text_list[free_rows])[0]
    return PromptCorpus(texts=text_list,
                        accounts=np.asarray(accounts.to_pylist(), dtype=object), truth=truth, kind=kind,
                        language=np.asarray(languages, dtype=object)[lang_of] if n else np.empty(0, dtype=object),
                        script=script)
