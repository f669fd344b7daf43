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

from typing import TypeVar

from protocols.base import Malformed, Message, NeedMore
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

Tag = TypeVar("Tag")


class S7Stream:
    """Per-direction framing state: feed segments in order, get (tag, Message or Malformed) back.

    Malformed offsets count the bytes fed to this stream, so they stay meaningful across segments.
    """

    __slots__ = ("_dt", "_dt_start", "_fed", "_foreign", "_pending", "_plus", "_plus_version", "_szl",
                 "is_request", "max_buffer", "max_pdu")

    def __init__(self, is_request: bool, max_buffer: int = MAX_BUFFER, max_pdu: int = MAX_PDU) -> None:
        self.is_request = is_request
        self.max_buffer = max_buffer
        self.max_pdu = max_pdu
        self._pending = bytearray()  # the start of a TPKT whose end has not arrived
        self._fed = 0
        self._dt = bytearray()  # COTP DT user data of a TSDU whose EOT has not arrived
        self._dt_start = 0  # stream offset of the TPKT that began it
        self._plus = bytearray()  # S7comm-plus PDU data of frames without trailer
        self._plus_version = 0
        self._szl: tuple[int, bytes] | None = None  # (data unit reference, SZL octets so far)
        self._foreign = False

    def feed(self, data: bytes, tag: Tag) -> list[tuple[Tag, Message | Malformed]]:
        """Frame every complete message now available; keep an incomplete tail for the next segment."""
        base = self._fed - len(self._pending)  # stream offset of buf[0]
        self._fed += len(data)
        if self._pending:
            self._pending += data
            buf: bytes | bytearray = self._pending
        else:
            buf = data
        out: list[tuple[Tag, Message | Malformed]] = []
        pos = 0
        size = len(buf)
        while pos < size:
            try:
                result = parse_tpkt(buf, pos)
            except Malformed as bad:
                # Framing is lost: drop everything up to the next segment boundary.
                out.append((tag, Malformed(bad.code, base + pos, bad.detail)))
                self._pending = bytearray()
                self._drop_fragments()
                return out
            if isinstance(result, NeedMore):
                break
            tpdu, used = result
            self._tpdu(tpdu, base + pos, tag, out)
            pos += used
        if size - pos > self.max_buffer:
            out.append((tag, Malformed("s7comm_buffer_overflow", base + pos, f"{size - pos} bytes pending")))
            self._pending = bytearray()
            self._drop_fragments()
        elif buf is self._pending:
            del self._pending[:pos]
        else:
            self._pending = bytearray(buf[pos:])
        return out

    def gap(self) -> None:
        """Bytes were lost (TCP gap): partial TPKTs and fragments can never complete, so drop them."""
        self._pending = bytearray()
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
