"""Fixed words the scheduler puts in its results (why a slot is short, why a shift was removed, who a
change concerns), for the catalogs: the pages show them translated; anything else is shown as it is."""

from __future__ import annotations

from collections.abc import Callable

from scheduler.domain.compile import REASON_LIMITED, REASON_OUTSIDE_AVAILABILITY, REASON_UNAVAILABLE

# solver.explain's reasons, spelled out here (api depends on scheduler, never on solver directly; a test
# checks that they are the solver's)
NO_ONE_AVAILABLE = "no one available"
SKILL_MISSING = "skill missing"
AT_A_LIMIT = "everyone eligible is at a limit"
STOPPED_EARLY = "not filled (solver stopped early)"


def N_(message: str) -> str:
    """Marks a string for the catalogs (``pybabel extract -k N_``) without translating it here."""
    return message


KNOWN: dict[str, str] = {
    NO_ONE_AVAILABLE: N_("no one available"),
    SKILL_MISSING: N_("skill missing"),
    AT_A_LIMIT: N_("everyone eligible is at a limit"),
    STOPPED_EARLY: N_("not filled (solver stopped early)"),
    REASON_LIMITED: N_("limited duty: light day posts only"),
    REASON_OUTSIDE_AVAILABILITY: N_("outside availability"),
    REASON_UNAVAILABLE: N_("unavailable"),
    "sick": N_("sick"),
    "isolating": N_("isolating"),
    "limited": N_("limited"),
    "recovering": N_("recovering"),
    "withdrawn": N_("withdrawn"),
    "isolating (contact)": N_("isolating (contact)"),
    "new volunteer": N_("new volunteer"),
    # worked hours (scheduler.domain.worked, scheduler.services.worked)
    "required": N_("required"),
    "must not be in the future": N_("must not be in the future"),
    "must be after the start": N_("must be after the start"),
    "at most 24 hours after the start": N_("at most 24 hours after the start"),
    "the shift has not ended yet": N_("the shift has not ended yet"),
    "the shift has not started yet": N_("the shift has not started yet"),
    "marked as a no-show: correct the times instead": N_("marked as a no-show: correct the times instead"),
}


#: An absence's reasons (scheduler.domain.scenario.AbsenceReason), as in ``unavailable: study``.
ABSENCE_REASONS: dict[str, str] = {
    "travel": N_("travel"),
    "work": N_("work"),
    "study": N_("study or exams"),
    "family": N_("family"),
    "caring_for_someone": N_("caring for someone"),
    "appointment": N_("an appointment"),
    "unwell": N_("unwell"),
    "injury": N_("injury"),
    "quarantine_order": N_("quarantine order"),
    "personal": N_("personal"),
    "other": N_("other"),
}


def known(text: str | None, gettext: Callable[[str], str]) -> str:
    """``text`` translated if it is one of the scheduler's fixed words (``unavailable: study`` with its
    reason), else as it is."""
    if not text:
        return ""
    if text in KNOWN:
        return gettext(KNOWN[text])
    head, sep, rest = text.partition(": ")
    if sep and head in KNOWN:
        rest = gettext(ABSENCE_REASONS[rest]) if rest in ABSENCE_REASONS else rest
        return f"{gettext(KNOWN[head])}: {rest}"
    return text
