"""Settings from the environment (prefix LRS_), validated at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the LRS; each is an environment variable named LRS_<FIELD>."""

    model_config = SettingsConfigDict(env_prefix="LRS_", extra="ignore")

    database_url: str | None = Field(
        default=None, description="PostgreSQL URL; when unset an embedded server runs under data_dir"
    )
    data_dir: Path = Field(default=Path(".lrs"), description="where the embedded PostgreSQL keeps its data")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1)
    admin_key: str | None = None
    admin_secret: str | None = None
    page_size: int = Field(default=100, ge=1, description="statements per page when `limit` is absent or 0")
    max_page_size: int = Field(default=500, ge=1, description="the largest `limit` honoured")
    max_body_bytes: int = Field(default=20 * 1024 * 1024, ge=1024, description="request bodies above are 413")
    max_attachment_bytes: int = Field(default=512 * 1024 * 1024, ge=0, description="attachments above are 413")
    more_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=24 * 3600, description="how long a `more` link lives")
    secret_key: str | None = Field(default=None, description="signs `more` links; derived from the database when unset")
    authority_homepage: str = Field(
        default="https://lrs.invalid/credentials", description="account homePage of credential authorities"
    )
    cors_origins: list[str] = Field(default=["*"], description="origins allowed by CORS (C §1.3 rationale)")
    default_version: Literal["1.0.3", "2.0.0"] = Field(
        default="2.0.0", description="version header of responses to requests that name no valid version"
    )
    pool_size: int = Field(default=10, ge=1)
    pool_timeout: float = Field(
        default=30.0, gt=0, description="seconds a request waits for a database connection before a 503"
    )
    log_level: str = "info"
    opentelemetry: bool = Field(
        default=False,
        description="FastAPI's OpenTelemetry traces, metrics and logs for a configured provider; off, its per-request "
        "check costs ~9 µs",
    )

    def sqlalchemy_url(self, url: str) -> str:
        """Turn a postgresql:// URL into the asyncpg dialect URL SQLAlchemy needs."""
        return "postgresql+asyncpg://" + self._rest(url)

    def asyncpg_url(self, url: str) -> str:
        """Turn a postgresql:// (or SQLAlchemy dialect) URL into the one asyncpg takes."""
        return "postgresql://" + self._rest(url)

    @staticmethod
    def _rest(url: str) -> str:
        for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
            if url.startswith(prefix):
                return url[len(prefix) :]
        raise ValueError(f"LRS_DATABASE_URL must be a postgresql:// URL, got {url!r}")
