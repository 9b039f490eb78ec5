"""Stage logging and a progress display for long runs.

Every stage of :func:`sybilgraph.cluster_accounts` logs through the
``"sybilgraph"`` logger: a DEBUG record when it starts and an INFO record when
it ends, with its name, what it produced (rows, accounts, clusters) and its
seconds. Nothing shows unless the caller configures logging
(``logging.basicConfig(level=logging.INFO)``) or asks for a progress display.

The progress display (``cluster_accounts(..., progress=True)``; the command
line shows it when stderr is a terminal, unless ``-q``) writes one line per
finished stage to stderr; on a terminal the running stage's line is rewritten
in place with its elapsed time every half second. It needs no dependency:
the stages have no inner counts worth a bar, so a stage ticker is what a bar
would show.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator, TextIO

__all__ = ["logger", "Stage", "stage", "timed", "show_progress"]

#: The library's logger; records carry ``stage``, ``seconds`` and the stage's counts as extra attributes.
logger = logging.getLogger("sybilgraph")

_TICK = 0.5


class _Ticker:
    """Writes a line per finished stage to ``stream``; on a terminal, the running stage ticks in place."""

    def __init__(self, stream: TextIO, live: bool) -> None:
        self.stream = stream
        self.live = live
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._name = ""
        self._start = 0.0

    def begin(self, name: str) -> None:
        self._name, self._start = name, time.perf_counter()
        if self.live:
            self._draw(f"sybilgraph: {name} ...", end="")
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="sybilgraph-progress", daemon=True)
            self._thread.start()

    def end(self, text: str) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        self._draw(f"sybilgraph: {text}", end="\n")

    def _run(self) -> None:
        while not self._stop.wait(_TICK):
            self._draw(f"sybilgraph: {self._name} ... {time.perf_counter() - self._start:.0f} s", end="")

    def _draw(self, text: str, *, end: str) -> None:
        with self._lock:
            prefix = "\r\x1b[K" if self.live else ""
            try:
                self.stream.write(prefix + text + end)
                self.stream.flush()
            except (OSError, ValueError):  # a closed or broken stderr must not stop the run
                pass


_ticker: ContextVar[_Ticker | None] = ContextVar("sybilgraph_ticker", default=None)


@contextmanager
def show_progress(stream: TextIO | None = None, *, live: bool | None = None) -> Iterator[None]:
    """Show a line per stage on ``stream`` (stderr) while the block runs.

    ``live`` rewrites the running stage's line in place with its elapsed
    time; by default only when ``stream`` is a terminal.
    """
    out = stream if stream is not None else sys.stderr
    if live is None:
        isatty = getattr(out, "isatty", None)
        live = bool(isatty()) if callable(isatty) else False
    token = _ticker.set(_Ticker(out, live))
    try:
        yield
    finally:
        _ticker.reset(token)


class Stage:
    """What a running stage reports: counts added with :meth:`count` appear in its log record."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.counts: dict[str, int] = {}
        self.seconds = 0.0

    def count(self, **counts: Any) -> None:
        """Record what the stage produced, e.g. ``count(rows=n, accounts=m)``."""
        self.counts.update({k: int(v) for k, v in counts.items()})

    def describe(self) -> str:
        parts = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in self.counts.items())
        return f"{self.name}: {self.seconds:.2f} s" + (f" ({parts})" if parts else "")


@contextmanager
def stage(name: str) -> Iterator[Stage]:
    """Log the start and end of a stage (DEBUG, then INFO with its counts and seconds) and tick the display."""
    info = Stage(name)
    ticker = _ticker.get()
    logger.debug("%s: started", name, extra={"stage": name})
    if ticker is not None:
        ticker.begin(name)
    start = time.perf_counter()
    try:
        yield info
    except BaseException:
        info.seconds = time.perf_counter() - start
        if ticker is not None:
            ticker.end(f"{name}: stopped after {info.seconds:.1f} s")
        logger.debug("%s: stopped after %.2f s", name, info.seconds, extra={"stage": name, "seconds": info.seconds})
        raise
    info.seconds = time.perf_counter() - start
    if ticker is not None:
        ticker.end(info.describe())
    logger.info("%s", info.describe(), extra={"stage": name, "seconds": info.seconds, **info.counts})


@contextmanager
def timed(timings: dict[str, float], name: str) -> Iterator[Stage]:
    """:func:`stage`, with its wall-clock seconds also added to ``timings[name]``."""
    start = time.perf_counter()
    try:
        with stage(name) as info:
            yield info
    finally:
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - start
