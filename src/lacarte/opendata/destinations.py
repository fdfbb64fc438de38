"""Where the open-data file goes: a local folder or an S3-compatible bucket. Each write is
atomic: a reader of a name sees the old object or the new one, never a part of it."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from lacarte.errors import UserError

# The timestamped copies (production's names: 20261207060000.csv).
TIMESTAMPED = re.compile(r"^\d{14}\.csv$")


class Destination(Protocol):
    def describe(self) -> str: ...
    def check(self) -> None: ...
    def read_json(self, name: str) -> dict[str, Any] | None: ...
    def download(self, name: str, to: Path) -> bool: ...
    def put_file(self, name: str, source: Path, content_type: str) -> None: ...
    def names(self) -> list[str]: ...
    def delete(self, names: list[str]) -> None: ...


class LocalFolder:
    """A folder of this machine (the default: `opendata/` in the project)."""

    def __init__(self, path: Path):
        self.path = path

    def describe(self) -> str:
        return str(self.path)

    def check(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UserError(f"cannot create the open-data folder {self.path}: {error.strerror}; nothing was done") from None
        if not os.access(self.path, os.W_OK | os.X_OK):
            raise UserError(f"the open-data folder {self.path} is not writable; nothing was done")

    def read_json(self, name: str) -> dict[str, Any] | None:
        path = self.path / name
        return json.loads(path.read_text()) if path.exists() else None

    def download(self, name: str, to: Path) -> bool:
        source = self.path / name
        if not source.exists():
            return False
        to.write_bytes(source.read_bytes())
        return True

    def put_file(self, name: str, source: Path, content_type: str) -> None:
        """Copy aside in the same folder, flush to disk, then rename over `name` (atomic)."""
        handle, aside = tempfile.mkstemp(prefix=f".{name}.", suffix=".partial", dir=self.path)
        try:
            with os.fdopen(handle, "wb") as out, source.open("rb") as data:
                while chunk := data.read(1 << 20):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(aside, 0o644)
            os.replace(aside, self.path / name)
        except BaseException:
            Path(aside).unlink(missing_ok=True)
            raise

    def names(self) -> list[str]:
        return sorted(p.name for p in self.path.iterdir() if p.is_file())

    def delete(self, names: list[str]) -> None:
        for name in names:
            (self.path / name).unlink(missing_ok=True)


class S3Prefix:
    """A prefix in an S3-compatible bucket. Credentials come from the environment, as boto3
    reads them (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY…), the endpoint from
    LACARTE_OPENDATA_S3_ENDPOINT (or AWS_ENDPOINT_URL); none of them is ever printed."""

    def __init__(self, bucket: str, prefix: str, environ: dict[str, str]):
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.environ = environ
        self._client = None

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    @property
    def client(self):
        if self._client is None:
            import boto3
            from botocore.config import Config

            session = boto3.session.Session(
                aws_access_key_id=self.environ.get("AWS_ACCESS_KEY_ID") or None,
                aws_secret_access_key=self.environ.get("AWS_SECRET_ACCESS_KEY") or None,
                aws_session_token=self.environ.get("AWS_SESSION_TOKEN") or None,
                region_name=self.environ.get("AWS_DEFAULT_REGION") or self.environ.get("AWS_REGION") or "us-east-1")
            if session.get_credentials() is None:
                raise UserError("no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or another source "
                                "boto3 reads) for the open-data bucket; nothing was done")
            endpoint = self.environ.get("LACARTE_OPENDATA_S3_ENDPOINT") or self.environ.get("AWS_ENDPOINT_URL") or None
            self._client = session.client("s3", endpoint_url=endpoint, config=Config(
                connect_timeout=5, read_timeout=60, retries={"max_attempts": 2, "mode": "standard"}))
        return self._client

    def _call(self, what: str, function, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return function(**kwargs)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "error")
            raise UserError(f"{self.describe()}: {what} refused ({code}); check the bucket, its permissions and "
                            "the credentials; nothing more was done") from None
        except BotoCoreError as error:
            raise UserError(f"{self.describe()}: {what} failed ({type(error).__name__}): is the endpoint reachable? "
                            "nothing more was done") from None

    def check(self) -> None:
        self._call("reading the bucket", self.client.head_bucket, Bucket=self.bucket)

    def read_json(self, name: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.key(name))["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise UserError(f"{self.describe()}: reading {name} refused; nothing was done") from None
        return json.loads(body)

    def download(self, name: str, to: Path) -> bool:
        if name not in self.names():
            return False
        self._call(f"reading {name}", self.client.download_file, Bucket=self.bucket, Key=self.key(name), Filename=str(to))
        return True

    def put_file(self, name: str, source: Path, content_type: str) -> None:
        """One upload: the object appears whole when the upload completes (multipart included)."""
        self._call(f"writing {name}", self.client.upload_file, Filename=str(source), Bucket=self.bucket,
                   Key=self.key(name), ExtraArgs={"ContentType": content_type})

    def names(self) -> list[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        prefix = f"{self.prefix}/" if self.prefix else ""
        names = []
        pages = self._call("listing the prefix", lambda: list(paginator.paginate(Bucket=self.bucket, Prefix=prefix)))
        for page in pages:
            for item in page.get("Contents", []):
                rest = item["Key"][len(prefix):]
                if "/" not in rest:
                    names.append(rest)
        return sorted(names)

    def delete(self, names: list[str]) -> None:
        if names:
            self._call("deleting old copies", self.client.delete_objects, Bucket=self.bucket,
                       Delete={"Objects": [{"Key": self.key(n)} for n in names]})


def parse_destination(text: str, environ: dict[str, str], project_root: Path) -> Destination:
    """`DIR` (relative to the project), `file://DIR` or `s3://BUCKET[/PREFIX]`; anything else is an error."""
    if not isinstance(text, str) or not text.strip():
        raise UserError("the open-data destination is empty: give --to DIR or --to s3://BUCKET/PREFIX")
    text = text.strip()
    parsed = urlparse(text)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise UserError(f"{text!r}: an S3 destination is s3://BUCKET/PREFIX")
        return S3Prefix(parsed.netloc, parsed.path, environ)
    if parsed.scheme == "file":
        return LocalFolder(Path(parsed.path))
    if parsed.scheme and len(parsed.scheme) > 1:
        raise UserError(f"{text!r}: unknown destination scheme {parsed.scheme!r}; use a folder or s3://BUCKET/PREFIX")
    path = Path(text)
    return LocalFolder(path if path.is_absolute() else project_root / path)
