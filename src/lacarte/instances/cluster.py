"""The two local PostgreSQL instances, `webapp` and `warehouse`: create, start, stop, provision.

Each instance is a cluster of its own (data directory, port, socket directory, log file, TLS
certificate). Everything here is idempotent: `up` on running instances re-applies the
configuration and the provisioning.
"""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lacarte.errors import UserError
from lacarte.instances import pgbin, tls
from lacarte.instances.provision import provision_instance
from lacarte.settings import SIDES, Settings

SERVER_CONFIG = """\
# Written by `lacarte instances up` (rewritten at every up)
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{socket_dir}'
ssl = on
ssl_cert_file = '{cert}'
ssl_key_file = '{key}'
ssl_min_protocol_version = 'TLSv1.2'
shared_preload_libraries = 'pg_stat_statements'
max_connections = 100
shared_buffers = 256MB
work_mem = 64MB
maintenance_work_mem = 256MB
random_page_cost = 1.1
max_wal_size = 4GB
checkpoint_timeout = 15min
synchronous_commit = off
jit = off
log_line_prefix = '%m [%p] %u@%d '
log_min_duration_statement = -1
"""
# The webapp streams its committed changes to the platform by logical decoding (wal2json); the
# WAL its slot keeps for a stopped follower is bounded: past it the slot is invalidated and the
# next run is full (lacarte.changes.stream). Its commits are flushed when they return, as in
# production: a run started after a commit reads it (a lazily flushed one would wait for the
# next run).
WEBAPP_CONFIG = """\
synchronous_commit = on
wal_level = logical
max_replication_slots = 8
max_slot_wal_keep_size = 1GB
"""
THROWAWAY_CONFIG = "fsync = off\nfull_page_writes = off\nlog_statement = 'all'\n"

HBA = """\
# Written by `lacarte instances up`: loopback only, TLS for every TCP connection, scram passwords.
local     all   all                  scram-sha-256
hostssl   all   all   127.0.0.1/32   scram-sha-256
hostssl   all   all   ::1/128        scram-sha-256
hostnossl all   all   all            reject
"""


def default_data_root(settings: Settings) -> Path:
    """`.pgdata` in the checkout, or a per-checkout folder in /var/tmp when the server's OS
    user cannot reach the checkout (a private home directory)."""
    override = settings.values.get("LACARTE_DATA_DIR")
    if override:
        return Path(override)
    project_dir = settings.project.root
    if pgbin.server_user_can_reach(project_dir):
        return project_dir / ".pgdata"
    digest = hashlib.sha1(str(project_dir).encode()).hexdigest()[:10]
    return Path("/var/tmp") / f"lacarte-{digest}"


@dataclass(frozen=True)
class Instance:
    """One local cluster."""

    side: str
    port: int
    root: Path
    throwaway: bool = False

    @property
    def data_dir(self) -> Path:
        return self.root / self.side / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / self.side / "run"

    @property
    def log_file(self) -> Path:
        return self.root / self.side / "postgresql.log"

    @property
    def instance_dir(self) -> Path:
        return self.root / self.side

    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()


