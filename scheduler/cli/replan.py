"""``rota resolve``: re-solve a published schedule after a sick call or a withdrawal, changing as little
as possible, and print whom to call. Registered on the ``rota`` app by an import at the bottom of
``scheduler.cli.main``."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from scheduler.cli.app import EXIT_NO_SCHEDULE, ProgressPrinter, app, fail, input_error, load_scenario
from scheduler.domain.errors import InputError, load_model
from scheduler.domain.scenario import WithdrawalReason


class SickStatus(StrEnum):
    sick = "sick"
    isolating = "isolating"
    limited = "limited"
    fit = "fit"


def parse_when(text: str, option: str, *, instant: bool = False) -> dt.date | dt.datetime:
    """'2026-12-05' (a whole local day) or '2026-12-05T06:40' (an instant, site-local unless it has an
    offset); ``instant``: a date means its local midnight. Raises typer.Exit naming ``option``."""
    value = text.strip()
    try:
        if "T" in value or " " in value:
            return dt.datetime.fromisoformat(value)
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise fail(
            f"{option}: expected a date (YYYY-MM-DD) or a date-time (YYYY-MM-DDTHH:MM[+HH:MM]), got {text!r}"
        ) from None
    return dt.datetime.combine(day, dt.time()) if instant else day


def _ordered(start: dt.date | dt.datetime, until: dt.date | dt.datetime | None, zone) -> None:
    from scheduler.domain.clock import aware

    if until is None:
        return

    def instant(x: dt.date | dt.datetime) -> dt.datetime:
        return aware(x if isinstance(x, dt.datetime) else dt.datetime.combine(x, dt.time()), zone)

    if isinstance(until, dt.datetime):
        if instant(until) <= instant(start):
            raise fail(
                f"--until: must be after --from ({until.isoformat()} is not after {start.isoformat()})"
            )
    elif until < (start.date() if isinstance(start, dt.datetime) else start):
        raise fail(f"--until: must not be before --from ({until.isoformat()} is before {start.isoformat()})")


@app.command()
def resolve(
    scenario_file: Annotated[Path, typer.Argument(help="Scenario JSON file")],
    schedule_file: Annotated[Path, typer.Argument(help="The published schedule JSON ('rota solve --out')")],
    sick: Annotated[str | None, typer.Option("--sick", help="Volunteer id of the sick call")] = None,
    status: Annotated[SickStatus, typer.Option(help="Health status of the sick call")] = SickStatus.sick,
    start: Annotated[
        str | None,
        typer.Option(
            "--from", help="Start of the sickness or withdrawal: YYYY-MM-DD[THH:MM] (default: the cut-off)"
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            help="End: a date is inclusive (the whole day), a date-time exclusive; default open-ended"
        ),
    ] = None,
    infectious: Annotated[bool, typer.Option("--infectious", help="List the ill person's contacts")] = False,
    isolate_contacts: Annotated[
        bool, typer.Option("--isolate-contacts", help="Mark the contacts isolating in the same re-solve")
    ] = False,
    isolate_until: Annotated[
        str | None, typer.Option(help="Contacts isolate until this date (default: --until)")
    ] = None,
    withdraw: Annotated[
        str | None, typer.Option("--withdraw", help="Volunteer id withdrawing from --from until --until")
    ] = None,
    reason: Annotated[
        WithdrawalReason | None,
        typer.Option(help="Reason of the withdrawal, from a fixed list (shown to the coordinator)"),
    ] = None,
    cutoff: Annotated[
        str | None,
        typer.Option(
            help="Nothing starting before this changes: YYYY-MM-DDTHH:MM, site-local (default: now)"
        ),
    ] = None,
    time_limit: Annotated[float, typer.Option(help="Seconds to search at most", min=0.1)] = 10.0,
    workers: Annotated[int, typer.Option(help="CP-SAT worker threads", min=1)] = 2,
    seed: Annotated[int, typer.Option(help="Random seed")] = 0,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the new schedule JSON here")] = None,
    scenario_out: Annotated[
        Path | None, typer.Option(help="Write the scenario with the health record or absence added here")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the change set as JSON")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines")] = False,
) -> None:
    """Re-solve a published schedule after a sick call or a withdrawal and print whom to call.

    Changes as little as possible for everyone else; nothing starting before the cut-off changes."""
    from scheduler.domain.changes import changeset_text, contacts
    from scheduler.domain.clock import aware
    from scheduler.domain.compile import ScenarioError
    from scheduler.domain.disruptions import MarkIsolating, SickCall, Withdrawal
    from scheduler.domain.replan import ResolveFailed
    from scheduler.domain.replan import resolve as run
    from scheduler.domain.schedule import Schedule

    if sick is None and withdraw is None:
        raise fail("nothing to re-solve: give --sick VOLUNTEER or --withdraw VOLUNTEER")
    if (infectious or isolate_contacts) and sick is None:
        raise fail("--infectious and --isolate-contacts need --sick")
    if isolate_contacts and not infectious:
        raise fail("--isolate-contacts: the sick call must be --infectious")
    if isolate_contacts and until is None and isolate_until is None:
        raise fail("--isolate-contacts: give --isolate-until or --until (how long the contacts isolate)")

    try:
        previous = load_model(Schedule, schedule_file)
    except InputError as exc:
        raise input_error(exc) from None
    scenario = load_scenario(scenario_file)
    zone = scenario.site.zone
    ids = {v.id for v in scenario.volunteers}
    for option, vid in (("--sick", sick), ("--withdraw", withdraw)):
        if vid is not None and vid not in ids:
            raise fail(f"{option}: no volunteer {vid!r} in {scenario_file}")

    cut_at = aware(
        parse_when(cutoff, "--cutoff", instant=True) if cutoff is not None else dt.datetime.now(dt.UTC), zone
    )
    begin = parse_when(start, "--from") if start is not None else cut_at
    end = parse_when(until, "--until") if until is not None else None
    _ordered(begin, end, zone)
    iso_end = parse_when(isolate_until, "--isolate-until") if isolate_until is not None else end
    if isolate_contacts:
        _ordered(cut_at, iso_end, zone)

    disruptions: list = []
    if sick is not None:
        disruptions.append(SickCall(volunteer=sick, status=status.value, start=begin, until=end,
                                    infectious=infectious))
        if isolate_contacts:
            people = [c.volunteer for c in contacts(
                previous, sick, cut_at, scenario.rules.contact_tracing_days, volunteers=scenario
            ) if c.volunteer in ids]
            if people:
                disruptions.append(MarkIsolating(volunteers=people, start=cut_at, until=iso_end))
    if withdraw is not None:
        disruptions.append(Withdrawal(volunteer=withdraw, start=begin, until=end, reason=reason))

    if not quiet:
        typer.echo(
            f"Re-solving {scenario.site.name} from {cut_at:%Y-%m-%d %H:%M} ({scenario.site.timezone}), "
            f"time limit {time_limit:g} s",
            err=True,
        )
    try:
        result = run(
            scenario, previous, disruptions, cutoff=cut_at, time_limit=time_limit, workers=workers, seed=seed,
            on_progress=ProgressPrinter(quiet),
        )
    except InputError as exc:
        raise input_error(exc) from None
    except ScenarioError as exc:
        raise fail(
            "the scenario cannot be planned:\n" + "\n".join(f"  - {p}" for p in exc.problems)
        ) from None
    except ResolveFailed as exc:
        raise fail(str(exc), EXIT_NO_SCHEDULE) from None

    if out is not None:
        out.write_text(result.schedule.model_dump_json(indent=2) + "\n", encoding="utf-8")
    if scenario_out is not None:
        scenario_out.write_text(
            result.scenario.model_dump_json(indent=2, by_alias=True, exclude_defaults=True) + "\n",
            encoding="utf-8",
        )
    if as_json:
        typer.echo(result.changes.model_dump_json(indent=2))
    else:
        typer.echo(changeset_text(result.changes), nl=False)
        if out is not None:
            typer.echo(f"\nNew schedule written to {out}")
        else:
            typer.echo("\nThe new schedule was not written (give --out FILE).")
        if scenario_out is not None:
            typer.echo(f"Scenario with the change written to {scenario_out}")
