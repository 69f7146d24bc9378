"""The desktop app: Qt widgets and models only; every action goes through app.store services."""
