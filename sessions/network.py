"""Which address phones on the same network should open."""

import ipaddress
import socket

from django.conf import settings
from django.http import HttpRequest


def lan_address() -> str | None:
    """This machine's address on its local network, or None.

    Connecting a UDP socket sends nothing: it only asks the kernel which
    interface would route to a (documentation-range) address.
    """
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            address: str = probe.getsockname()[0]
    except OSError:
        return None
    if ipaddress.ip_address(address).is_loopback:
        return None
    return address


def public_base_url(request: HttpRequest) -> str:
    """Where phones go: PUBLIC_URL, or an address that is really this server's.

    Never the Host header as sent: ALLOWED_HOSTS is "*" by default (so that
    `make run` answers on whatever LAN address the laptop has), and a spoofed
    Host would then choose the join address and QR code the projector shows.
    The Host is believed only once Django has checked it against an
    ALLOWED_HOSTS list that names hosts. Otherwise the address is the one the
    connection came in on (the server's own socket, which the ASGI server
    reports), with a loopback address replaced by this machine's LAN address.
    """
    if settings.PUBLIC_URL:
        return settings.PUBLIC_URL
    if "*" not in settings.ALLOWED_HOSTS:
        return f"{request.scheme}://{request.get_host()}"
    address = _ip(request.META.get("SERVER_NAME", ""))
    if address is None or address.is_loopback or address.is_unspecified:
        lan = lan_address()
        address = ipaddress.ip_address(lan) if lan else ipaddress.ip_address("127.0.0.1")
    host = f"[{address}]" if address.version == 6 else str(address)
    port = str(request.META.get("SERVER_PORT", ""))
    default_port = "443" if request.scheme == "https" else "80"
    suffix = f":{port}" if port.isdigit() and port != default_port else ""
    return f"{request.scheme}://{host}{suffix}"


def _ip(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return None
    # A server listening on "::" sees IPv4 phones as ::ffff:a.b.c.d.
    if address.version == 6 and address.ipv4_mapped:
        return address.ipv4_mapped
    return address
