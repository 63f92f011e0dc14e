"""The client address rate limits count.

``ProxyFix`` (configured with the real number of proxies) has already set ``remote_addr`` from
the trusted part of ``X-Forwarded-For``; a forged header added by the client cannot change it.

An IPv4 address is counted as it is. An IPv6 client is counted by its /64 network: providers
give each subscriber (a home, a phone) a /64 or more, and a device picks new addresses inside
it at will (privacy extensions), so counting single IPv6 addresses would let one client reset
its counters by changing address. An IPv4 address seen through IPv6 (``::ffff:192.0.2.1``)
counts as that IPv4 address.
"""

from __future__ import annotations

from ipaddress import IPv6Address, ip_address, ip_network

from flask import request

IPV6_PREFIX = 64  #: the network an IPv6 client is counted by


def address_key(address: str) -> str:
    """What the limits count for ``address``: itself for IPv4, its /64 network for IPv6."""
    try:
        parsed = ip_address(address.split("%", 1)[0])  # without an IPv6 zone ("fe80::1%eth0")
    except ValueError:
        return address or "unknown"
    if isinstance(parsed, IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ip_network(f"{parsed}/{IPV6_PREFIX}", strict=False))
    return str(parsed)


def client_address() -> str:
    """The key of the current request's client for per-address limits (see ``address_key``)."""
    return address_key(request.remote_addr or "unknown")
