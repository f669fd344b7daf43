"""S7comm and S7comm-plus on ISO-TSAP (TCP 102): TPKT (RFC 1006), COTP (ISO 8073), S7 (Siemens).

``wire`` decodes TPKT, COTP and S7comm PDUs, ``szl`` the System Status Lists (identity), ``plus``
S7comm-plus frames and PDUs, ``message`` turns records into ``Message``s, ``stream`` frames one
direction of a TCP stream, ``pairing.complete`` adds to a response what only its request tells,
``codes`` names the numbers and holds the action table and the weird codes. Registration is this
``SPEC``, listed in ``protocols/__init__.py``.

Port 102 is shared: IEC 61850 MMS runs on the same TPKT/COTP stack, so only the first TSDU of
a connection tells them apart (``probe``).
"""
from __future__ import annotations

from protocols.base import Malformed, NeedMore, ProtocolSpec, Verdict
from protocols.s7comm.codes import ACTIONS, PLUS_PROTOCOL_ID, PROTOCOL_ID, TSAP_PORT, WEIRDS, Rosctr, Tpdu
from protocols.s7comm.pairing import complete
from protocols.s7comm.stream import MAX_BUFFER, MAX_PDU, S7Stream
from protocols.s7comm.wire import parse_cotp, parse_tpkt

_ROSCTRS = frozenset(int(r) for r in Rosctr)


def probe(data: bytes) -> Verdict:
    """Is this payload S7comm or S7comm-plus on ISO-on-TCP? Decided by the first COTP data it carries.

    Connection set-up TPDUs (CR, CC) are the same for S7 and MMS, so they ask for ``MORE``. The
    first DT with user data decides: 0x32 followed by a known ROSCTR, or 0x72, is S7; anything
    else (MMS starts with an ISO session SPDU, 0x0D or 0x01) is not. Bytes that are not TPKT
    are rejected at once.
    """
    pos = 0
    while pos < len(data):
        try:
            result = parse_tpkt(data, pos)
        except Malformed:
            return Verdict.REJECT
        if isinstance(result, NeedMore):
            return _partial(data, pos)
        tpdu, used = result
        try:
            cotp, _ = parse_cotp(tpdu)
        except Malformed:
            return Verdict.REJECT
        if cotp.weird == "s7comm_unknown_tpdu":
            return Verdict.REJECT
        if cotp.code == Tpdu.DATA and cotp.user_data:
            return _first_octets(cotp.user_data)
        pos += used
    return Verdict.MORE


def _partial(data: bytes, pos: int) -> Verdict:
    """A TPKT cut short: decide from its DT header and first user octets if they are there."""
    head = data[pos + 4:]
    if len(head) >= 3 and head[1] & 0xF0 == Tpdu.DATA and head[0] == 2:
        return _first_octets(head[3:]) if len(head) > 3 else Verdict.MORE
    return Verdict.MORE


def _first_octets(user: bytes) -> Verdict:
    if user[0] == PLUS_PROTOCOL_ID:
        return Verdict.ACCEPT
    if user[0] != PROTOCOL_ID:
        return Verdict.REJECT
    if len(user) < 2:
        return Verdict.MORE
    return Verdict.ACCEPT if user[1] in _ROSCTRS else Verdict.REJECT


SPEC = ProtocolSpec(
    name="s7comm",
    ports=frozenset({("tcp", TSAP_PORT)}),
    shared_ports=frozenset({("tcp", TSAP_PORT)}),  # IEC 61850 MMS uses ISO-TSAP too
    probe=probe,
    framer=S7Stream,
    complete=complete,
    actions=ACTIONS,
    weirds=WEIRDS,
)

__all__ = ["ACTIONS", "MAX_BUFFER", "MAX_PDU", "SPEC", "WEIRDS", "S7Stream", "complete", "probe"]
