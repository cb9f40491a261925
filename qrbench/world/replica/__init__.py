"""A local replica of the WhatsApp Web login page, served on loopback for benchmarks."""

from qrbench.world.replica.server import Replica, ReplicaConfig, ReplicaUrls

__all__ = ["Replica", "ReplicaConfig", "ReplicaUrls"]
