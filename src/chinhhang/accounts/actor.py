"""Who is acting: the user or API token, in which organization, with which role.

Every service that reads or changes an organization's data takes an Actor and checks it with
`accounts.services.require` against the one permission table (roles.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class Actor:
    org_id: int | None
    role: str | None
    user_id: int | None = None
    token_id: int | None = None
    platform_admin: bool = False
    # "web" (portal), "api" (token) or "cli" (the operator at the command line).
    via: str = "web"
    # Already coarse (/24 or /48): the audit log never holds a whole address.
    client_net: str | None = None

    @classmethod
    def command_line(cls, org_id: int) -> Actor:
        """The operator at the server's command line acts as an owner of the organization."""
        return cls(org_id=org_id, role="owner", via="cli")

    def at(self, client_net: str | None) -> Actor:
        return replace(self, client_net=client_net)
