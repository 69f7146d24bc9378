"""The desktop app: Qt widgets and models only; every action goes through app.store services."""

from app.ui import pyside_feature

pyside_feature.install()  # before any Qt module of the desk is imported: see app/ui/pyside_feature.py
