"""The domain: pure Python, no Qt and no I/O."""
