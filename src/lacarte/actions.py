"""The steps of lacarte.steps that are not dbt invocations: the pull, the record of a full
build, and the confirmation of a publication."""

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


ACTIONS: dict[str, Callable[[Settings], Outcome]] = {
    "pull": _pull("incremental"),
    "pull_full": _pull("run", full_reason="the daily full run"),
    "pull_reconcile": _pull("reconcile", full_reason="the weekly full reconciliation", reconcile=True),
    "mark_built": _mark_built, "confirm": _confirm,
}


def run_action(settings: Settings, name: str) -> Outcome:
    return ACTIONS[name](settings)
