"""`lacarte demo-follow`: the follower at work, on demo data (never production).

It starts `lacarte follow` as a process of its own, waits until it watches the stream, renames
one actor the map shows (as the web app's admin would), times how long the new name takes to
appear in `qfdmo_displayedacteur`, then stops the follower with SIGTERM (it finishes its cycle).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from lacarte.db import connect
from lacarte.errors import UserError
from lacarte.guards import refuse_production
from lacarte.settings import Settings


@dataclass(frozen=True)
class Watched:
    acteur: str
    seconds: float  # committed -> shown on the map, as seen from here
    follower_seconds: float | None  # the follower's own measure (commit -> publication)


def _follower_state(settings: Settings) -> str:
    with connect(settings.database("warehouse")) as conn:
        if not conn.execute("select to_regclass('lacarte_state.follower') is not null").fetchone()[0]:
            return ""
        row = conn.execute("select state from lacarte_state.follower where heartbeat_at > clock_timestamp() "
                           "- interval '10 seconds'").fetchone()
        return row[0] if row else ""


def _cycles(settings: Settings) -> int:
    with connect(settings.database("warehouse")) as conn:
        return conn.execute("select cycles from lacarte_state.follower").fetchone()[0]


def watch_one_edit(settings: Settings, timeout: float = 300.0,
                   on_message: Callable[[str], None] = lambda _m: None) -> Watched:
    database = settings.database("webapp")
    refuse_production(settings, "editing demo data", [database])
    follower = subprocess.Popen([sys.executable, "-m", "lacarte", "--project-dir", str(settings.project.root),
                                 "follow"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, **{k: v for k, v in settings.values.items() if k.isupper()}})
    try:
        deadline = time.monotonic() + timeout
        while _follower_state(settings) != "waiting for changes":
            if follower.poll() is not None:
                raise UserError(f"the follower stopped: {(follower.stderr.read() or '').strip()[-2000:]}")
            if time.monotonic() > deadline:
                raise UserError(f"the follower did not start watching within {timeout:g} s")
            time.sleep(0.2)
        on_message(f"follower started (pid {follower.pid}), watching the webapp's change stream")
        cycles_before = _cycles(settings)
        with connect(database) as conn:
            acteur, name = conn.execute(
                "select identifiant_unique, nom from qfdmo_displayedacteur as d where exists (select from qfdmo_acteur "
                "as a where a.identifiant_unique = d.identifiant_unique) and not exists (select from "
                "qfdmo_revisionacteur as r where r.identifiant_unique = d.identifiant_unique) order by 1 limit 1"
            ).fetchone()
            new_name = f"{name.split(' (corrigé')[0]} (corrigé {time.strftime('%H:%M:%S')})"
            conn.execute("update qfdmo_acteur set nom = %s, modifie_le = now() where identifiant_unique = %s",
                         [new_name, acteur])
            committed = time.monotonic()
            on_message(f"renamed {acteur} to {new_name!r} in the webapp")
            while conn.execute("select nom from qfdmo_displayedacteur where identifiant_unique = %s",
                               [acteur]).fetchone() != (new_name,):
                if time.monotonic() - committed > timeout:
                    raise UserError(f"the new name did not reach the map within {timeout:g} s")
                time.sleep(0.05)
            seconds = time.monotonic() - committed
        # The follower records its own measure once its cycle has ended (after the publication).
        while _cycles(settings) <= cycles_before and time.monotonic() - committed < timeout:
            time.sleep(0.1)
        with connect(settings.database("warehouse")) as conn:
            row = conn.execute("select last_latency_seconds from lacarte_state.follower").fetchone()
        return Watched(acteur, seconds, row[0] if row else None)
    finally:
        follower.send_signal(signal.SIGTERM)
        try:
            follower.wait(timeout=300)
        except subprocess.TimeoutExpired:
            follower.kill()
