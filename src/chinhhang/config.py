"""Settings from CHINHHANG_* environment variables (and an optional .env), SPEC section 5."""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from chinhhang.stamps import keyfile
from chinhhang.stamps.codes import Keyring

SECRET_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
PLACEHOLDER_SECRETS = frozenset({"changeme", "change-me", "secret", "dev", "test", "password"})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CHINHHANG_",
        env_file=".env",
        extra="ignore",
        frozen=True,
        # A refused value is not repeated in the error (the CLI prints it, `serve` logs it):
        # it may be a secret, say the real one cut short by a bad paste.
        hide_input_in_errors=True,
    )

    data_dir: Path = Path("data")
    database_url: str | None = None
    secret_key: str | None = None
    # The code-tag keys added by `chinhhang keys rotate` (stamps/keyfile.py); every server of
    # one installation needs the same file. Default: code_keys.json in the data folder.
    keyring_file: Path | None = None
    base_url: str = "http://127.0.0.1:8000"
    redis_url: str | None = None
    default_grace_minutes: int = Field(default=30, ge=0, le=24 * 60)
    # Per client address, on the scan endpoints; "0" turns it off. `limits` notation.
    scan_rate_limit: str = "120/minute"
    # Code guessing: more unknown codes than this from one client (same notation) raises one
    # alert and the client is answered 429 until the window ends. "0" turns it off.
    guess_limit: str = "20/10minutes"
    # Alert e-mail: smtp://[user:password@]host[:port][?from=addr] (smtps:// for TLS, and
    # ?starttls=1 to upgrade); unset, e-mail channels are kept but nothing is sent.
    smtp_url: str | None = None
    # The alert worker runs inside `serve` unless this is off (then run `chinhhang alerts
    # worker` beside it). Its lease on a delivery, after which another worker may retry it.
    alert_worker: bool = True
    alert_lease_seconds: float = Field(default=60.0, gt=0, le=3600)
    alert_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    alert_max_attempts: int = Field(default=8, ge=1, le=30)
    # How long an owner may undo a mistaken genuine scan (SPEC section 7, triage).
    undo_window_days: int = Field(default=10, ge=0, le=365)
    # The dashboard's rollup worker runs inside `serve` unless this is off (then run
    # `chinhhang regulator rollup` beside it); how often it looks for new rows, and how long
    # an id never committed stays a gap at least (docs/regulator.md, regulator/rollups.py).
    rollup_worker: bool = True
    rollup_poll_seconds: float = Field(default=2.0, gt=0, le=300)
    rollup_gap_seconds: float = Field(default=300.0, ge=0, le=86_400)
    # Development and tests only: webhooks to loopback and private addresses.
    allow_private_webhooks: bool = False
    # Observability (docs/observability.md). /metrics is answered to a scraper that sends
    # `Authorization: Bearer <metrics_token>`, or, while metrics_private_access is on, to a
    # loopback or private address that came through no proxy; everyone else gets 404.
    metrics_token: str | None = None
    metrics_private_access: bool = True
    # The share of requests written to the access log (server errors are always written).
    access_log_sample: float = Field(default=1.0, ge=0.0, le=1.0)

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("CHINHHANG_BASE_URL must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("secret_key")
    @classmethod
    def _refuse_placeholders(cls, value: str | None) -> str | None:
        if value is not None and (value.lower() in PLACEHOLDER_SECRETS or len(value) < 32):
            raise ValueError(
                "CHINHHANG_SECRET_KEY must be a random string of at least 32 characters; "
                "leave it unset to have one generated into the data folder"
            )
        return value

    @field_validator("metrics_token")
    @classmethod
    def _refuse_short_tokens(cls, value: str | None) -> str | None:
        if not value:  # unset or empty: no token, private addresses only
            return None
        if value.lower() in PLACEHOLDER_SECRETS or len(value) < 16:
            raise ValueError(
                "CHINHHANG_METRICS_TOKEN must be a random string of at least 16 characters"
            )
        return value

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """What repr() and str() show, and so any log line, error message or traceback that
        prints the settings: the secret and the metrics token as ***, URLs without their
        password. The values themselves are untouched."""
        for name, value in super().__repr_args__():
            if name in _SECRET_FIELDS and value is not None:
                yield name, HIDDEN
            elif name in _URL_FIELDS and isinstance(value, str):
                yield name, without_password(value)
            else:
                yield name, value

    @cached_property
    def sqlalchemy_url(self) -> str:
        """The URL with the driver this project uses, whatever form the operator wrote."""
        url = self.database_url or f"sqlite:///{(self.data_dir / 'chinhhang.db').resolve()}"
        for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        if url.startswith("sqlite:///") or url.startswith("postgresql+psycopg://"):
            return url
        raise ValueError("CHINHHANG_DATABASE_URL must be a postgresql:// or sqlite:/// URL")

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")

    @cached_property
    def secret(self) -> bytes:
        """The server secret; generated once into the data folder (mode 600) when not given."""
        if self.secret_key:
            return self.secret_key.encode()
        return _load_or_create_secret(self.data_dir / SECRET_FILE).encode()

    @property
    def keyring_path(self) -> Path:
        return self.keyring_file or self.data_dir / keyfile.KEY_FILE

    @cached_property
    def keyring_watch(self) -> keyfile.KeyringWatch:
        """Key 0 from the server secret, and every key rotated in since, followed as the key
        file changes (stamps/keyfile.py). A bad file stops the start with its message."""
        return keyfile.KeyringWatch(self.keyring_path, derive_key(self.secret, TAG_0))

    @property
    def keyring(self) -> Keyring:
        return self.keyring_watch()


HIDDEN = "***"
_SECRET_FIELDS = frozenset({"secret_key", "metrics_token"})
_URL_FIELDS = frozenset({"database_url", "redis_url", "smtp_url"})


def without_password(url: str) -> str:
    """`postgresql://app:***@db/app` for `postgresql://app:pw@db/app`; a URL without a
    password as it is; one that does not parse, not at all (it may hold the password)."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return HIDDEN
    if password is None:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{userinfo.partition(':')[0]}:{HIDDEN}@{host}"))


def derive_key(secret: bytes, purpose: str) -> bytes:
    """One secret, a separate key per purpose, so a leak of one use does not expose another."""
    return hmac.digest(secret, purpose.encode(), "sha256")


MIN_SECRET_LENGTH = 32
TAG_0 = "code-tag/0"  # the purpose of code-tag key 0, derived from the server secret


def _load_or_create_secret(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        _create_secret(path)
    value = path.read_text().strip()
    if len(value) < MIN_SECRET_LENGTH:
        raise ValueError(
            f"{path} holds no usable secret (fewer than {MIN_SECRET_LENGTH} characters); "
            "restore it from your backup, or delete it only if no stamp was ever issued"
        )
    return value


def _create_secret(path: Path) -> None:
    """Write a fresh secret completely, then link it into place: a process starting at the
    same moment sees either no file or the whole secret, never a half-written one, and of two
    racing writers only the first link wins."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
