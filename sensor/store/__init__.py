"""SQLite store: the embedded default for inventory, communications, alerts, checkpoints and runs."""
from .batch import FileCheckpoint, Run, StoreBatch
from .db import Store
from .schema import SchemaTooNew

__all__ = ["FileCheckpoint", "Run", "SchemaTooNew", "Store", "StoreBatch"]
