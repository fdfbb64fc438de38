"""The steps of lacarte.steps that are not dbt invocations: the pull, the incremental cycle's
compiled SQL, the record of a full build, the confirmation of a publication and the open-data
export."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lacarte.settings import Settings


@dataclass(frozen=True)
class Outcome:
    message: str = ""
    mode: str | None = None


def _pull(job: str, full_reason: str | None = None, reconcile: bool = False) -> Callable[[Settings], Outcome]:
    def action(settings: Settings) -> Outcome:
        from lacarte.changes.pull import pull

        result = pull(settings, job, full_reason=full_reason, reconcile=reconcile)
        return Outcome(result.summary(), result.mode)

    return action


def _mark_built(settings: Settings) -> Outcome:
    from lacarte.changes.confirm import mark_built

    return Outcome(mark_built(settings))


def _confirm(settings: Settings) -> Outcome:
    from lacarte.changes.confirm import confirm

    return Outcome(confirm(settings))


def _compiled(name: str) -> Callable[[Settings], Outcome]:
    def action(settings: Settings) -> Outcome:
        from lacarte.changes import compiled

        return Outcome(getattr(compiled, name)(settings))

    return action


def _publish(settings: Settings) -> Outcome:
    from lacarte.changes.publication import publish

    return Outcome(publish(settings))


def _opendata_export(settings: Settings) -> Outcome:
    from lacarte.opendata.export import export_open_data

    result = export_open_data(settings)
    return Outcome(f"open data: {result.rows} actors in {result.destination}/{result.timestamped}")


ACTIONS: dict[str, Callable[[Settings], Outcome]] = {
    "pull": _pull("incremental"),
    "pull_full": _pull("run", full_reason="the daily full run"),
    "pull_reconcile": _pull("reconcile", full_reason="the weekly full reconciliation", reconcile=True),
    "build_slice": _compiled("build_slice"), "merge": _compiled("merge"), "changes": _compiled("changes"),
    "publish": _publish, "mark_built": _mark_built, "confirm": _confirm, "opendata_export": _opendata_export,
}


def run_action(settings: Settings, name: str) -> Outcome:
    return ACTIONS[name](settings)
