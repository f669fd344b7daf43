"""SQLite store: the embedded default for inventory, communications, alerts, checkpoints and runs."""
import sys

# sqlite-utils imports pandas when it is installed, only to map pandas timestamps to TEXT (we store none):
# 0.2-0.4 s of every command's start-up. pandas is hidden while sqlite-utils loads and imports normally later.
if "pandas" not in sys.modules:
    sys.modules["pandas"] = None  # type: ignore[assignment]  # importing a None entry raises ImportError
    try:
        import sqlite_utils.db  # noqa: F401
    finally:
        del sys.modules["pandas"]

from .batch import FileCheckpoint, Run, StoreBatch
from .db import Store
from .schema import SchemaTooNew

__all__ = ["FileCheckpoint", "Run", "SchemaTooNew", "Store", "StoreBatch"]
