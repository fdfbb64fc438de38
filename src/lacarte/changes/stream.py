"""The webapp's change stream: its committed changes, by logical decoding (wal2json).

The webapp keeps a logical replication slot for the platform (var change_stream.slot). The
stream role (var change_stream.role: REPLICATION, no privilege on any table) reads it with
SQL functions, in read-only transactions:
- `position()`: the webapp's WAL position flushed to disk (what decoding can read);
- `read(upto)`: the changes of the transactions committed before `upto`, to the tracked
  tables, without consuming them (pg_logical_slot_peek_changes): table, action, the row's key
  and actor column (new row) and its old key (updates and deletes);
- `advance(upto)`: once the warehouse has recorded what those changes owe, the slot forgets
  them (pg_replication_slot_advance). A process killed in between reads them again: the
  actors they name are rebuilt twice, never missed.
The slot's retained WAL is bounded by the webapp's `max_slot_wal_keep_size`; past it the slot
is invalidated (`wal_status = 'lost'`), and the next run is full and says why.

A position in the WAL, not counters read beside a snapshot: a transaction is in exactly one
read, the one whose `upto` is after its commit.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from lacarte.changes.tracking import Sources
from lacarte.db import connect
from lacarte.errors import UserError
from lacarte.settings import Settings

PLUGIN = "wal2json"
# How long a call waits while another process reads the slot.
BUSY_SECONDS = 10.0
# A slot busy in another session (another reader of the stream): try again later.
SLOT_IN_USE = "is active for PID"


@dataclass(frozen=True)
class Change:
    """One row changed in the webapp (or a table emptied: action T)."""

    table: str
    action: str  # I, U, D or T
    key: str | None = None  # the new row's key (I, U)
    acteur: str | None = None  # the new row's actor column (I, U)
    old_key: str | None = None  # the old row's key (U, D)
    committed_at: datetime | None = None


@dataclass(frozen=True)
class SlotState:
    exists: bool
    lost: bool = False
    confirmed: str | None = None  # the position the slot was advanced to
    lag_bytes: int = 0  # WAL written since then


@dataclass(frozen=True)
class Columns:
    """Which columns of a tracked table the stream reports: its key and its actor column."""

    key: str
    acteur: str


def stream_settings(settings: Settings) -> tuple[str, str]:
    """(slot, role) from var change_stream, refused when missing or malformed."""
    config = settings.project.dbt_vars.get("change_stream")
    if not isinstance(config, dict) or not all(isinstance(config.get(k), str) and config.get(k).strip() == config.get(k)
                                                and config.get(k) for k in ("slot", "role")):
        raise UserError(f"var change_stream must give the replication slot and the role that reads it, as "
                        f"{{slot: lacarte_changes, role: webapp_stream}}, not {config!r} (dbt_project.yml); nothing was done")
    return config["slot"], config["role"]


class ChangeStream:
    """The platform's slot on the webapp, read as the stream role."""

    def __init__(self, settings: Settings, conn: psycopg.Connection):
        self.slot, self.role = stream_settings(settings)
        self.conn = conn

    def state(self) -> SlotState:
        row = self.conn.execute(
            "select wal_status = 'lost', confirmed_flush_lsn::text, "
            "coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn), 0)::bigint "
            "from pg_replication_slots where slot_name = %s", [self.slot]).fetchone()
        if row is None:
            return SlotState(exists=False)
        return SlotState(exists=True, lost=bool(row[0]), confirmed=row[1], lag_bytes=int(row[2]))

    def position(self) -> str:
        """The webapp's WAL position flushed to disk: logical decoding reads no further, so a
        commit record written after it (synchronous_commit = off writes commits lazily) belongs
        to the next read, never to a read that would skip it."""
        return self.conn.execute("select pg_current_wal_flush_lsn()::text").fetchone()[0]

    def recreate(self) -> str:
        """Drop the slot if it exists (lost, or never read), create it; its starting position."""
        if self.state().exists:
            self.conn.execute("select pg_drop_replication_slot(%s)", [self.slot])
        # Creating a logical slot waits for running transactions to end: outside any transaction.
        try:
            return self.conn.execute("select lsn::text from pg_create_logical_replication_slot(%s, %s)",
                                     [self.slot, PLUGIN]).fetchone()[0]
        except psycopg.errors.UndefinedFile:
            raise UserError(f"the webapp's server has no {PLUGIN} plugin, so the change stream's slot cannot be "
                            f"created: install the Debian package postgresql-<version>-{PLUGIN} there (most managed "
                            "PostgreSQL services ship it), then run again; nothing was done") from None

    def read(self, upto: str, tables: dict[str, Columns]) -> list[Change]:
        """The changes to `tables` committed before `upto`, oldest first."""
        changes: list[Change] = []
        rows = self._call(
            "select data from pg_logical_slot_peek_changes(%s, %s::pg_lsn, %s, 'format-version', '2', "
            "'add-tables', %s, 'include-transaction', 'true', 'include-timestamp', 'true', 'include-types', 'false')",
            [self.slot, upto, None, _table_list(tables)])
        committed_at = None
        pending: list[dict[str, Any]] = []
        for (data,) in rows:
            message = json.loads(data)
            action = message["action"]
            if action == "B":
                pending = []
            elif action == "C":
                committed_at = datetime.fromisoformat(message["timestamp"]) if message.get("timestamp") else None
                changes.extend(_change(m, tables, committed_at) for m in pending)
                pending = []
            elif action in ("I", "U", "D", "T"):
                pending.append(message)
        return changes

    def has_changes(self, upto: str, tables: dict[str, Columns]) -> bool:
        """Whether a transaction committed before `upto` changed one of `tables`."""
        return self._call(
            "select count(*) > 0 from pg_logical_slot_peek_changes(%s, %s::pg_lsn, 1, 'format-version', '2', "
            "'add-tables', %s, 'include-transaction', 'false')", [self.slot, upto, _table_list(tables)])[0][0]

    def advance(self, upto: str) -> None:
        """Forget the changes committed before `upto` (never moves the slot backwards)."""
        self._call("select pg_replication_slot_advance(%s, %s::pg_lsn) from pg_replication_slots "
                   "where slot_name = %s and confirmed_flush_lsn < %s::pg_lsn", [self.slot, upto, self.slot, upto])

    def _call(self, query: str, params: list[Any]) -> list[tuple]:
        """Run a slot function read-only; while another process reads the slot (each call is
        short), try again for up to BUSY_SECONDS."""
        deadline = time.monotonic() + BUSY_SECONDS
        while True:
            try:
                with self.conn.transaction():
                    self.conn.execute("set transaction read only")
                    return self.conn.execute(query, params).fetchall()
            except psycopg.errors.ObjectInUse as error:
                if time.monotonic() >= deadline:
                    raise SlotBusy(f"the change stream's slot {self.slot} stayed in use by another process for "
                                   f"{BUSY_SECONDS:g} s ({error}); nothing was lost: run again (the follower "
                                   "tries again by itself)") from None
                time.sleep(0.05)
            except psycopg.errors.UndefinedObject as error:
                raise UserError(f"the change stream's slot {self.slot} does not exist on the webapp ({error}); "
                                "the next run recreates it and is full") from None


