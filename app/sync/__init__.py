"""Talking to the online platform: client, connectivity monitor, upload queue worker, reference server."""
