"""TLS for the local instances: a private certificate authority and one server certificate
per instance (names 127.0.0.1 and localhost), made with the openssl command line.

Clients verify the servers (sslmode verify-full) against the authority's certificate, which
`lacarte instances up` records in `.env` as WEBAPP_DB_SSLROOTCERT / WAREHOUSE_DB_SSLROOTCERT.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from lacarte.errors import UserError
from lacarte.instances import pgbin

DAYS = "3650"
EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
SERVER_EXTENSIONS = (
    "basicConstraints=critical,CA:FALSE\n"
    "keyUsage=critical,digitalSignature,keyEncipherment\n"
    "extendedKeyUsage=serverAuth\n"
    "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n"
)


def _openssl(*args: str) -> None:
    if shutil.which("openssl") is None:
        raise UserError("openssl is not installed; install it (Debian: apt-get install -y openssl)")
    result = subprocess.run(["openssl", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise UserError(f"openssl {args[0]} failed: {result.stderr.strip()}")


def ensure_authority(tls_dir: Path) -> Path:
    """The local certificate authority (created once); returns its certificate's path."""
    tls_dir.mkdir(parents=True, exist_ok=True)
    tls_dir.chmod(0o755)  # the servers read the authority's certificate (postgres_fdw links)
    key, certificate = tls_dir / "ca.key", tls_dir / "ca.crt"
    if not (key.exists() and certificate.exists()):
        _openssl("req", "-x509", *EC_KEY, "-keyout", str(key), "-out", str(certificate), "-days", DAYS,
                 "-subj", "/CN=lacarte local instances CA",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    key.chmod(0o600)
    certificate.chmod(0o644)
    return certificate


def ensure_server_certificate(tls_dir: Path, instance_dir: Path) -> tuple[Path, Path]:
    """A key and a certificate signed by the local authority in `instance_dir`, owned by the
    server's OS user (PostgreSQL refuses a key others can read)."""
    key, certificate = instance_dir / "server.key", instance_dir / "server.crt"
    if key.exists() and certificate.exists():
        return key, certificate
    with tempfile.TemporaryDirectory() as scratch:
        request = Path(scratch) / "server.csr"
        extensions = Path(scratch) / "server.ext"
        extensions.write_text(SERVER_EXTENSIONS)
        _openssl("req", "-new", *EC_KEY, "-keyout", str(key), "-out", str(request), "-subj", "/CN=127.0.0.1")
        _openssl("x509", "-req", "-in", str(request), "-CA", str(tls_dir / "ca.crt"), "-CAkey",
                 str(tls_dir / "ca.key"), "-CAcreateserial", "-out", str(certificate), "-days", DAYS,
                 "-extfile", str(extensions))
    key.chmod(0o600)
    certificate.chmod(0o644)
    for path in (key, certificate):
        pgbin.give_to_server_user(path)
    return key, certificate
