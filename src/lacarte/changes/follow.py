"""`lacarte follow`: the resident follower, which brings the webapp's corrections to the map.

It watches the webapp's change stream (lacarte.changes.stream), not a clock: while nothing the
platform tracks was committed, it only asks the stream, a few times a second, and lets it
forget what it read (it reads one small query's worth of WAL). When something was committed,
it waits `window` seconds for the rest of the burst, then runs the incremental job
(lacarte.steps.INCREMENTAL_JOB: the same steps the every-minute fallback runs, under the same
job lock), which rebuilds and publishes only the affected actors.

- Heartbeat and lag: lacarte_state.follower (this module is its only writer), shown by
  `lacarte status`: when it last looked, what it is doing, the last cycle's duration and the
  time from the oldest commit it carried to its publication.
- One job at a time: while the daily or weekly job holds the warehouse, its cycles step aside
  and try again every `busy_wait` seconds. The lock names the follower's warehouse session,
  so after a SIGKILL the next follower takes it at once.
- Resumes where it stopped: the stream forgets changes only once the warehouse recorded what
  they owe (to_build, to_publish), and every step is atomic or idempotent.
- SIGTERM or SIGINT: it finishes the cycle under way and stops.
"""

from __future__ import annotations

import gc
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg.types.json import Jsonb

from lacarte.changes.options import DEFAULTS, FollowOptions
from lacarte.changes.state import SCHEMA, ensure_state
from lacarte.changes.stream import ChangeStream, Columns, SlotBusy, open_stream, record_position, stream_columns
from lacarte.changes.tracking import read_sources
from lacarte.db import connect, reusing_connections
from lacarte.dbt import parse_manifest
from lacarte.errors import StepFailure
from lacarte.settings import Settings
from lacarte.steps import INCREMENTAL_JOB

# The longest wait between two tries after failed cycles (the waits double from busy_wait).
MAX_RETRY_SECONDS = 300.0

FOLLOWER_DDL = f"""
create table if not exists {SCHEMA}.follower (
    singleton boolean primary key default true check (singleton),
    host text not null,
    pid integer not null,
    started_at timestamptz not null,
    heartbeat_at timestamptz not null,
    state text not null,
    cycles bigint not null default 0,
    last_cycle_at timestamptz,
    last_cycle_seconds double precision,
    last_latency_seconds double precision
);
alter table {SCHEMA}.follower add column if not exists last_cycle_steps jsonb
"""


@dataclass(frozen=True)
class Cycle:
    """One incremental run the follower made."""

    mode: str | None
    seconds: float
    latency: float | None  # oldest commit carried -> published
    messages: tuple[str, ...]


