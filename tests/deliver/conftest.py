"""The direct channel, for real (the reference platform on loopback gives the block, the quota and the
acceptance): invoices reach `accepted` through the upload worker, as in the desk."""

from tests.channels.conftest import client, direct, online  # noqa: F401 (fixtures)
