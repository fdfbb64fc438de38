"""Running dbt in-process (dbtRunner) with the project's environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from dbt.cli.main import dbtRunner, dbtRunnerResult

from lacarte.errors import UserError
from lacarte.settings import PROJECT_DIR, Settings


class DbtFailure(UserError):
    """A dbt invocation that did not succeed; the message names what failed."""


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_dbt(settings: Settings, args: list[str], quiet: bool = False) -> dbtRunnerResult:
    """Invoke `dbt <args>` in this process; raise DbtFailure with the failing nodes' messages."""
    command = [*args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR / "profiles")]
    if args and args[0] == "run-operation":
        command = ["--no-write-json", *command]  # operations need no manifest on disk: faster deploys
    if quiet:
        command = ["--quiet", *command]
    errors: list[str] = []

    def keep_errors(event) -> None:
        if event.info.level == "error" and event.info.msg:
            errors.append(str(event.info.msg))

    with _environment(settings.dbt_environment()):
        result = dbtRunner(callbacks=[keep_errors]).invoke(command)
    if not result.success:
        raise DbtFailure(f"dbt {' '.join(args)} failed: {describe_failure(result, errors)}")
    return result


def describe_failure(result: dbtRunnerResult, errors: list[str] | None = None) -> str:
    """The messages of what failed in a dbt invocation (a failed run has exception=None)."""
    logged = [e for e in errors or [] if "Database Error" in e or "Compilation Error" in e]
    if logged:
        return " | ".join(" ".join(line.strip() for line in e.splitlines()) for e in logged)
    if result.exception is not None:
        return str(result.exception).strip().splitlines()[-1] if str(result.exception).strip() else repr(result.exception)
    messages = []
    for node_result in getattr(result.result, "results", None) or []:
        status = str(getattr(node_result, "status", "")).lower()
        if status in {"error", "fail", "runtime error"}:
            node = getattr(node_result, "node", None)
            name = getattr(node, "name", "?")
            message = (getattr(node_result, "message", "") or "").strip().splitlines()
            messages.append(f"{name}: {message[0] if message else status}")
    return "; ".join(messages) or "see logs/dbt.log"
