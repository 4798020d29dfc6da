"""Size caps on a site's scenario (issue 14), checked before anything is compiled.

Compiling and solving grow with volunteers x slots: 1,000 volunteers x 366 days is a small request body
but seconds of CPU in the web process. So a site (an import, an upload, an edit, a job's horizon, a
re-solve with new volunteers or posts) may hold at most so many volunteers, posts, shift templates,
days, and volunteer-days (volunteers x planned days). Beyond a cap the input is refused with
:class:`~scheduler.domain.errors.TooLargeError` (HTTP 413) naming the field. The caps are settings
(``ROTA_MAX_VOLUNTEERS``... in :mod:`scheduler.settings`); :data:`DEFAULT` holds their defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

from scheduler.domain.errors import FieldProblem, TooLargeError
from scheduler.domain.scenario import Scenario


@dataclass(frozen=True)
class SizeLimits:
    volunteers: int = 2000
    posts: int = 300
    templates: int = 1500  # shift templates over all posts
    days: int = 366
    volunteer_days: int = 200_000  # volunteers x days planned
    # volunteers x slots a request may compile to check a solve at once; a larger job is checked by the
    # worker that runs it (a problem the compile finds then fails the job, naming the field)
    inline_compile_pairs: int = 2_000_000

    @classmethod
    def of(cls, settings) -> SizeLimits:
        return cls(
            volunteers=settings.max_volunteers,
            posts=settings.max_posts,
            templates=settings.max_templates,
            days=settings.max_days,
            volunteer_days=settings.max_volunteer_days,
            inline_compile_pairs=settings.inline_compile_pairs,
        )


DEFAULT = SizeLimits()


def size_problems(
    limits: SizeLimits, *, volunteers: int, posts: int, templates: int, days: int
) -> list[FieldProblem]:
    out = []
    if volunteers > limits.volunteers:
        out.append(FieldProblem(
            "volunteers", f"at most {limits.volunteers} volunteers per site (this has {volunteers})"
        ))
    if posts > limits.posts:
        out.append(FieldProblem("posts", f"at most {limits.posts} posts per site (this has {posts})"))
    if templates > limits.templates:
        out.append(FieldProblem(
            "posts", f"at most {limits.templates} shift templates over all posts (this has {templates})"
        ))
    if days > limits.days:
        out.append(FieldProblem("horizon.days", f"at most {limits.days} days (this has {days})"))
    if volunteers * days > limits.volunteer_days:
        out.append(FieldProblem(
            "volunteers",
            f"at most {limits.volunteer_days} volunteer-days (volunteers x days): {volunteers} x {days} "
            f"= {volunteers * days}; plan fewer days at a time",
        ))
    return out


def check_size(scenario: Scenario, limits: SizeLimits = DEFAULT, *, days: int | None = None,
               source: str = "scenario") -> None:
    """Raise TooLargeError if ``scenario`` (planned over ``days``, default its horizon) is beyond a cap."""
    problems = size_problems(
        limits,
        volunteers=len(scenario.volunteers),
        posts=len(scenario.posts),
        templates=sum(len(p.shifts) for p in scenario.posts),
        days=scenario.horizon.days if days is None else days,
    )
    if problems:
        raise TooLargeError(source, problems)


def estimated_pairs(scenario: Scenario, days: int | None = None) -> int:
    """About how many (volunteer, slot) pairs compiling ``scenario`` over ``days`` (default its horizon)
    builds: volunteers x the slots its shift templates and residents' visits make, counted from their
    weekdays without reading any calendar (cheap, an upper bound up to a day per template)."""
    days = scenario.horizon.days if days is None else days
    weeks = days / 7
    slots = sum(
        int(weeks * len(t.weekdays)) + 1 for post in scenario.posts for t in post.shifts
    ) + sum(int(weeks * len(v.weekdays)) + 1 for r in scenario.residents for v in r.visits)
    return len(scenario.volunteers) * slots
