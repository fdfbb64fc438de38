"""`lacarte demo-follow`: the follower at work, on demo data (never production).

It starts `lacarte follow` as a process of its own, waits until it watches the stream, renames
one actor the map shows (as the web app's admin would), times how long the new name takes to
appear in `qfdmo_displayedacteur`, then stops the follower with SIGTERM (it finishes its cycle).
The benchmark of the follower (bench/follower.py) drives it with the same pieces.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lacarte.changes.follow import read_follower
from lacarte.db import connect
from lacarte.errors import UserError
from lacarte.guards import refuse_production
from lacarte.settings import Database, Settings

WATCHING = "waiting for changes"


@dataclass(frozen=True)
class Watched:
    acteur: str
    seconds: float  # committed -> shown on the map, as seen from here
    follower_seconds: float | None  # the follower's own measure (commit -> publication)


class FollowerProcess:
    """`lacarte follow` as a process of its own (`prefix`: e.g. `taskset -c 1`)."""

    def __init__(self, settings: Settings, prefix: Sequence[str] = ()):
        self.settings = settings
        env = {**os.environ, **{k: v for k, v in settings.values.items() if k.isupper()}}
        self.process = subprocess.Popen(
            [*prefix, sys.executable, "-m", "lacarte", "--project-dir", str(settings.project.root), "follow"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def wait_watching(self, timeout: float = 600.0) -> None:
        """Until this process's follower waits for changes (started, or its cycle ended)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise UserError(f"the follower stopped: {(self.process.stderr.read() or '').strip()[-2000:]}")
            found = read_follower(self.settings)
            if found and found.pid == self.process.pid and found.state == WATCHING:
                return
            if time.monotonic() > deadline:
                raise UserError(f"the follower did not start watching within {timeout:g} s")
            time.sleep(0.2)

    def cycles(self) -> int:
        found = read_follower(self.settings)
        return found.cycles if found else 0

    def wait_cycles(self, count: int, timeout: float = 600.0) -> None:
        """Until this process has ended `count` cycles and waits for changes again."""
        deadline = time.monotonic() + timeout
        while self.cycles() < count:
            if time.monotonic() > deadline:
                raise UserError(f"the follower did not end cycle {count} within {timeout:g} s")
            time.sleep(0.05)
        self.wait_watching(timeout)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=600)
        except subprocess.TimeoutExpired:
            self.process.kill()


def shown_acteurs(database: Database, count: int) -> list[str]:
    """Actors the map shows whose own row decides what it shows (no revision)."""
    with connect(database) as conn:
        return [r[0] for r in conn.execute(
            "select identifiant_unique from qfdmo_displayedacteur as d where exists (select from qfdmo_acteur as a "
            "where a.identifiant_unique = d.identifiant_unique) and not exists (select from qfdmo_revisionacteur as r "
            "where r.identifiant_unique = d.identifiant_unique) order by md5(identifiant_unique) limit %s",
            [count]).fetchall()]


def rename_and_wait(database: Database, acteur: str, name: str, timeout: float = 300.0) -> float:
    """Commit a new name, as the web app's admin would; the seconds until the map shows it."""
    with connect(database) as conn:
        conn.execute("update qfdmo_acteur set nom = %s, modifie_le = now() where identifiant_unique = %s",
                     [name, acteur])
        committed = time.perf_counter()
        while conn.execute("select nom from qfdmo_displayedacteur where identifiant_unique = %s",
                           [acteur]).fetchone() != (name,):
            if time.perf_counter() - committed > timeout:
                raise UserError(f"{acteur}'s new name did not reach the map within {timeout:g} s: is the follower "
                                "running? (`lacarte status`)")
            time.sleep(0.02)
        return time.perf_counter() - committed


def watch_one_edit(settings: Settings, timeout: float = 300.0,
                   on_message: Callable[[str], None] = lambda _m: None) -> Watched:
    database = settings.database("webapp")
    refuse_production(settings, "editing demo data", [database])
    follower = FollowerProcess(settings)
    try:
        follower.wait_watching(timeout)
        on_message(f"follower started (pid {follower.process.pid}), watching the webapp's change stream")
        cycles_before = follower.cycles()
        acteur = shown_acteurs(database, 1)[0]
        with connect(database) as conn:
            name = conn.execute("select nom from qfdmo_acteur where identifiant_unique = %s", [acteur]).fetchone()[0]
        new_name = f"{name.split(' (corrigé')[0]} (corrigé {time.strftime('%H:%M:%S')})"
        on_message(f"renaming {acteur} to {new_name!r} in the webapp")
        seconds = rename_and_wait(database, acteur, new_name, timeout)
        # The follower records its own measure once its cycle has ended (after the publication).
        follower.wait_cycles(cycles_before + 1, timeout)
        found = read_follower(settings)
        return Watched(acteur, seconds, found.last_latency_seconds if found else None)
    finally:
        follower.stop()
