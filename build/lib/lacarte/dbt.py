"""Running dbt in-process (dbtRunner) on the project, with the settings' environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dbt.cli.main import dbtRunner, dbtRunnerResult

from lacarte.errors import StepFailure
from lacarte.settings import Settings


class DbtFailure(StepFailure):
    """A dbt invocation that did not succeed; the message names what failed."""


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    for key in [k for k in os.environ if k == "PGOPTIONS"]:
        del os.environ[key]
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_dbt(settings: Settings, args: list[str], quiet: bool = False,
            link_password_for: str | None = None) -> dbtRunnerResult:
    """Invoke `dbt <args>` in this process; raise DbtFailure with the failing nodes' messages.

    `link_password_for`: the target whose link refresh needs its remote role's password.
    """
    project = settings.project
    command = [*args, "--project-dir", str(project.root), "--profiles-dir", str(project.profiles_dir),
               "--target-path", str(target_path(settings, args))]
    if args and args[0] == "run-operation":
        command = ["--no-write-json", *command]  # operations need no manifest on disk: faster deploys
    if quiet:
        command = ["--quiet", *command]
    errors: list[str] = []

    def keep_errors(event: Any) -> None:
        if event.info.level == "error" and event.info.msg:
            errors.append(str(event.info.msg))

    with _environment(settings.dbt_environment(link_password_for)):
        result = dbtRunner(callbacks=[keep_errors]).invoke(command)
    if not result.success:
        raise DbtFailure(f"dbt {' '.join(args)} failed: {describe_failure(result, errors)}")
    return result


def target_path(settings: Settings, args: list[str]) -> Path:
    """dbt's artifacts for one target in a folder of their own: alternating targets (a deploy
    refreshes both sides) then keeps each target's partial parse instead of parsing again."""
    target = settings.values.get("DBT_TARGET", "warehouse")
    if "--target" in args:
        target = args[args.index("--target") + 1]
    base = Path(settings.values.get("DBT_TARGET_PATH") or settings.project.root / "target")
    return base / target


def describe_failure(result: dbtRunnerResult, errors: list[str] | None = None) -> str:
    """The messages of what failed in a dbt invocation (a failed run has exception=None)."""
    logged = [e for e in errors or [] if "Database Error" in e or "Compilation Error" in e
              or "Runtime Error" in e]
    if logged:
        return " | ".join(" ".join(line.strip() for line in e.splitlines() if line.strip()) for e in logged)
    if result.exception is not None:
        text = str(result.exception).strip()
        return " ".join(line.strip() for line in text.splitlines() if line.strip()) or repr(result.exception)
    messages = []
    for node_result in getattr(result.result, "results", None) or []:
        status = str(getattr(node_result, "status", "")).lower()
        if status in {"error", "fail", "runtime error"}:
            node = getattr(node_result, "node", None)
            name = getattr(node, "name", "?")
            message = (getattr(node_result, "message", "") or "").strip().splitlines()
            messages.append(f"{name}: {message[0] if message else status}")
    return "; ".join(messages) or "see logs/dbt.log"


def parse_manifest(settings: Settings) -> Any:
    """The project's manifest (dbt parse, in this process): the graph the tools read."""
    return run_dbt(settings, ["parse"], quiet=True).result
