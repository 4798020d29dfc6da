"""How to run the search, and what it reports while it runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

DEFAULT_WORKERS = 2  # the machines this runs on have two cores
PORTFOLIOS = ("auto", "default", "max_lp")
# "auto": the strong-LP worker for a whole model of up to MAX_LP_PAIRS decision variables and at most
# MAX_LP_PAIRS_PER_SECOND per second of its time limit (its root LP must finish early in the search:
# measured at 20 s on Curtois 1-12, it won up to instance 8, 3,360 pairs, and lost from 10 on)
MAX_LP_PAIRS = 8_000
MAX_LP_PAIRS_PER_SECOND = 175


@dataclass(frozen=True)
class Progress:
    """A snapshot of the search, sent on every improving solution and bound change."""

    elapsed: float  # seconds since the search started
    objective: float | None  # best schedule found so far, None before the first one
    bound: float | None  # proven lower bound
    solutions: int  # improving solutions found so far
    phase: str = ""  # "coverage" while staffing every slot first, then "balance"


@dataclass
class SolveOptions:
    time_limit: float = 30.0  # seconds
    workers: int = DEFAULT_WORKERS
    seed: int = 0
    log_search: bool = False  # CP-SAT's own log on stdout
    on_progress: Callable[[Progress], None] | None = None
    stop: threading.Event | None = None  # set it to stop the search; the best schedule so far is kept
    hint: Iterable[tuple[str, str]] | None = None  # (person, shift) pairs to start the search from
    # Staff every slot first (coverage terms only), then improve the rest without losing coverage.
    # None: only where coverage outweighs every other weight (then the weighted objective is in effect
    # lexicographic and nothing changes what "best" means); True: always, as a search strategy for
    # objectives where coverage merely dominates in practice (the public benchmark); False: never.
    coverage_first: bool | None = None
    coverage_share: float = 0.4  # at most this share of the time limit goes to the coverage phase
    greedy_start: bool = True  # start from a greedy schedule when there is no other hint
    # Neighbourhood search only, where the rules set minimums the greedy start cannot meet: plan the first
    # schedule a block of weeks at a time (solver.rolling) instead of greedy + per-person repair. Off by
    # default: measured on Curtois 20 (600 s) valid but later and worse than the default start
    # (docs/BENCHMARKS.md, notes on the large instances).
    rolling_start: bool = False
    # Neighbourhood search only, where every hard rule binds one person (no headcount caps, no pairs, no
    # previous schedule): plan the first schedule one person at a time, each by a small model of their
    # own wanting the cover the others left (solver.one_by_one). None: where the rules set minimums
    # (blocks of days, hours over the horizon; solver.one_by_one.chosen); True / False: always / never
    # (True still needs rules that bind one person each).
    one_by_one: bool | None = None
    # above this many decision variables, search by large neighbourhoods (solver.lns) instead of one model
    direct_limit: int = 8_000
    # CP-SAT's worker portfolio. "max_lp" adds CP-SAT's strong-LP full worker (its root relaxation
    # includes the clauses of the minimum-run and succession rules: a much tighter bound, often a
    # better schedule); "default" keeps CP-SAT's own portfolio; "auto" takes max_lp for a whole model
    # small enough for its root LP to finish in the time limit (MAX_LP_PAIRS, measured on the Curtois
    # instances, docs/BENCHMARKS.md). ``parameters["extra_subsolvers"]`` overrides it.
    portfolio: str = "auto"
    # The portfolio of each neighbourhood's model in the neighbourhood search: "max_lp" solves the small
    # models with the strong LP (measured on Curtois 8: 166 neighbourhoods in 36 s, 17 better, against
    # 39 and 11 with "default"); the whole-model polish below uses it.
    hood_portfolio: str = "default"
    # A whole model too large for the strong-LP worker in its time (the "auto" portfolio would take
    # "default") is searched as one model for ``polish_share`` of the time, then improved by
    # neighbourhoods solved with the strong LP (solver.lns, hood_portfolio "max_lp"). None: so;
    # True / False: always / never.
    polish: bool | None = None
    polish_share: float = 0.4
    parameters: dict[str, object] = field(default_factory=dict)  # extra CP-SAT parameters, by name
    # a proven lower bound from a linear relaxation (solver.relaxation), solved beside the search in at
    # most solver.relaxation.LP_SHARE of the time limit: the neighbourhood search proves none itself
    lp_bound: bool = True
    # The instant (time.monotonic()) by which the whole call returns: ``solve`` sets it from
    # ``time_limit`` when it starts, so the greedy start, model building and every sub-search share one
    # budget; None: ``time_limit`` from the start of whichever function is called.
    deadline: float | None = None

    def __post_init__(self) -> None:
        for name in ("portfolio", "hood_portfolio"):
            if getattr(self, name) not in PORTFOLIOS:
                raise ValueError(f"{name} must be one of {PORTFOLIOS}, not {getattr(self, name)!r}")

    def deadline_from(self, started: float) -> float:
        """The deadline of a call that started at ``started``: its own limit, or the caller's if sooner."""
        own = started + self.time_limit
        return own if self.deadline is None else min(own, self.deadline)


def strong_lp_affordable(pairs: int, time_limit: float, workers: int) -> bool:
    """Whether a whole model of ``pairs`` decision variables gets the strong-LP worker ("auto")."""
    return workers >= 2 and pairs <= min(MAX_LP_PAIRS, MAX_LP_PAIRS_PER_SECOND * time_limit)


class OutOfTime(Exception):
    """The deadline passed while building a model (raised by ``solver.build``, caught by the search)."""


def past(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline
