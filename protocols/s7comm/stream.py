"""Framing S7comm and S7comm-plus out of one direction of a reassembled TCP stream on port 102.

Three layers cut messages, and each may split one:

- TPKT (RFC 1006) delimits TPDUs in the byte stream; its header is the only delimiter, so once it
  is wrong nothing after it can be trusted until the next segment starts, where senders in
  practice begin a new TPKT (as ``protocols/modbus/stream.py`` does for MBAP);
- COTP (ISO 8073 §13.7) splits a TSDU over DT TPDUs: all but the last have EOT clear;
- S7comm-plus splits a PDU over frames: only the last has the trailer (``plus``); S7comm splits a
  long SZL answer over userdata data units: all but the last say "more follows".

A message is reported with the tag of the segment that completes it, as tshark does. Errors
inside a TPKT whose header was sound (a bad COTP header, a PDU that is not S7) are reported and
framing continues with the next TPKT. The first non-S7 TSDU of a stream is reported once
(``s7comm_bad_protocol_id``); later ones are skipped silently: that is an MMS or other ISO
application sharing port 102, which the probe should have kept away.
"""
from __future__ import annotations

from protocols.base import Malformed, NeedMore
from protocols.framing import LengthFramer, Tag
from protocols.s7comm.codes import PLUS_PROTOCOL_ID, PROTOCOL_ID, READ_SZL, Tpdu, UserdataType, userdata_code
from protocols.s7comm.message import cotp_message, plus_message, s7_message
from protocols.s7comm.plus import parse_frame
from protocols.s7comm.plus import parse_pdu as parse_plus_pdu
from protocols.s7comm.wire import parse_cotp, parse_pdu, parse_tpkt

MAX_BUFFER = 65_536
"""Most bytes kept waiting for the rest of a TPKT. A TPKT announces at most 65,535 octets, so this
only trips if that invariant breaks; it exists so the bound is named and reported."""

MAX_PDU = 65_536
"""Most octets of one TSDU or S7comm-plus PDU kept across fragments (COTP DT without EOT,
S7comm-plus frames without trailer, SZL data units). S7 PDUs are at most 960 octets; S7comm-plus
block downloads reach tens of kilobytes."""


