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


def _pull(settings: Settings) -> Outcome:
    from lacarte.changes.pull import pull

    result = pull(settings, "incremental")
    return Outcome(result.summary(), result.mode)


def _pull_full(settings: Settings) -> Outcome:
    from lacarte.changes.pull import pull

    result = pull(settings, "run", full_reason="the daily full run")
    return Outcome(result.summary(), result.mode)


def _pull_reconcile(settings: Settings) -> Outcome:
    from lacarte.changes.pull import pull

    result = pull(settings, "reconcile", full_reason="the weekly full reconciliation", reconcile=True)
    return Outcome(result.summary(), result.mode)


def _mark_built(settings: Settings) -> Outcome:
    from lacarte.changes.confirm import mark_built

    return Outcome(mark_built(settings))


def _confirm(settings: Settings) -> Outcome:
    from lacarte.changes.confirm import confirm

    return Outcome(confirm(settings))


ACTIONS: dict[str, Callable[[Settings], Outcome]] = {
    "pull": _pull, "pull_full": _pull_full, "pull_reconcile": _pull_reconcile,
    "mark_built": _mark_built, "confirm": _confirm,
}


def run_action(settings: Settings, name: str) -> Outcome:
    return ACTIONS[name](settings)
