"""The `lacarte` command: every tool of the platform, one subcommand each.

Exit codes: 0 done; 1 a step failed (rerun after fixing: every step is atomic or
idempotent); 2 bad configuration or input (nothing was done); 75 another job holds the
warehouse, nothing was done (`lacarte status` shows which; Airflow marks the task failed);
99 an incremental run found nothing changed and nothing owed (Airflow marks the task skipped).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from lacarte.errors import UserError
from lacarte.steps import JOBS, NOTHING_CHANGED_EXIT_CODE, OPENDATA, WAREHOUSE_BUSY_EXIT_CODE

console = Console()
err_console = Console(stderr=True)


def _settings(args: argparse.Namespace):
    from lacarte.project import Project
    from lacarte.settings import Settings

    return Settings(Project.find(args.project_dir))


# -- instances ------------------------------------------------------------------------------------
def cmd_instances(args: argparse.Namespace) -> int:
    from lacarte.instances.cluster import Instances

    settings = _settings(args)
    if args.action == "env":
        for key, value in settings.values.items():
            if key.startswith(("WEBAPP_", "WAREHOUSE_", "LACARTE_", "ANALYST_", "DBT_")) and not key.endswith(
                    "_READER_PASSWORD") and key != "LACARTE_ADMIN_PASSWORD":
                print(f"export {key}={shlex.quote(value)}")
        print(f"export DBT_PROFILES_DIR={shlex.quote(str(settings.project.profiles_dir))}")
        return 0
    instances = Instances(settings)
    if args.action in ("reset", "down") and settings.environment == "production":
        raise UserError(f"LACARTE_ENVIRONMENT is production: `lacarte instances {args.action}` is refused")
    if args.action != "status":
        getattr(instances, args.action)(progress=console.print)
    _print_instances(instances)
    return 0


def _print_instances(instances) -> None:
    table = Table("instance", "state", "address", "data", "log", title="local PostgreSQL instances")
    for row in instances.status():
        table.add_row(*row.values())
    console.print(table)


# -- demo data --------------------------------------------------------------------------------------
def cmd_demo_data(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from lacarte.demo import demo_steps, generate

    if args.acteurs < 1:
        raise UserError("--acteurs must be at least 1")
    settings = _settings(args)
    total = len(demo_steps(args.acteurs, args.seed)) + 1
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task(f"demo data: {args.acteurs:,} actors", total=total)

        def advance(label: str, seconds: float) -> None:
            bar.console.print(f"  {label}: {seconds:.1f} s")
            bar.advance(task)

        counts = generate(settings, args.acteurs, args.seed, on_step=advance)
    table = Table("table", "rows", title="webapp demo data")
    for name, rows in counts.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    return 0


def cmd_demo_edit(args: argparse.Namespace) -> int:
    from lacarte.edits import edit_share

    if not isinstance(args.share, float) or not 0 < args.share <= 0.5:
        raise UserError("--share must be a number above 0 and at most 0.5 (0.01 is 1 %)")
    counts = edit_share(_settings(args), args.share, args.seed)
    table = Table("change", "rows", title=f"webapp edited ({args.share:.1%} of the actors): now `lacarte run --incremental`")
    for kind, rows in counts.items():
        table.add_row(kind, f"{rows:,}")
    console.print(table)
    return 0


def cmd_demo_follow(args: argparse.Namespace) -> int:
    from lacarte.demo_follow import watch_one_edit

    def on_message(message: str) -> None:
        console.print(message, markup=False, highlight=False, soft_wrap=True)

    watched = watch_one_edit(_settings(args), on_message=on_message)
    own = f" (the follower's own measure, commit to publication: {watched.follower_seconds:.2f} s)" \
        if watched.follower_seconds is not None else ""
    console.print(f"the correction of {watched.acteur} reached the map {watched.seconds:.2f} s after its commit{own}; "
                  "the follower was stopped (run it resident: `lacarte follow`, README)",
                  markup=False, highlight=False, soft_wrap=True)
    return 0


# -- jobs -------------------------------------------------------------------------------------------
def _run_job(args: argparse.Namespace, job: str) -> int:
    from dataclasses import replace

    from lacarte.pipeline import run_steps
    from lacarte.steps import JOBS

    steps = JOBS[job]
    if getattr(args, "list", False):
        for step in steps:
            console.print(f"{step.name:16} {step.summary}")
        return 0
    if getattr(args, "step", None):
        steps = tuple(s for s in steps if s.name == args.step)
        if not steps:
            raise UserError(f"job {job} has no step {args.step!r}; its steps: {', '.join(s.name for s in JOBS[job])}")
    if getattr(args, "dry_run", False):
        steps = tuple(replace(s, dbt=(*s.dbt, "--args", "{dry_run: true}")) for s in steps if s.dbt)
    settings = _settings(args)
    started = time.monotonic()

    def on_step(step) -> None:
        console.rule(f"{job}: {step.name}")
        console.print(step.summary)

    result = run_steps(settings, steps, on_step=on_step, on_message=lambda m: console.print(f"[bold]{m}[/bold]"), job=job)
    console.print(f"[green]{job}: {', '.join(f'{k} {v:.1f} s' for k, v in result.seconds.items())} "
                  f"(total {time.monotonic() - started:.1f} s)[/green]")
    if result.busy:
        err_console.print(f"{job}: did nothing, another job holds the warehouse (`lacarte status` shows which); "
                          f"exit {WAREHOUSE_BUSY_EXIT_CODE}")
        return WAREHOUSE_BUSY_EXIT_CODE
    if result.nothing_changed:
        return NOTHING_CHANGED_EXIT_CODE
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    return _run_job(args, "deploy")


def cmd_run(args: argparse.Namespace) -> int:
    if args.incremental and args.reconcile:
        raise UserError("--incremental and --reconcile exclude each other")
    return _run_job(args, "incremental" if args.incremental else "reconcile" if args.reconcile else "run")


# -- the sample --------------------------------------------------------------------------------------
def cmd_sample(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.action == "dump":
        from lacarte.sample.dump import dump_sample

        path = dump_sample(settings, Path(args.file))
        console.print(f"wrote {path}: restore with `pg_restore --no-owner --no-acl -d <database> {path}` into a "
                      "database whose extensions an administrator created")
        return 0
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from lacarte.sample.build import STEPS, SampleBuilder

    builder = SampleBuilder(settings, args.epci)
    names = builder.names
    if args.dry_run:
        builder.preflight()
        plan = builder.make_plan()
        console.print(f"territories: {', '.join(builder.territories)}")
        for step, description in STEPS.items():
            console.print(f"  {step}: {description.format(next=names.next, live=names.live)}")
        table = Table("table", "rule", "detail", title="what the sample does with each table (var webapp_tables)")
        for name, table_plan in sorted(plan.tables.items()):
            detail = table_plan.acteur_column or (f"set NULL: {', '.join(table_plan.detached)}" if table_plan.detached else "")
            table.add_row(name, table_plan.kind, detail)
        console.print(table)
        return 0
    started = time.monotonic()
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("sample", total=len(STEPS))
        done: list[str] = []

        def on_step(step: str) -> None:
            if done:
                bar.advance(task)
            done.append(step)
            bar.update(task, description=f"sample: {STEPS[step].format(next=names.next, live=names.live)}")

        def on_table(name: str) -> None:
            bar.update(task, description=f"sample: copied {name}")

        counts = builder.run(on_step=on_step, on_table=on_table)
        bar.advance(task)
    table = Table("table", "rows", title=f"{names.live}: {', '.join(builder.territories)}")
    for name, rows in counts.items():
        if rows:
            table.add_row(name, f"{rows:,}")
    console.print(table)
    console.print(f"sample swapped in after {time.monotonic() - started:.1f} s")
    return 0


# -- open data --------------------------------------------------------------------------------------
def cmd_opendata(args: argparse.Namespace) -> int:
    from rich.progress import Progress, TextColumn, TimeElapsedColumn

    from lacarte.opendata.export import export_open_data

    settings = _settings(args)
    with Progress(TextColumn("{task.description}"), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("open data")

        def on_message(message: str) -> None:
            bar.update(task, description=f"open data: {message}")

        def on_progress(written: int) -> None:
            bar.update(task, description=f"open data: {written / 1e6:,.1f} MB written aside")

        result = export_open_data(settings, to=args.to, keep=args.keep, on_message=on_message, on_progress=on_progress)
    before = f" (was {result.previous_rows:,})" if result.previous_rows is not None else ""
    console.print(f"open data: {result.rows:,} actors{before} in {result.destination}/{result.timestamped}, "
                  f"now acteurs.csv with its datapackage.json"
                  + (f"; removed {', '.join(result.removed)}" if result.removed else ""))
    return 0


# -- status -----------------------------------------------------------------------------------------
def cmd_lint_macros(args: argparse.Namespace) -> int:
    from lacarte import macro_lint
    from lacarte.project import Project

    project = Project.find(args.project_dir)
    paths = [Path(path) for path in args.files] or macro_lint.macro_files(project.root)
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        raise UserError(f"no such macro file: {', '.join(missing)}")
    findings = macro_lint.lint(paths, project.root)
    for finding in findings:
        console.print(str(finding), markup=False, highlight=False, soft_wrap=True)
    console.print(f"{len(paths)} macro file(s), {len(findings)} finding(s)")
    return 1 if findings else 0


def cmd_follow(args: argparse.Namespace) -> int:
    from lacarte.changes.follow import FollowOptions, follow

    settings = _settings(args)
    options = FollowOptions(window=args.window, poll=args.poll)

    def on_message(message: str) -> None:
        console.print(f"{time.strftime('%H:%M:%S')} {message}", markup=False, highlight=False, soft_wrap=True)

    follow(settings, options, max_cycles=args.cycles, on_message=on_message)
    return 0


def _non_negative_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= value <= 60:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0 and 60 seconds")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def cmd_status(args: argparse.Namespace) -> int:
    from lacarte.status import print_status

    print_status(_settings(args), console)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lacarte", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project-dir", metavar="DIR",
                        help="the dbt project (default: $LACARTE_PROJECT_DIR, else found from the current directory)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[[argparse.Namespace], int], help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    instances = add("instances", cmd_instances, "the two local PostgreSQL instances (TLS, roles, fixture)")
    instances.add_argument("action", choices=["up", "down", "status", "env", "reset"],
                           help="up: create/start/provision; down: stop; status; env: export lines for a shell; "
                                "reset: wipe and recreate")
    demo = add("demo-data", cmd_demo_data, "replace the webapp's rows with deterministic demo data (never production)")
    demo.add_argument("--acteurs", type=int, default=20_000, help="number of actors (default 20000)")
    demo.add_argument("--seed", type=int, default=42, help="the same seed gives the same data (default 42)")
    edit = add("demo-edit", cmd_demo_edit, "edit a share of the demo actors as the web app would (never production)")
    edit.add_argument("--share", type=float, default=0.01, help="share of the actors edited (default 0.01)")
    edit.add_argument("--seed", type=int, default=1, help="which actors (default 1)")
    add("demo-follow", cmd_demo_follow, "start the follower, rename one demo actor, time its arrival on the map, "
                                        "stop the follower (never production)")
    deploy = add("deploy", cmd_deploy, "the deploy step, right after the web app's migrations: refresh both links")
    deploy.add_argument("--dry-run", action="store_true", help="print the statements, change nothing")
    deploy.add_argument("--list", action="store_true", help="list the steps")
    run = add("run", cmd_run, "the main job (daily, full): check the link, pull, build, prepare the change set, "
                              "link, publish, confirm")
    run.add_argument("--incremental", action="store_true",
                     help="only the actors that changed since the last run (every few minutes; exit 99 when "
                          "nothing changed)")
    run.add_argument("--reconcile", action="store_true",
                     help="a full run whose publication compares every row the webapp holds (weekly)")
    run.add_argument("--step", choices=sorted({s.name for name, job in JOBS.items() if name not in ("deploy", "opendata")
                                               for s in job}),
                     help="run one step only (what each Airflow task does)")
    run.add_argument("--list", action="store_true", help="list the steps")
    sample = add("sample", cmd_sample, "webapp_sample: build it aside and swap it in, or export it")
    sample.add_argument("action", choices=["build", "dump"], help="build: rebuild the sample; dump: write an archive")
    sample.add_argument("file", nargs="?", help="dump: the archive to write")
    sample.add_argument("--epci", nargs="+", metavar="CODE", help="build: EPCI codes instead of the seed's territories")
    sample.add_argument("--dry-run", action="store_true", help="build: print the plan and the copy rules, change nothing")
    opendata = add("opendata", cmd_opendata, "the weekly open-data file: written aside, validated, then swapped in")
    opendata.add_argument("action", choices=[step.name for step in OPENDATA],
                          help="export: write the file and replace acteurs.csv")
    opendata.add_argument("--to", metavar="DEST",
                          help="a folder (default $LACARTE_OPENDATA_DESTINATION, else opendata/ in the project) "
                               "or s3://BUCKET/PREFIX")
    opendata.add_argument("--keep", type=int, help="timestamped copies kept (default var opendata_keep_files)")
    follow = add("follow", cmd_follow, "the resident follower: each correction committed in the webapp reaches the "
                                       "map within seconds (runs until SIGTERM; see the README for a systemd unit)")
    from lacarte.changes.options import DEFAULTS as defaults

    follow.add_argument("--window", type=_non_negative_seconds, default=defaults.window,
                        help=f"seconds to gather a burst of changes before a cycle (default {defaults.window:g})")
    follow.add_argument("--poll", type=_non_negative_seconds, default=defaults.poll,
                        help=f"seconds between looks at the change stream while nothing changes (default {defaults.poll:g})")
    follow.add_argument("--cycles", type=_positive_int, help="stop after this many cycles (tests, demos)")
    lint_macros = add("lint-macros", cmd_lint_macros,
                      "lint the SQL of the dbt macros with the project's sqlfluff rules (no database)")
    lint_macros.add_argument("files", nargs="*", help="macro files (default: every file under macros/)")
    add("status", cmd_status, "the instances, the links, the published tables and the sample")
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "sample" and args.action == "dump" and not args.file:
        parser.error("lacarte sample dump needs the FILE to write")
    try:
        code = args.handler(args)
    except UserError as error:
        err_console.print(f"error: {error}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    sys.exit(code or 0)
