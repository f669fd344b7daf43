"""Zeek-compatible logs (``--zeek-logs DIR``, ``--zeek-format tsv|json``): see ``sensor.sinks.zeek.logs``."""
from sensor.sinks.zeek.logs import ZeekLogs

__all__ = ["ZeekLogs"]
