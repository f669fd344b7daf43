"""OPC UA binary: UA TCP and UA Secure Conversation (OPC 10000-6, Part 6 §7.1 and §6.7).

Where it lives: TCP 4840 (the IANA port, Part 6 §7.2), and any TCP port whose payload passes ``probe``
(a message type, a chunk type and a plausible size). ``wire`` decodes the transport headers, ``binary``
the built-in types, ``services`` the service bodies in the clear, ``certs`` the subject of a DER
certificate, ``messages`` turns chunks into protocol-neutral ``Message``s with each direction's secure
channel state, ``stream`` frames one direction of a TCP stream, ``pairing.complete`` adds what a response
means once its request is known, ``codes`` names the numbers and holds the one action table.
Registration is this ``SPEC``.
"""
from __future__ import annotations

from protocols.base import ProtocolSpec
from protocols.opcua.codes import ACTION_TABLE, WEIRDS
from protocols.opcua.pairing import complete
from protocols.opcua.stream import MAX_KEPT, OpcuaStream
from protocols.opcua.wire import probe

PORT = 4840  # IANA "opcua-tcp"

SPEC = ProtocolSpec(
    name="opcua",
    ports=frozenset({("tcp", PORT)}),
    probe=probe,
    framer=OpcuaStream,
    complete=complete,
    actions=ACTION_TABLE,
    weirds=WEIRDS,
)

__all__ = ["MAX_KEPT", "PORT", "SPEC", "OpcuaStream", "complete", "probe"]
