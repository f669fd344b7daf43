"""IEC 60870-5-104 (telecontrol over TCP 2404): APCI I, S and U formats and the ASDUs of IEC 60870-5-101.

``wire`` decodes APDUs and ASDUs into records, ``elements`` the information elements of each type,
``message`` turns records into protocol-neutral ``Message``s (direction, roles, pairing, points), ``stream``
frames one direction of a TCP stream, ``codes`` names the numbers and holds the one action table and the
weird codes. Registration is this ``SPEC``.

Off port 2404 a flow is recognised by ``probe``: its first payload must start with a whole, well-formed APCI.
"""
from __future__ import annotations

from protocols.base import ProtocolSpec, Verdict
from protocols.iec104.codes import ACTIONS, MAX_APDU_LENGTH, MIN_APDU_LENGTH, PORT, START, TYPE_NAMES, WEIRDS, UFunction
from protocols.iec104.message import apdu_message
from protocols.iec104.stream import MAX_BUFFER, Iec104Stream
from protocols.iec104.wire import MAX_OBJECTS, parse_apdu, parse_asdu

_U_FUNCTIONS = frozenset(int(u) for u in UFunction)
_DEFINED_CAUSES = frozenset({*range(1, 14), *range(20, 42), *range(44, 48)})


def probe(data: bytes) -> Verdict:
    """Does this payload start with an APDU? Start octet, length and a control field with no stray bits.

    A U-format APDU (how a connection starts: STARTDT act) or an S-format one must be exactly four control
    octets long; an I-format one must carry a known type identification and a defined cause of transmission.
    Anything else is rejected at once, so the probe costs one comparison on traffic that is not 104.
    """
    if not data or data[0] != START:
        return Verdict.REJECT
    if len(data) < 6:
        return Verdict.MORE if len(data) < 2 or MIN_APDU_LENGTH <= data[1] <= MAX_APDU_LENGTH else Verdict.REJECT
    length, c = data[1], data[2:6]
    if not MIN_APDU_LENGTH <= length <= MAX_APDU_LENGTH:
        return Verdict.REJECT
    if c[0] & 0x03 == 0x03:
        ok = length == MIN_APDU_LENGTH and c[0] in _U_FUNCTIONS and not (c[1] or c[2] or c[3])
    elif c[0] & 0x01:
        ok = length == MIN_APDU_LENGTH and c[0] == 0x01 and not c[1] and not c[2] & 0x01
    else:
        if c[2] & 0x01 or length < MIN_APDU_LENGTH + 6:
            return Verdict.REJECT
        if len(data) < 9:
            return Verdict.MORE
        ok = data[6] in TYPE_NAMES and data[7] & 0x7F > 0 and data[8] & 0x3F in _DEFINED_CAUSES
    return Verdict.ACCEPT if ok else Verdict.REJECT


SPEC = ProtocolSpec(
    name="iec104",
    ports=frozenset({("tcp", PORT)}),
    probe=probe,
    framer=Iec104Stream,
    actions=ACTIONS,
    weirds=WEIRDS,
)

__all__ = ["MAX_BUFFER", "MAX_OBJECTS", "PORT", "SPEC", "Iec104Stream", "apdu_message", "parse_apdu", "parse_asdu",
           "probe"]
