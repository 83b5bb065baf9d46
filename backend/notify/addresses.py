"""Where a URL we are asked to POST to really points: push endpoints come from browsers,
that is from anyone, so they must never reach our own network (server-side request forgery)."""

from __future__ import annotations

import ipaddress
import socket


def private_address(host: str, port: int = 443) -> str | None:
    """The first address `host` resolves to that is not on the public internet (loopback,
    private, link-local, reserved, …), or None. A host that does not resolve is not judged
    here: sending to it fails anyway."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not address.is_global:
            return str(address)
    return None
