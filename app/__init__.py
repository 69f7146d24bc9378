"""Fapiao Desk (发票离线开票台): offline invoice desk for when the platform is down."""

__version__ = "0.1.0"