class Follower:
    def __init__(self, settings: Settings, options: FollowOptions = DEFAULTS,
                 on_message: Callable[[str], None] = lambda _m: None):
        self.settings = settings
        self.options = options
        self.on_message = on_message
        self.stop = threading.Event()
        self.last_heartbeat = 0.0
        self.idle_position: str | None = None  # the last position where nothing awaited
        self.cycles: list[Cycle] = []  # this run's cycles, as they are made

    def run(self, max_cycles: int | None = None) -> list[Cycle]:
        """Follow until stopped (or `max_cycles` incremental runs); the cycles made. The
        cycles' sessions stay open between their steps and cycles (lacarte.db)."""
        with reusing_connections():
            return self._follow(max_cycles)

    def _follow(self, max_cycles: int | None) -> list[Cycle]:
        self.cycles = cycles = []
        manifest = parse_manifest(self.settings)
        parse_manifest(self.settings, "webapp")  # the publication's fallback, parsed once too
        # The parsed project stays for the follower's life: out of the collector's way, a
        # cycle no longer pays a full collection of it (0.15 s, one cycle in eight, measured).
        gc.collect()
        gc.freeze()
        with (connect(self.settings.database("warehouse")) as warehouse, open_stream(self.settings) as stream,
              connect(self.settings.database("webapp", user=self.settings.link_user("warehouse"))) as webapp):
            with warehouse.transaction():
                ensure_state(warehouse)
                warehouse.execute(FOLLOWER_DDL)
                warehouse.execute(
                    f"insert into {SCHEMA}.follower (host, pid, started_at, heartbeat_at, state) values "
                    "(%s, %s, clock_timestamp(), clock_timestamp(), 'starting') on conflict (singleton) do update set "
                    "host = excluded.host, pid = excluded.pid, started_at = excluded.started_at, "
                    "heartbeat_at = excluded.heartbeat_at, state = excluded.state, cycles = 0",
                    [socket.gethostname(), os.getpid()])
            tables = stream_columns(read_sources(manifest, self.settings.project.dbt_vars, webapp))
            self._compile(warehouse)
            self.on_message(f"following the webapp's changes to {len(tables)} tables (slot {stream.slot})")
            # What an earlier run left owed (a follower killed mid-cycle, a failed cycle) is
            # looked at on start and after a failure or a wait for another job.
            check_owed = True
            failures = 0
            while not self.stop.is_set() and (max_cycles is None or len(cycles) < max_cycles):
                owed = check_owed and self._owed(warehouse)
                check_owed = False
                if owed:
                    pass  # a cycle now
                elif not self._changed(stream, warehouse, tables):
                    self._beat(warehouse, "waiting for changes")
                    self.stop.wait(self.options.poll)
                    continue
                else:
                    self.stop.wait(self.options.window)  # the rest of the burst
                try:
                    cycle = self._cycle(warehouse)
                except (StepFailure, SlotBusy) as error:  # a bad configuration stops the follower
                    failures += 1
                    delay = min(self.options.busy_wait * 2 ** failures, MAX_RETRY_SECONDS)
                    self._beat(warehouse, f"the last cycle failed ({error}); trying again in {delay:g} s", force=True)
                    self.on_message(f"cycle failed: {error}; trying again in {delay:g} s")
                    self.stop.wait(delay)
                    check_owed = True
                    continue
                failures = 0
                if cycle is None:
                    self.stop.wait(self.options.busy_wait)
                    check_owed = True
                    continue
                cycles.append(cycle)
        return cycles

    def _compile(self, warehouse: psycopg.Connection) -> None:
        """The cycle's SQL compiled before the first change arrives (at best: a cycle compiles
        what it lacks, and says why it cannot)."""
        from lacarte.changes import compiled, publication

        try:
            compiled.slice_and_merge(self.settings, warehouse)
            compiled.change_set(self.settings, warehouse)
            with connect(self.settings.database("webapp")) as webapp:
                publication.publication_plan(self.settings, warehouse, webapp)
        except (StepFailure, psycopg.Error) as error:
            self.on_message(f"the cycle's SQL will be compiled by the first cycle ({error})")

    def _owed(self, warehouse: psycopg.Connection) -> bool:
        from lacarte.changes.report import freshness

        found = freshness(warehouse)
        return bool(found and found.owed)

    def _changed(self, stream: ChangeStream, warehouse: psycopg.Connection, tables: dict[str, Columns]) -> bool:
        """Whether a cycle is due: a change awaits, or the slot is gone (the cycle's pull
        recreates it, and the run is full). While the webapp writes no WAL, a look is one
        small query; when it wrote some with nothing for the platform, the stream forgets it
        (the warehouse records the position first, as a pull does)."""
        upto = stream.position()
        if upto == self.idle_position:
            return False
        state = stream.state()
        if not state.exists or state.lost:
            return True
        if stream.has_changes(upto, tables):
            return True
        if state.confirmed != upto:
            with warehouse.transaction():
                record_position(warehouse, stream.slot, upto)
            stream.advance(upto)
        self.idle_position = upto
        return False

    def _cycle(self, warehouse: psycopg.Connection) -> Cycle | None:
        """One incremental run; None when another job holds the warehouse."""
        from lacarte.pipeline import run_steps

        self._beat(warehouse, "running an incremental cycle", force=True)
        started = time.monotonic()
        result = run_steps(self.settings, INCREMENTAL_JOB, quiet=True, job="incremental")
        seconds = time.monotonic() - started
        if result.busy:
            self._beat(warehouse, f"stepped aside: {'; '.join(result.messages)}", force=True)
            self.on_message(f"stepped aside: {'; '.join(result.messages)}")
            return None
        latency = None
        if result.mode == "incremental":
            row = warehouse.execute(
                f"select extract(epoch from published_at - first_change_at) from {SCHEMA}.runs "
                f"where run_id = (select max(run_id) from {SCHEMA}.runs where mode = 'incremental')").fetchone()
            latency = float(row[0]) if row and row[0] is not None else None
        with warehouse.transaction():
            warehouse.execute(
                f"update {SCHEMA}.follower set cycles = cycles + 1, last_cycle_at = clock_timestamp(), "
                "last_cycle_seconds = %s, last_cycle_steps = %s, last_latency_seconds = coalesce(%s, "
                "last_latency_seconds), heartbeat_at = clock_timestamp(), state = 'waiting for changes'",
                [seconds, Jsonb(result.seconds), latency])
        cycle = Cycle(result.mode, seconds, latency, tuple(result.messages))
        self.on_message(f"cycle: {result.mode}, {seconds:.1f} s"
                        + (f", committed -> published in {latency:.1f} s" if latency is not None else ""))
        return cycle

    def _beat(self, warehouse: psycopg.Connection, state: str, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_heartbeat < self.options.heartbeat:
            return
        self.last_heartbeat = now
        with warehouse.transaction():
            warehouse.execute(f"update {SCHEMA}.follower set heartbeat_at = clock_timestamp(), state = %s", [state])


@dataclass(frozen=True)
class FollowerRecord:
    """The follower's row of lacarte_state.follower."""

    host: str
    pid: int
    heartbeat_age: float  # seconds
    state: str
    cycles: int
    last_cycle_seconds: float | None
    last_latency_seconds: float | None
    last_cycle_steps: dict[str, float] | None  # seconds per step of the last cycle


def read_follower(settings: Settings) -> FollowerRecord | None:
    """The last follower's record, or None when none has run."""
    with connect(settings.database("warehouse")) as conn:
        if not conn.execute("select to_regclass(%s) is not null", [f"{SCHEMA}.follower"]).fetchone()[0]:
            return None
        row = conn.execute(
            f"select host, pid, extract(epoch from clock_timestamp() - heartbeat_at)::float8, state, cycles, "
            # A record left by an earlier version may lack the newer columns: read them by name.
            f"last_cycle_seconds, last_latency_seconds, to_jsonb(f) -> 'last_cycle_steps' from {SCHEMA}.follower as f"
        ).fetchone()
    return FollowerRecord(*row) if row else None


def follower_status(settings: Settings) -> str | None:
    """One line: the follower's host and pid, its heartbeat's age, its state, its last cycle."""
    found = read_follower(settings)
    if found is None:
        return None
    line = (f"pid {found.pid} on {found.host}, heartbeat {found.heartbeat_age:.0f} s ago, {found.state}; "
            f"{found.cycles} cycle(s)")
    if found.last_cycle_seconds is not None:
        line += f", the last took {found.last_cycle_seconds:.1f} s"
    if found.last_cycle_steps:
        line += " (" + ", ".join(f"{step} {seconds:.2f}" for step, seconds in found.last_cycle_steps.items()) + ")"
    if found.last_latency_seconds is not None:
        line += f", committed -> published in {found.last_latency_seconds:.1f} s"
    return line


def follow(settings: Settings, options: FollowOptions = DEFAULTS, max_cycles: int | None = None,
           on_message: Callable[[str], None] = lambda _m: None) -> list[Cycle]:
    """Run a follower in this process; SIGTERM and SIGINT end it after the cycle under way."""
    follower = Follower(settings, options, on_message)
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda _s, _f: follower.stop.set())
    return follower.run(max_cycles)
