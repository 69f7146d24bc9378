"""The direct channel, for real (the reference platform on loopback gives the block and the quota)."""

from tests.channels.conftest import client, direct, online  # noqa: F401 (fixtures)
