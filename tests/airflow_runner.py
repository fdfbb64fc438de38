"""Airflow's own command line (`airflow dags test`, a DagBag's inspection), run in one resident
process of Airflow's environment (.venv-airflow) for a test module: Airflow's start-up (about
8 s a command, measured) is paid once instead of at each command.

Each request is a JSON line on standard input: the settings to run with, over the process's
own environment (the DAG files and the tasks' commands read them), the command line, and a file for its output (Airflow's log and
the tasks' output, written to descriptors 1 and 2 while it runs). The answer is a JSON line on
the process's own standard output: the command's exit code.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback
from collections.abc import Callable


def exit_code(run: Callable[[], object]) -> int:
    """What a command line would exit with, `run` being its work: 0, SystemExit's code, or 1
    (with the traceback) when it raised."""
    try:
        run()
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 1
    except Exception:  # noqa: BLE001 - the command's failure is its answer, as from the CLI
        traceback.print_exc()
        return 1
    return 0


def run_command(argv: list[str]) -> int:
    """What `airflow <argv>` exits with, run in this process."""
    from airflow.cli.cli_parser import get_parser

    def command() -> None:
        args = get_parser().parse_args(argv)  # a bad command line exits 2, as the CLI does
        args.func(args)

    return exit_code(command)


def run_python(code: str, argv: list[str]) -> int:
    """What `python -c code argv...` exits with, run in this process."""
    saved = sys.argv
    sys.argv = ["-c", *argv]
    try:
        return exit_code(lambda: exec(compile(code, "<request>", "exec"), {"__name__": "__main__"}))  # noqa: S102
    finally:
        sys.argv = saved


@contextlib.contextmanager
def output_to(path: str):
    """Descriptors 1 and 2 (this process's and its children's output) written to `path`."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "w") as output:
        os.dup2(output.fileno(), 1)
        os.dup2(output.fileno(), 2)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for descriptor in saved:
            os.close(descriptor)


def main() -> None:
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # between requests, nothing else reaches the answers
    started_with = dict(os.environ)
    for line in sys.stdin:
        request = json.loads(line)
        for name in set(os.environ) - set(started_with):
            del os.environ[name]
        os.environ.update(started_with)
        os.environ.update(request["env"])  # this request's settings, over the process's own
        with output_to(request["output"]):
            if "airflow" in request:
                code = run_command(request["airflow"])
            else:
                code = run_python(request["python"], request.get("argv", []))
        answers.write(json.dumps({"returncode": code}) + "\n")


if __name__ == "__main__":
    main()
