"""The GS1 mod-10 check digit, shared by GTINs (catalog) and GLNs (accounts, catalog).

It lives beside the domains, not in one of them, because accounts sits below catalog
(DESIGN.md: domains depend downward) and both check GS1 numbers. Pure module.
"""

from __future__ import annotations


def check_digit(body: str) -> int:
    """GS1 mod-10: weights 3,1,3,… from the rightmost digit of the body."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10
