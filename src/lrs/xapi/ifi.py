"""Inverse Functional Identifiers of Agents and Groups (D §2.4.2.3), as strings the store can index."""

from __future__ import annotations

from typing import Any


def ifi_key(agent: dict[str, Any]) -> str | None:
    """The agent's IFI as one string ("mbox|mailto:..."), or None for an anonymous Group."""
    if "mbox" in agent:
        return "mbox|" + str(agent["mbox"])
    if "mbox_sha1sum" in agent:
        return "mbox_sha1sum|" + str(agent["mbox_sha1sum"])
    if "openid" in agent:
        return "openid|" + str(agent["openid"])
    account = agent.get("account")
    if isinstance(account, dict):
        return "account|" + str(account.get("homePage")) + "|" + str(account.get("name"))
    return None


def agent_keys(agent: dict[str, Any]) -> list[str]:
    """The IFIs under which an Agent or Group matches an `agent` filter: its own and its members' (C §2.1.3)."""
    keys = []
    own = ifi_key(agent)
    if own is not None:
        keys.append(own)
    for member in agent.get("member") or ():
        if isinstance(member, dict):
            key = ifi_key(member)
            if key is not None:
                keys.append(key)
    return keys