class SlotBusy(UserError):
    """Another process is reading the slot (the follower, or a run started by hand)."""


def _table_list(tables: Iterable[str]) -> str:
    """wal2json's add-tables: schema-qualified, its special characters escaped."""
    return ",".join("public." + table.replace("\\", "\\\\").replace(",", "\\,").replace(".", "\\.").replace(" ", "\\ ")
                    for table in sorted(tables))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _change(message: dict[str, Any], tables: dict[str, Columns], committed_at: datetime | None) -> Change:
    table, action = message["table"], message["action"]
    if action == "T":
        return Change(table, action, committed_at=committed_at)
    columns = tables[table]
    new = {c["name"]: c.get("value") for c in message.get("columns") or []}
    old = {c["name"]: c.get("value") for c in message.get("identity") or []}
    return Change(table, action, key=_text(new.get(columns.key)) if new else None,
                  acteur=_text(new.get(columns.acteur)) if new else None,
                  old_key=_text(old.get(columns.key)) if old else None, committed_at=committed_at)


@contextmanager
def open_stream(settings: Settings) -> Iterator[ChangeStream]:
    """The change stream, on a connection of its own as the stream role."""
    _slot, role = stream_settings(settings)
    with connect(settings.database("webapp", user=role)) as conn:
        level = conn.execute("select current_setting('wal_level')").fetchone()[0]
        if level != "logical":
            raise UserError(f"the webapp's wal_level is {level}: its changes cannot be streamed to the platform. Set "
                            "wal_level = logical (and max_slot_wal_keep_size) on the webapp's server and restart it "
                            "(README, 'The change stream'); nothing was done")
        yield ChangeStream(settings, conn)


def stream_lag(settings: Settings) -> str | None:
    """One line: the slot's state and the WAL written since it was last advanced."""
    slot, role = stream_settings(settings)
    try:
        with connect(settings.database("webapp", user=role)) as conn:
            state = ChangeStream(settings, conn).state()
    except UserError as error:
        return f"unreadable ({error})"
    if not state.exists:
        return f"slot {slot} absent: the next run creates it (and is full)"
    if state.lost:
        return f"slot {slot} invalidated (too much WAL kept): the next run recreates it (and is full)"
    return f"slot {slot} at {state.confirmed}, {state.lag_bytes:,} bytes of WAL behind the webapp"


def record_position(warehouse: psycopg.Connection, slot: str, position: str) -> None:
    """Record, in the warehouse's transaction that holds what the changes owe, the position up
    to which they were read (the only writer of lacarte_state.stream)."""
    # Never backwards: a reader that saw nothing up to an earlier position may record it after
    # a pull recorded a later one.
    warehouse.execute(
        "insert into lacarte_state.stream (slot, position) values (%s, %s::pg_lsn) on conflict (slot) do update "
        "set position = greatest(lacarte_state.stream.position, excluded.position), recorded_at = clock_timestamp()",
        [slot, position])


def recorded_position(warehouse: psycopg.Connection, slot: str) -> str | None:
    row = warehouse.execute("select position::text from lacarte_state.stream where slot = %s", [slot]).fetchone()
    return row[0] if row else None


def stream_columns(sources: Sources) -> dict[str, Columns]:
    """What the stream reports of each source table: its key and its actor column (of a
    reference table, only that it changed)."""
    columns = {t.table: Columns(t.key_column, t.acteur_column) for t in sources.tracked.values()}
    columns.update({table: Columns("", "") for table in sources.reference})
    return columns


def keys_of(changes: Iterable[Change]) -> dict[str, set[str]]:
    """table -> every key a change names, old and new."""
    found: dict[str, set[str]] = {}
    for change in changes:
        for key in (change.key, change.old_key):
            if key is not None:
                found.setdefault(change.table, set()).add(key)
    return found
