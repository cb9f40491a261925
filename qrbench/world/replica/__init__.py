"""A local replica of the WhatsApp Web login page, served on loopback for benchmarks."""

from qrbench.world.replica.server import Replica, ReplicaConfig
from qrbench.world.replica.urls import ReplicaUrls

__all__ = ["Replica", "ReplicaConfig", "ReplicaUrls"]
