"""The local store: peewee over SQLite, and the one place that writes it."""
