"""What every per-message ICSNPP-style record starts with, and the interface of a protocol's log writer.

``MessageLogs._rows`` (``ics``) yields, per message, ``(flow, head, is_orig, message)`` where ``head`` is
``(ts, uid, id.orig_h, id.orig_p, id.resp_h, id.resp_p)``. ICSNPP's newer records add the message's own
direction after ``is_orig`` (``source_h source_p destination_h destination_p``): ``endpoints`` gives them.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

from protocols.base import Message
from sensor.dissect.generic import MessageBatch
from sensor.flows.table import Flow
from sensor.sinks.zeek.ascii import LogFile

SIDES = "is_orig:bool source_h:addr source_p:port destination_h:addr destination_p:port"

Head = tuple[Any, ...]
Rows = Callable[[MessageBatch], Iterator[tuple[Flow, Head, bool, Message]]]


def endpoints(head: Head, is_orig: bool) -> tuple[bool, Any, Any, Any, Any]:
    """``is_orig`` and the sender's then the receiver's address and port (ICSNPP's source/destination)."""
    if is_orig:
        return is_orig, head[2], head[3], head[4], head[5]
    return is_orig, head[4], head[5], head[2], head[3]


class ProtocolLogs(Protocol):
    """One protocol's logs, as ``MessageLogs`` drives them."""

    protocol: str

    def logs(self) -> list[LogFile]: ...

    def write(self, batch: MessageBatch) -> None: ...

    def flow_ended(self, flow: Flow) -> None: ...

    def close(self) -> None: ...
