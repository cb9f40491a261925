"""Where the servers listen, and how a URL names them."""

import re
import socket

import pytest

from qrbench.errors import ReplicaError
from qrbench.world.loopback import LoopbackServer, reachable_as


def test_a_specific_address_is_named_as_it_is() -> None:
    assert reachable_as("127.0.0.1") == "127.0.0.1"
    assert reachable_as("10.0.0.5") == "10.0.0.5"


def test_an_ipv6_address_is_bracketed_for_urls() -> None:
    assert reachable_as("::1") == "[::1]"


@pytest.mark.parametrize("wildcard", ["0.0.0.0", "::"])
def test_a_wildcard_bind_is_reached_by_this_machines_name(wildcard: str) -> None:
    assert reachable_as(wildcard) == socket.gethostname()


def test_the_server_listens_where_it_was_told_and_says_so() -> None:
    server = LoopbackServer("test", ReplicaError, shutdown_timeout_s=1.0)
    try:
        (address,) = server.bind(1, "127.0.0.2")
        host, port = address.rsplit(":", 1)
        assert host == "127.0.0.2"
        with socket.create_connection((host, int(port)), timeout=2):
            pass
    finally:
        server.stop()


def test_an_address_it_cannot_listen_on_is_its_own_error() -> None:
    server = LoopbackServer("test", ReplicaError, shutdown_timeout_s=1.0)
    # TEST-NET-2: documentation addresses, on no interface.
    with pytest.raises(ReplicaError, match=re.escape("test cannot listen on 198.51.100.77")):
        server.bind(1, "198.51.100.77")
