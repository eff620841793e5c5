"""Outbound HTTP to addresses outside our network only: the guard in front of webhook deliveries.

A webhook URL is chosen by a caller, so a POST to it could otherwise reach the database,
Redis or a cloud metadata service beside us. The policy resolves the host name once,
refuses it when any address is internal, and the request is then sent to the validated
address itself, with the host name kept for TLS (SNI and certificate check) and the Host
header: a name that resolves differently between the check and the connection (DNS
rebinding) cannot reach inside. Hosts that an operator names in the allow-list skip the
address check and the https rule (a receiver on the same network, or a test's loopback).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import httpx

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

HTTPS_REQUIRED = "webhook_https_required"
ADDRESS_REFUSED = "webhook_address_refused"

# Metadata services on addresses that the ipaddress properties alone would let through,
# or that are worth naming: AWS (IPv4 and IPv6), ECS task metadata, Alibaba, Azure's wire server, Oracle.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200", "168.63.129.16", "192.0.0.192")
)


class RefusedUrlError(Exception):
    """A URL the policy will not send to, with the rule it breaks."""

    def __init__(self, rule: str, detail: str):
        super().__init__(detail)
        self.rule = rule
        self.detail = detail


class UnresolvableHostError(Exception):
    """The host name has no address (now): nothing was sent."""


def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for a host, in its order of preference."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise UnresolvableHostError(host) from error
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4 or Teredo), which is where it leads."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    return address.teredo[1] if address.teredo is not None else None


def internal_kind(address: Address) -> str | None:
    """Why an address is inside (loopback, private, ...), or None for a public address."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return internal_kind(embedded)
    checks = (
        ("cloud metadata", address in METADATA_ADDRESSES),
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("not globally routable", not address.is_global),  # CGNAT 100.64/10 among others
    )
    return next((kind for kind, hit in checks if hit), None)


@dataclass(frozen=True)
class OutboundPolicy:
    """Where webhook deliveries may go: https to public addresses, or a host the operator allows."""

    allowed_hosts: frozenset[str] = frozenset()
    resolve: Resolver = field(default=system_resolve)

    @classmethod
    def allowing(cls, hosts: Iterable[str], resolve: Resolver = system_resolve) -> OutboundPolicy:
        """A policy allowing these host names or addresses (compared case-insensitively)."""
        return cls(frozenset(h.strip().lower().strip("[]") for h in hosts if h.strip()), resolve)

    def allows_host(self, url: httpx.URL) -> bool:
        """Whether the operator named this URL's host, lifting the https and address rules."""
        return url.raw_host.decode("ascii").lower() in self.allowed_hosts

    def check(self, url: httpx.URL) -> None:
        """Refuse a URL at registration: not https, or a host that resolves inside.

        A name that does not resolve yet is accepted: it reaches nothing, and every
        delivery checks the name again.
        """
        try:
            self.addresses(url)
        except UnresolvableHostError:
            pass

    def addresses(self, url: httpx.URL) -> list[str]:
        """The validated addresses to connect to for a URL; raises RefusedUrlError if any is inside.

        Empty for an allowed host: it is reached by its name, as the operator configured it.
        """
        if self.allows_host(url):
            return []
        if url.scheme != "https":
            raise RefusedUrlError(HTTPS_REQUIRED, "webhook URLs must use https")
        host = url.raw_host.decode("ascii")
        resolved = self.resolve(host, url.port or 443)
        if not resolved:
            raise UnresolvableHostError(host)
        for text in resolved:
            kind = internal_kind(ipaddress.ip_address(text.split("%", 1)[0]))
            if kind is not None:
                where = f"{host} is" if text == host.strip("[]") else f"{host} resolves to {text}, which is"
                raise RefusedUrlError(
                    ADDRESS_REFUSED, f"{where} a {kind} address; webhooks reach public addresses only"
                )
        return resolved

    def post(
        self, client: httpx.Client, url: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> httpx.Response:
        """POST to a URL by way of its validated addresses only, never following redirects.

        Each address is tried in the resolver's order; the host name stays the TLS server
        name and the Host header, so certificates are checked against it.
        """
        target = httpx.URL(url)
        addresses = self.addresses(target)
        if not addresses:
            return client.post(target, content=body, headers=headers, timeout=timeout, follow_redirects=False)
        host = target.raw_host.decode("ascii")
        headers = {**headers, "Host": target.netloc.decode("ascii")}
        failure: httpx.ConnectError | None = None
        for address in addresses:
            try:
                return client.post(
                    target.copy_with(host=address),
                    content=body,
                    headers=headers,
                    timeout=timeout,
                    follow_redirects=False,
                    extensions={"sni_hostname": host},
                )
            except httpx.ConnectError as error:
                failure = error
        assert failure is not None  # addresses is never empty here
        raise failure
