"""BACnet/IP (ASHRAE 135-2020 Annex J) over UDP port 47808, and on any UDP port whose payloads pass the probe.

``wire`` decodes the BVLC, NPDU and APDU headers, ``tags`` the tagged encoding of clause 20.2, ``services`` the
parameters of the services that say what is read, written, announced or commanded, ``message`` turns a datagram
into a protocol-neutral ``Message`` with its facts, ``codes``/``tables``/``vendors`` name the numbers and hold
the one action table and the weird codes. Registration is this ``SPEC``.

Documented differences: BACnet over Ethernet 802.2 LLC (DSAP/SSAP 0x82), MS/TP and ARCNET are not decoded (the
sensor's link layer dispatches ethertypes and LLC/SNAP only, and BACnet/IP is what crosses IP conduits); nor is
BACnet/IPv6 (BVLC type 0x82, Annex U). Segmented messages are reported (segmented, more_follows,
sequence_number, window_size) and their first segment decoded as far as it goes; they are not reassembled,
since datagrams are parsed one at a time.
"""
from __future__ import annotations

from protocols.bacnet.codes import ACTIONS, PORT, WEIRDS
from protocols.bacnet.message import datagram_message
from protocols.bacnet.wire import parse_apdu, parse_bvlc, parse_npdu, probe
from protocols.base import Message, ProtocolSpec


def datagram(payload: bytes, is_request: bool) -> list[Message]:
    """The one message of a BACnet/IP datagram; raises Malformed when its headers cannot be read.

    ``is_request`` (the flow side that sent it) only keys the pairing: BACnet says its own direction.
    """
    return [datagram_message(payload, is_request)]


def complete(request: Message, response: Message) -> Message:
    """A Reject or Abort names no service: the request it answers does."""
    if response.function_name in ("reject", "abort"):
        response.fields["service_choice"] = request.function_code
        response.fields["service"] = request.function_name
    return response


SPEC = ProtocolSpec(
    name="bacnet",
    ports=frozenset({("udp", PORT)}),
    probe=probe,
    datagram=datagram,
    complete=complete,
    actions=ACTIONS,
    weirds=WEIRDS,
)

__all__ = ["PORT", "SPEC", "complete", "datagram", "parse_apdu", "parse_bvlc", "parse_npdu", "probe"]