class S7Stream(LengthFramer):
    """Per-direction framing state: feed segments in order, get (tag, Message or Malformed) back
    (``protocols.framing``)."""

    __slots__ = ("_dt", "_dt_start", "_foreign", "_plus", "_plus_version", "_szl", "max_pdu")
    overflow = "s7comm_buffer_overflow"

    def __init__(self, is_request: bool, max_buffer: int = MAX_BUFFER, max_pdu: int = MAX_PDU) -> None:
        super().__init__(is_request, max_buffer)
        self.max_pdu = max_pdu
        self._dt = bytearray()  # COTP DT user data of a TSDU whose EOT has not arrived
        self._dt_start = 0  # stream offset of the TPKT that began it
        self._plus = bytearray()  # S7comm-plus PDU data of frames without trailer
        self._plus_version = 0
        self._szl: tuple[int, bytes] | None = None  # (data unit reference, SZL octets so far)
        self._foreign = False

    def frame(self, buf: bytes | bytearray, pos: int) -> tuple[bytes, int] | NeedMore:
        return parse_tpkt(buf, pos)

    def emit(self, unit: bytes, offset: int, tag: Tag, out: list) -> None:
        self._tpdu(unit, offset, tag, out)

    def drop(self) -> None:
        """Partial TPKTs and fragments can never complete once framing is lost or bytes are."""
        super().drop()
        self._drop_fragments()

    @property
    def pending(self) -> int:
        """Bytes waiting for the rest of their TPKT, TSDU or S7comm-plus PDU."""
        return len(self._pending) + len(self._dt) + len(self._plus)

    # --- inside one TPKT ------------------------------------------------------------------------

    def _drop_fragments(self) -> None:
        self._dt = bytearray()
        self._plus = bytearray()
        self._szl = None

    def _tpdu(self, tpdu: bytes, offset: int, tag: Tag, out: list) -> None:
        if len(tpdu) >= 3 and tpdu[0] == 2 and tpdu[1] == 0xF0:  # a class 0 DT, nearly every TPDU: no record
            eot, user_data = bool(tpdu[2] & 0x80), tpdu[3:]
        else:
            try:
                cotp, _ = parse_cotp(tpdu)
            except Malformed as bad:
                out.append((tag, Malformed(bad.code, offset + 4 + bad.offset, bad.detail)))
                return
            if cotp.code != Tpdu.DATA or cotp.weird == "s7comm_unknown_tpdu":
                out.append((tag, cotp_message(cotp, self.is_request)))
                return
            eot, user_data = bool(cotp.eot), cotp.user_data
        if not self._dt:
            if eot:  # the whole TSDU in one DT: no copy into the reassembly buffer
                if user_data:
                    self._tsdu(user_data, offset, tag, out)
                return
            self._dt_start = offset
        self._dt += user_data
        if len(self._dt) > self.max_pdu:
            out.append((tag, Malformed("s7comm_reassembly_overflow", self._dt_start, f"{len(self._dt)} octets")))
            self._dt = bytearray()
            return
        if not eot:
            return
        tsdu, start = bytes(self._dt), self._dt_start
        self._dt = bytearray()
        if tsdu:
            self._tsdu(tsdu, start, tag, out)

    def _tsdu(self, tsdu: bytes, offset: int, tag: Tag, out: list) -> None:
        """One reassembled COTP TSDU: an S7comm PDU, or an S7comm-plus frame."""
        first = tsdu[0]
        if first == PROTOCOL_ID:
            self._s7(tsdu, offset, tag, out)
        elif first == PLUS_PROTOCOL_ID:
            self._plus_frame(tsdu, offset, tag, out)
        elif not self._foreign:
            self._foreign = True
            out.append((tag, Malformed("s7comm_bad_protocol_id", offset, f"TSDU starts 0x{first:02x}")))

    def _s7(self, tsdu: bytes, offset: int, tag: Tag, out: list) -> None:
        try:
            result = parse_pdu(tsdu)
        except Malformed as bad:
            out.append((tag, Malformed(bad.code, offset, bad.detail)))
            return
        if isinstance(result, NeedMore):
            out.append((tag, Malformed("s7comm_bad_length", offset, f"{result.needed} octets missing")))
            return
        pdu, used = result
        ud = pdu.userdata
        szl_data, fragment, weird = None, False, None
        if ud is not None and ud.type == UserdataType.RESPONSE and userdata_code(ud.group, ud.subfunction) == READ_SZL:
            szl_data, fragment, weird = self._szl_unit(ud.data_unit_reference, ud.last_data_unit, ud.data)
        message = s7_message(pdu, self.is_request, szl_data, fragment)
        if used < len(tsdu) or weird:
            message.weird = message.weird or weird or "s7comm_trailing_bytes"
        out.append((tag, message))

    def _szl_unit(self, ref: int | None, last: bool | None, data: bytes) -> tuple[bytes | None, bool, str | None]:
        """Join an SZL answer's data units: (the whole list when this is its last unit, more to come?, weird)."""
        if self._szl is not None and self._szl[0] == ref:
            joined = self._szl[1] + data
            if last is False and len(joined) <= self.max_pdu:
                self._szl = (ref if ref is not None else 0, joined)
                return None, True, None
            self._szl = None
            return joined, False, None
        if last is False:
            self._szl = (ref if ref is not None else 0, data)
            return None, True, None
        self._szl = None
        return None, False, None

    def _plus_frame(self, tsdu: bytes, offset: int, tag: Tag, out: list) -> None:
        try:
            result = parse_frame(tsdu)
        except Malformed as bad:
            out.append((tag, Malformed(bad.code, offset, bad.detail)))
            return
        if isinstance(result, NeedMore):
            out.append((tag, Malformed("s7comm_plus_bad_length", offset, f"{result.needed} octets missing")))
            return
        frame, _ = result
        if not frame.has_trailer:
            if not self._plus:
                self._plus_version = frame.version
            self._plus += frame.data
            if len(self._plus) > self.max_pdu:
                out.append((tag, Malformed("s7comm_reassembly_overflow", offset, f"{len(self._plus)} octets")))
                self._plus = bytearray()
            return
        data = frame.data
        if self._plus:
            data = bytes(self._plus) + data
            self._plus = bytearray()
        pdu = parse_plus_pdu(frame.version, data, frame.keep_alive_sequence)
        message = plus_message(pdu, self.is_request)
        if frame.weird and not message.weird:
            message.weird = frame.weird
        out.append((tag, message))
