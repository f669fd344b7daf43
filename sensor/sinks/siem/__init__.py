"""SIEM forwarding: ECS, CEF and LEEF records over syslog (UDP, TCP, TLS), through a disk spool.

``Forwarder`` is the one object the pipeline needs; ``format_alert`` serves ``--alerts-format``.
"""
from sensor.sinks.siem.forwarder import FORMATS, Forwarder, format_alert, format_asset

__all__ = ["FORMATS", "Forwarder", "format_alert", "format_asset"]
