"""Free TCP ports on loopback, for throwaway instances and test servers."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
