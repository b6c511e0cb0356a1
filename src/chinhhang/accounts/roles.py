"""The one permission table: which role in which kind of organization may do what.

docs/roles.md is this table in words; `tests/unit/accounts/test_roles.py` checks the two agree,
and the authorization matrix test derives every route's expected answer from it. Services
enforce it through `accounts.services.require`; routes only declare which action they need.
"""

from __future__ import annotations

from dataclasses import dataclass

from chinhhang.accounts.models import ORG_KINDS, ROLES

ALL_ROLES = frozenset(ROLES)
STAFF = frozenset({"owner", "admin", "operator"})
MANAGERS = frozenset({"owner", "admin"})
OWNERS = frozenset({"owner"})
ALL_KINDS = frozenset(ORG_KINDS)


# Who outranks whom, for "nobody grants more than they have" (tokens, member roles).
ROLE_RANK = {"viewer": 0, "operator": 1, "admin": 2, "owner": 3}


@dataclass(frozen=True, slots=True)
class Permission:
    roles: frozenset[str]
    kinds: frozenset[str]
    # Unapproved organizations may prepare (products, members) but not put stamps into the world.
    needs_approval: bool = False
    description: str = ""


PERMISSIONS: dict[str, Permission] = {
    "view": Permission(ALL_ROLES, ALL_KINDS, description="see the organization's own data"),
    "manage_products": Permission(
        STAFF, frozenset({"manufacturer"}), description="create and edit products and batches"
    ),
    "issue_stamps": Permission(
        STAFF, frozenset({"manufacturer"}), True, "issue stamp runs, activate and void stamps"
    ),
    "ship_stamps": Permission(
        STAFF, frozenset({"manufacturer", "distributor"}), True, "ship stamps in custody"
    ),
    "receive_stamps": Permission(
        STAFF, frozenset({"distributor", "retailer"}), True, "receive incoming shipments"
    ),
    "capture_events": Permission(
        STAFF,
        frozenset({"manufacturer", "distributor", "retailer"}),
        True,
        "capture EPCIS traceability events",
    ),
    "export_codes": Permission(
        MANAGERS, frozenset({"manufacturer"}), True, "export the codes of dynamic stamps"
    ),
    "triage_alerts": Permission(
        STAFF,
        frozenset({"manufacturer", "regulator"}),
        description="triage alerts (regulators: code guessing, which names no organization); "
        "undo a mistaken scan within the window",
    ),
    "manage_alert_channels": Permission(
        MANAGERS,
        frozenset({"manufacturer", "regulator"}),
        description="set up alert webhooks and e-mail, see their delivery log",
    ),
    "work_reports": Permission(
        STAFF,
        frozenset({"manufacturer", "regulator"}),
        description="work shoppers' reports (investigate, confirm, dismiss)",
    ),
    "manage_promotions": Permission(
        STAFF, frozenset({"manufacturer"}), description="publish promotions on product pages"
    ),
    "export_warranty": Permission(
        MANAGERS,
        frozenset({"manufacturer"}),
        description="export warranty registrations (shoppers' names and phones)",
    ),
    "manage_members": Permission(MANAGERS, ALL_KINDS, description="invite and remove members"),
    "manage_tokens": Permission(MANAGERS, ALL_KINDS, description="create and revoke API tokens"),
    "edit_organization": Permission(MANAGERS, ALL_KINDS, description="edit the profile"),
    "view_audit": Permission(OWNERS, ALL_KINDS, description="read the audit log"),
    "oversee": Permission(
        ALL_ROLES,
        frozenset({"regulator"}),
        description="see every organization's figures, read-only; read every audit log",
    ),
    "approve_organizations": Permission(
        MANAGERS, frozenset({"regulator"}), description="approve self-registered organizations"
    ),
}


def allows(action: str, *, role: str, kind: str, approved: bool = True) -> bool:
    """Whether `role` in an organization of `kind` may do `action` (unknown action: never)."""
    permission = PERMISSIONS.get(action)
    if permission is None:
        return False
    return (
        role in permission.roles
        and kind in permission.kinds
        and (approved or not permission.needs_approval)
    )


def markdown_table() -> str:
    """The table as docs/roles.md shows it; a test keeps the document equal to this."""
    roles = ("owner", "admin", "operator", "viewer")
    lines = [
        "| action | what it allows | kinds of organization | "
        + " | ".join(roles)
        + " | approval |",
        "| --- | --- | --- | " + " | ".join("---" for _ in roles) + " | --- |",
    ]
    for action, permission in PERMISSIONS.items():
        marks = " | ".join("✓" if role in permission.roles else "—" for role in roles)
        kinds = ", ".join(kind for kind in ORG_KINDS if kind in permission.kinds)
        approval = "needed" if permission.needs_approval else ""
        lines.append(f"| `{action}` | {permission.description} | {kinds} | {marks} | {approval} |")
    return "\n".join(lines)
