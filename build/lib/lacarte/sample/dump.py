"""Exporting the sample for the web app's tests: an archive that `pg_restore --no-owner
--no-acl` restores with zero errors into a database an administrator prepared with the
extensions (as managed databases are).

A plain `pg_dump` of any PostGIS database carries `COMMENT ON EXTENSION` and the rows of
PostGIS's spatial_ref_sys, which only the extensions' owner may write: an ordinary role's
restore then fails on them. The archive therefore leaves the extensions out
(`--extension=plpgsql`, which pg_dump skips as built in): they are the administrator's.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from lacarte.errors import UserError
from lacarte.instances import pgbin
from lacarte.settings import Settings


def dump_sample(settings: Settings, output: Path) -> Path:
    """Write the sample's archive (custom format) to `output`."""
    database = settings.database("webapp", dbname=settings.get("WEBAPP_SAMPLE_DB_NAME"))
    bindir = pgbin.find_bindir(settings.values)
    env = {**os.environ, "PGPASSWORD": database.password, "PGSSLMODE": database.sslmode, "PGCONNECT_TIMEOUT": "5"}
    if database.sslrootcert:
        env["PGSSLROOTCERT"] = database.sslrootcert
    result = subprocess.run(
        [str(bindir / "pg_dump"), "-h", database.host, "-p", str(database.port), "-U", database.user,
         "--format=custom", "--extension=plpgsql", "--no-owner", "--no-acl", f"--file={output}", database.dbname],
        capture_output=True, text=True, env=env,
    )
    if result.returncode != 0:
        raise UserError(f"dumping {database.dbname} failed: {result.stderr.strip()}")
    return output
