"""The client address used for rate limits.

``ProxyFix`` (configured with the real number of proxies) has already set ``remote_addr`` from
the trusted part of ``X-Forwarded-For``; a forged header added by the client cannot change it.
"""

from flask import request


def client_address() -> str:
    return request.remote_addr or "unknown"
