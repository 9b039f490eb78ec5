"""Command-line options generated from the :class:`~sybilgraph.settings.Settings` fields.

Each field becomes an option (``min_links`` → ``--min-links``) whose type,
choices and default come from the dataclass and whose help is the first
sentences of the field's entry in the Settings docstring, so a new setting
appears on the command line without a hand-written list. ``--settings FILE``
loads a JSON file written by :meth:`Settings.to_json`; options given on the
command line override it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import typing
from pathlib import Path
from typing import Any, Callable

from ._errors import ParameterError
from .settings import Settings

__all__ = ["add_settings_options", "settings_from_args", "field_docs"]


def field_docs() -> dict[str, str]:
    """The description of each field in the Parameters section of the Settings docstring, as one line."""
    doc = Settings.__doc__ or ""
    section = doc.split("Parameters\n    ----------\n", 1)[-1]
    docs: dict[str, str] = {}
    name = None
    for line in section.splitlines():
        head = re.match(r"^    (\w+) : ", line)
        if head:
            name = head.group(1)
            docs[name] = ""
        elif name is not None and line.startswith("        "):
            docs[name] += " " + line.strip()
        elif line.strip() and not line.startswith("        "):
            name = None
    return {k: " ".join(v.split()) for k, v in docs.items()}


def _first_sentences(text: str, at_least: int = 100) -> str:
    """Sentences from the start of ``text`` until they hold ``at_least`` characters."""
    out = ""
    for sentence in re.split(r"(?<=[.;])\s+(?=[A-Z(`])", text):
        out = f"{out} {sentence}".strip()
        if len(out) >= at_least:
            break
    out = re.sub(r":\w+:`~?([^`]+)`", r"\1", out)  # :func:`x` -> x
    out = re.sub(r"``([^`]+)``", r"\1", out)
    out = re.sub(r"(?<!\w)\*([^*]+)\*(?!\w)", r"\1", out)
    return out.replace("%", "%%")  # argparse formats help with %


def _show_default(value: Any) -> str:
    if isinstance(value, typing.Mapping):
        return ",".join(f"{k}={v:g}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _weights(text: str) -> dict[str, float]:
    """``ip=0.3,payment=1`` or a JSON object ``{"ip": 0.3}`` as a dict of kind to weight."""
    text = text.strip()
    try:
        if text.startswith("{"):
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError
            return {str(k): float(v) for k, v in data.items()}
        out: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            kind, sep, weight = part.partition("=")
            if not sep or not kind.strip():
                raise ValueError
            out[kind.strip()] = float(weight)
        return out
    except (ValueError, TypeError) as err:
        raise argparse.ArgumentTypeError(f"expected KIND=WEIGHT[,KIND=WEIGHT...] or a JSON object, got {text!r}") from err


def _number(kind: type) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            return kind(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, got {text!r}") from err

    parse.__name__ = kind.__name__
    return parse


def add_settings_options(p: argparse.ArgumentParser) -> None:
    """Add ``--settings FILE`` and one option per Settings field to ``p``; absent options leave the namespace untouched."""
    p.add_argument("--settings", metavar="FILE",
                   help="JSON file of settings (as Settings.to_json writes); options given here override it")
    group = p.add_argument_group("clustering settings (see sybilgraph.Settings; default: the value shown)")
    hints = typing.get_type_hints(Settings)
    defaults = Settings()
    docs = field_docs()
    taken = set(p._option_string_actions)  # an option another part of the CLI already defines is left alone
    for f in dataclasses.fields(Settings):
        flag = "--" + f.name.replace("_", "-")
        if flag in taken:
            continue
        hint = hints[f.name]
        default = getattr(defaults, f.name)
        text = _first_sentences(docs.get(f.name, ""))
        common: dict[str, Any] = {"dest": f.name, "default": argparse.SUPPRESS}
        if typing.get_origin(hint) is typing.Literal:
            choices = [str(c) for c in typing.get_args(hint)]
            group.add_argument(flag, choices=choices, help=f"{text} (default: {default})", **common)
        elif hint is bool:
            group.add_argument(flag, action=argparse.BooleanOptionalAction, help=f"{text} (default: {default})", **common)
        elif hint in (int, float):
            metavar = "N" if hint is int else "X"
            group.add_argument(flag, type=_number(hint), metavar=metavar,
                               help=f"{text} (default: {_show_default(default)})", **common)
        elif typing.get_origin(hint) in (typing.Mapping, dict, typing.get_origin(typing.Mapping[str, float])):
            group.add_argument(flag, type=_weights, metavar="KIND=W,...",
                               help=f"{text} Given weights replace those of the same kinds; the others stay. "
                                    f"(default: {_show_default(default)})", **common)
        else:  # a field of a type not known here: taken as JSON
            group.add_argument(flag, type=json.loads, metavar="JSON", help=f"{text} (default: {default!r})", **common)


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The Settings of ``--settings FILE`` (or the defaults) with the options given on the command line applied.

    Raises
    ------
    ParameterError
        The settings file cannot be read or holds unknown or invalid
        settings, or an option is out of range.
    """
    base = Settings()
    source = getattr(args, "settings", None)
    if source:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise ParameterError(f"--settings {source!r} cannot be read: {err}") from err
        try:
            base = Settings.from_json(text)
        except json.JSONDecodeError as err:
            raise ParameterError(f"--settings {source!r} is not valid JSON ({err}); write it with Settings.to_json().") from err
        except (ParameterError, TypeError) as err:
            raise ParameterError(f"--settings {source!r}: {err}") from err
    changes = {f.name: getattr(args, f.name) for f in dataclasses.fields(Settings) if hasattr(args, f.name)}
    if "kind_weights" in changes:
        changes["kind_weights"] = {**base.kind_weights, **changes["kind_weights"]}
    try:
        return base.replace(**changes)
    except ParameterError as err:
        raise ParameterError(f"{err} (set on the command line or in --settings)") from err
