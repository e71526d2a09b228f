"""Which address phones on the same network should open."""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0"}


def lan_address() -> str | None:
    """This machine's address on its local network, or None.

    Connecting a UDP socket sends nothing: it only asks the kernel which
    interface would route to a (documentation-range) address.
    """
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            address = probe.getsockname()[0]
    except OSError:
        return None
    if ipaddress.ip_address(address).is_loopback:
        return None
    return address


def public_base_url(request) -> str:
    """PUBLIC_URL if set; else the address this page was opened with, made reachable."""
    if settings.PUBLIC_URL:
        return settings.PUBLIC_URL
    base = request.build_absolute_uri("/").rstrip("/")
    parts = urlsplit(base)
    if parts.hostname in LOCAL_HOSTS:
        lan = lan_address()
        if lan:
            port = f":{parts.port}" if parts.port else ""
            return f"{parts.scheme}://{lan}{port}"
    return base
