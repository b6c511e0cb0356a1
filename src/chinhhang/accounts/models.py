"""The tenants and the people: organizations, users, memberships, API tokens, the audit log.

Secrets (passwords, session ids, API tokens, invitation links) are stored only as hashes: a
copy of the database must not let anyone log in or call the API.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from chinhhang.db import Base, UtcDateTime, utcnow

ORG_KINDS = ("manufacturer", "distributor", "retailer", "regulator")
ROLES = ("owner", "admin", "operator", "viewer")
_ROLE_CHECK = "role IN ('owner', 'admin', 'operator', 'viewer')"


class Organization(Base):
    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('manufacturer', 'distributor', 'retailer', 'regulator')", name="kind"
        ),
        # Two registrations racing past the service's check must not both succeed.
        UniqueConstraint("name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(300))
    website: Mapped[str | None] = mapped_column(String(500))
    # GS1 identifiers, when the business has them: its main location (GLN, 13 digits) and its
    # GS1 company prefix (6 to 12 digits), which splits a GTIN into an SGTIN EPC URI.
    gln: Mapped[str | None] = mapped_column(String(13))
    gs1_company_prefix: Mapped[str | None] = mapped_column(String(12))
    # Organizations created by the operator are approved; self-registered ones wait.
    approved: Mapped[bool] = mapped_column(default=True)
    # The next serial sequence number to hand out; runs reserve blocks by one atomic UPDATE.
    next_serial: Mapped[int] = mapped_column(BigInteger, default=1)
    # The most serials one life-cycle step over this organization's stamps has covered
    # (stamps/services/events.py keeps it): the steps over a serial start at most this far
    # before it, so reading them is an index range as narrow as the widest step, not a scan
    # of the organization's whole history.
    widest_step: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so one address is one account whatever its spelling.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    # The platform operator: approves organizations, sees every organization read-only.
    platform_admin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The login lockout (accounts/services/logins.py): wrong passwords in a row, when the
    # last one was typed, and until when every login is refused. In the table, not in Redis or
    # memory, so that every worker sees it and a restart does not lift it.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    last_failed_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)


class UnknownLogin(Base):
    """Failed logins to an e-mail address that has no account, counted as an account's are,
    so that the lockout answers alike whether the address has an account or not. Keyed by the
    SHA-256 of the address: the table does not collect the addresses people type. Rows are
    deleted once their failures are forgotten (FORGET_AFTER) and their lock is over."""

    __tablename__ = "unknown_logins"

    email_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    last_failed_login_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("user_id", "org_id"),
        CheckConstraint(_ROLE_CHECK, name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Invitation(Base):
    """An e-mail address invited into an organization with a role, until accepted or expired."""

    __tablename__ = "invitations"
    __table_args__ = (CheckConstraint(_ROLE_CHECK, name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class LoginSession(Base):
    """A signed-in browser. The cookie holds a random id; the row holds its hash, so logging
    out or changing the password ends the session on the server, not just in the browser."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The organization the user is working in (a user may belong to several).
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiToken(Base):
    """A credential for scripts: one organization, one role, revocable. Shown once."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint(_ROLE_CHECK, name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(100))
    # The first characters, kept in clear so people can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AuditEntry(Base):
    """Who changed what, for which organization, when and from which coarse address."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_org_id_id", "org_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))
    # "web", "api", "cli" (the operator, without a user) or "system" (e.g. the activation a
    # run was issued with, done when its fill completes).
    via: Mapped[str] = mapped_column(String(10))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[str | None] = mapped_column(Text)  # JSON
    client_net: Mapped[str | None] = mapped_column(String(50))
