"""Finding the PostgreSQL server binaries and running them as an unprivileged user."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
from pathlib import Path

from lacarte.errors import UserError

REQUIRED = ("initdb", "pg_ctl", "postgres")


def find_bindir(environ: dict[str, str] | None = None) -> Path:
    """LACARTE_PG_BINDIR, then PATH, then `pg_config --bindir`, then /usr/lib/postgresql/*/bin."""
    environ = os.environ if environ is None else environ
    candidates: list[Path] = []
    if environ.get("LACARTE_PG_BINDIR"):
        candidates.append(Path(environ["LACARTE_PG_BINDIR"]))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    pg_config = shutil.which("pg_config")
    if pg_config:
        output = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if output.returncode == 0:
            candidates.append(Path(output.stdout.strip()))
    versioned = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True
    )
    candidates.extend(Path(p) for p in versioned)
    for bindir in candidates:
        if all((bindir / tool).exists() for tool in REQUIRED):
            return bindir
    raise UserError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found; install them "
        "(Debian: apt-get install postgresql postgresql-15-postgis-3) or set LACARTE_PG_BINDIR"
    )


def server_user() -> str | None:
    """The OS user that runs the servers when we are root (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return None
    name = os.environ.get("LACARTE_PG_OS_USER", "postgres")
    try:
        pwd.getpwnam(name)
    except KeyError:
        raise UserError(
            f"running as root needs an unprivileged OS user '{name}' to run PostgreSQL; "
            "create it (useradd postgres) or set LACARTE_PG_OS_USER"
        ) from None
    return name


def as_server_user(command: list[str]) -> list[str]:
    """Prefix `command` so it runs as the server's OS user."""
    user = server_user()
    return ["runuser", "-u", user, "--", *command] if user else command


def give_to_server_user(path: Path) -> None:
    """Make `path` owned by the server's OS user (a no-op when not root)."""
    user = server_user()
    if user:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def server_user_can_reach(path: Path) -> bool:
    """Whether the server's OS user can traverse every directory down to `path`."""
    if server_user() is None:
        return True
    probe = subprocess.run(as_server_user(["test", "-x", str(path)]), capture_output=True)
    return probe.returncode == 0


def postgis_available(bindir: Path) -> bool:
    """Whether the PostGIS extension files are installed for this server version."""
    pg_config = bindir / "pg_config"
    sharedir = None
    if pg_config.exists():
        result = subprocess.run([str(pg_config), "--sharedir"], capture_output=True, text=True)
        sharedir = Path(result.stdout.strip()) if result.returncode == 0 else None
    if sharedir is None:
        sharedir = Path("/usr/share/postgresql") / bindir.parent.name
    return (sharedir / "extension" / "postgis.control").exists()
