"""Where a webhook may be sent: public addresses only, checked when subscribed and again at each delivery.

A channel names its receiver by URL, and the system then sends requests there from inside the lender's
network: without a check, a URL could point at the cloud's metadata service (``169.254.169.254``), Redis on
``localhost:6379`` or PostgreSQL on ``[::1]:5432``. :func:`vet_url` resolves the URL's host and refuses it
unless every address the name resolves to is a public one (not private, loopback, link-local, reserved,
multicast or unspecified; an IPv4 address inside IPv6 — mapped, 6to4, Teredo — is judged as the IPv4 address
it carries). The answer, a :class:`Target`, holds the vetted addresses; :func:`post` connects to one of them
and to nothing else, so a name that resolves to a public address when checked and to a private one a moment
later (DNS rebinding) still reaches only the address that was checked. Redirects are never followed (a 3xx is
an answer like any other non-2xx), and the receiver's errors are reduced to a :class:`DeliveryOutcome`
that says what happened without the socket's own words (which would make the webhook a port scanner).

:class:`TargetPolicy` carries the two relaxations a deployment may choose: plain ``http://`` (a demo without
TLS) and loopback receivers (tests, and a demo's receiver on the same machine; a loopback receiver may
be plain ``http://`` too, its traffic never leaves the machine). Private, link-local and the rest stay refused
whatever the policy.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from core.errors import InvalidArgumentError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: how a host name becomes addresses: ``(host, port) -> addresses`` (tests put a resolver of their own here)
Resolver = Callable[[str, int], list[str]]


class UnsafeTargetError(InvalidArgumentError):
    """A webhook URL that may not be used: not ``https://`` (unless the policy allows), no host, or a host
    that does not resolve only to public addresses. The message does not say which address was refused, nor
    whether the name resolved at all: that would tell a channel what names exist inside the network."""


@dataclass(frozen=True)
class TargetPolicy:
    """What a deployment allows beyond public ``https://`` receivers."""

    allow_http: bool = False
    allow_loopback: bool = False


@dataclass(frozen=True)
class Target:
    """A vetted URL: where to connect (``addresses``, all checked) and what to ask for there."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class DeliveryOutcome:
    """What a delivery attempt came to, in words a channel may see: ``delivered``, ``http_<status>`` (the
    receiver answered, a redirect included: it is not followed), ``no_answer`` (no connection, TLS failure or
    timeout) or ``address_refused`` (the host resolves to an address that may not be reached)."""

    status: str

    @property
    def delivered(self) -> bool:
        return self.status == "delivered"


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (empty when it does not resolve)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def address_allowed(text: str, policy: TargetPolicy) -> bool:
    """Whether a webhook may connect to the address ``text`` under ``policy``."""
    try:
        address: IPAddress = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return address_allowed(str(embedded), policy)
    if address.is_loopback:
        return policy.allow_loopback
    return not (address.is_private or address.is_link_local or address.is_reserved or address.is_multicast
                or address.is_unspecified or not address.is_global)


def vet_url(url: str, policy: TargetPolicy, resolver: Resolver | None = None) -> Target:
    """The :class:`Target` of ``url`` when every address its host resolves to may be reached.

    Raises:
        UnsafeTargetError: the URL is not http(s) with a host, is ``http://`` where the policy wants
            ``https://``, or its host does not resolve, or resolves to any address not allowed.
    """
    try:
        parts = urlsplit(url or "")
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeTargetError("url: not a valid URL", field="url", value=url) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTargetError("url: an https:// URL with a host is required", field="url", value=url)
    addresses = (resolver or resolve)(parts.hostname, port)
    if not addresses or not all(address_allowed(a, policy) for a in addresses):
        raise UnsafeTargetError("url: the host must resolve to public internet addresses only", field="url",
                                value=url)
    loopback_only = all(ipaddress.ip_address(a.split("%", 1)[0]).is_loopback for a in addresses)
    if parts.scheme != "https" and not (policy.allow_http or loopback_only):
        raise UnsafeTargetError("url: an https:// URL is required", field="url", value=url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, path, tuple(addresses))


def post(target: Target, body: bytes, headers: Mapping[str, str], timeout: float) -> DeliveryOutcome:
    """POST ``body`` to ``target``, connecting to its first vetted address only (TLS checks the host name).

    Never raises for what the network or the receiver does: the answer is a :class:`DeliveryOutcome`.
    """
    connection = _connection(target, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=dict(headers))
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException, ssl.SSLError):
        return DeliveryOutcome("no_answer")
    finally:
        connection.close()
    return DeliveryOutcome("delivered" if 200 <= status < 300 else f"http_{status}")


def _connection(target: Target, timeout: float) -> http.client.HTTPConnection:
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = http.client.HTTPSConnection(target.host, target.port, timeout=timeout,
                                                 context=ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    address = target.addresses[0]

    def to_the_vetted_address(_where: tuple[str, int], timeout: Any = None, source: Any = None) -> socket.socket:
        # http.client would resolve the host name again here; the connection goes to the checked address
        # instead, while the Host header and TLS (SNI, certificate) keep the name
        return socket.create_connection((address, target.port), timeout, source)

    connection._create_connection = to_the_vetted_address  # type: ignore[attr-defined]
    return connection