class Instances:
    """The pair of local instances described by `settings`, kept under `root`."""

    def __init__(self, settings: Settings, root: Path | None = None, throwaway: bool = False):
        self.settings = settings
        self.root = Path(root) if root else default_data_root(settings)
        self.bindir = pgbin.find_bindir(settings.values)
        self.instances = [
            Instance(side, int(settings.get(f"{side.upper()}_DB_PORT")), self.root, throwaway)
            for side in SIDES
        ]

    @property
    def tls_dir(self) -> Path:
        return self.root / "tls"

    # -- lifecycle --------------------------------------------------------------------------
    def up(self, progress=print) -> None:
        """Create, start and provision both instances; a no-op for what is already done."""
        if not pgbin.postgis_available(self.bindir):
            raise UserError(
                "PostGIS is not installed for this PostgreSQL; run as root: apt-get install -y "
                f"postgresql-{self.bindir.parent.name}-postgis-3 (or `make demo` as root)"
            )
        stopped = [instance for instance in self.instances if not self.is_running(instance)]
        for instance in stopped:  # refuse before creating anything
            self._check_port_free(instance)
        self.root.mkdir(parents=True, exist_ok=True)
        pgbin.give_to_server_user(self.root)
        authority = tls.ensure_authority(self.tls_dir)
        certificates = {f"{side.upper()}_DB_SSLROOTCERT": str(authority) for side in SIDES}
        if self.settings.ensure_local_secrets(certificates):
            progress(f"local passwords and certificate paths in {self.settings.env_file} (mode 600)")
        for instance in self.instances:
            if not instance.initialized:
                progress(f"{instance.side}: creating cluster in {instance.data_dir}")
                self._initdb(instance)
            changed = self._configure(instance)
            if instance not in stopped:
                progress(f"{instance.side}: already running on port {instance.port}")
                if changed:
                    self._pg_ctl(instance, "reload")
                    if self._restart_pending(instance):
                        progress(f"{instance.side}: restarting (a changed setting needs it)")
                        self._pg_ctl(instance, "restart", "-w", "-t", "60", "-m", "fast", "-l", str(instance.log_file))
            else:
                progress(f"{instance.side}: starting on 127.0.0.1:{instance.port} (TLS)")
                self._pg_ctl(instance, "start", "-w", "-t", "60", "-l", str(instance.log_file))
            provision_instance(self.settings, instance.side, progress)

    def down(self, progress=print) -> None:
        for instance in self.instances:
            if self.is_running(instance):
                progress(f"{instance.side}: stopping")
                self._pg_ctl(instance, "stop", "-w", "-m", "fast")
            else:
                progress(f"{instance.side}: not running")

    def reset(self, progress=print) -> None:
        """Stop, wipe both clusters, and create them again."""
        self.down(progress)
        for instance in self.instances:
            shutil.rmtree(instance.root / instance.side, ignore_errors=True)
            progress(f"{instance.side}: wiped")
        self.up(progress)

    def wipe(self) -> None:
        """Stop and delete everything under the root (for throwaway pairs)."""
        self.down(progress=lambda _message: None)
        shutil.rmtree(self.root, ignore_errors=True)

    def status(self) -> list[dict[str, str]]:
        rows = []
        for instance in self.instances:
            rows.append(
                {
                    "instance": instance.side,
                    "state": "running" if self.is_running(instance) else (
                        "stopped" if instance.initialized else "absent"
                    ),
                    "address": f"127.0.0.1:{instance.port}",
                    "data": str(instance.data_dir),
                    "log": str(instance.log_file),
                }
            )
        return rows

    def is_running(self, instance: Instance) -> bool:
        if not instance.initialized:
            return False
        result = subprocess.run(
            pgbin.as_server_user([str(self.bindir / "pg_ctl"), "status", "-D", str(instance.data_dir)]),
            capture_output=True,
            text=True,
        )
        return result.returncode == 0

    # -- helpers ----------------------------------------------------------------------------
    def _initdb(self, instance: Instance) -> None:
        for directory in (self.root, instance.instance_dir, instance.socket_dir):
            directory.mkdir(parents=True, exist_ok=True)
            pgbin.give_to_server_user(directory)
        with tempfile.NamedTemporaryFile("w", dir=instance.root / instance.side, delete=False) as pwfile:
            pwfile.write(self.settings.get("LACARTE_ADMIN_PASSWORD") + "\n")
        pwpath = Path(pwfile.name)
        pwpath.chmod(0o600)
        pgbin.give_to_server_user(pwpath)
        try:
            command = [
                str(self.bindir / "initdb"), "-D", str(instance.data_dir),
                "-U", self.settings.get("LACARTE_ADMIN_USER"), f"--pwfile={pwpath}",
                "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions",
            ]
            result = subprocess.run(pgbin.as_server_user(command), capture_output=True, text=True)
        finally:
            pwpath.unlink(missing_ok=True)
        if result.returncode != 0:
            shutil.rmtree(instance.data_dir, ignore_errors=True)
            raise UserError(f"initdb failed for {instance.side}: {result.stderr.strip()}")
        with open(instance.data_dir / "postgresql.conf", "a") as conf:
            conf.write("\ninclude 'lacarte.conf'\n")

    def _configure(self, instance: Instance) -> bool:
        """(Re)write the server's certificate, lacarte.conf and pg_hba.conf; True when changed."""
        for directory in (instance.instance_dir, instance.socket_dir):
            directory.mkdir(parents=True, exist_ok=True)
            pgbin.give_to_server_user(directory)
        key, certificate = tls.ensure_server_certificate(self.tls_dir, instance.instance_dir)
        config = SERVER_CONFIG.format(port=instance.port, socket_dir=instance.socket_dir, cert=certificate, key=key)
        if instance.side == "webapp":
            config += WEBAPP_CONFIG
        if instance.throwaway:
            config += THROWAWAY_CONFIG
        changed = False
        for path, text in ((instance.data_dir / "lacarte.conf", config), (instance.data_dir / "pg_hba.conf", HBA)):
            if not path.exists() or path.read_text() != text:
                self._write_as_server_user(path, text)
                changed = True
        return changed

    def _restart_pending(self, instance: Instance) -> bool:
        from lacarte.db import connect

        with connect(self.settings.database(instance.side, dbname="postgres", user="admin")) as conn:
            return conn.execute("select count(*) > 0 from pg_settings where pending_restart").fetchone()[0]

    def _write_as_server_user(self, path: Path, text: str) -> None:
        path.write_text(text)
        pgbin.give_to_server_user(path)

    def _pg_ctl(self, instance: Instance, *args: str) -> None:
        # The port lives in lacarte.conf; pass it too so a changed setting takes effect.
        command = [str(self.bindir / "pg_ctl"), "-D", str(instance.data_dir), *args]
        if "start" in args or "restart" in args:
            command += ["-o", f"-p {instance.port}"]
        result = subprocess.run(pgbin.as_server_user(command), capture_output=True, text=True)
        if result.returncode != 0:
            tail = ""
            if instance.log_file.exists():
                tail = " | ".join(instance.log_file.read_text().strip().splitlines()[-3:])
            raise UserError(
                f"pg_ctl {args[0]} failed for {instance.side}: {result.stderr.strip() or tail}; "
                f"see {instance.log_file}"
            )

    @staticmethod
    def _check_port_free(instance: Instance) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            # Like PostgreSQL itself: a port in TIME_WAIT is free, a listening one is not.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", instance.port))
            except OSError:
                raise UserError(
                    f"port {instance.port} for {instance.side} is taken by another program; "
                    f"set {instance.side.upper()}_DB_PORT to a free port"
                ) from None
