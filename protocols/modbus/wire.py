"""Modbus/TCP ADUs: bytes → ``ModbusMessage``. The single source of truth for full decoding.

ADU, Messaging on TCP/IP Implementation Guide V1.0b §3.1.3 (MBAP header)::

    0       2       4       6    7    8
    +-------+-------+-------+----+----+--------------------+
    | trans | proto | length|unit| fc | data ...           |
    |  id   | id=0  |  u16  | id | u8 |                    |
    +-------+-------+-------+----+----+--------------------+
                            |<------- length bytes ------->|

Two levels of trouble, as Zeek distinguishes weirds from violations:

- The MBAP header itself is wrong (protocol id not 0, length outside 2..254): the bytes are not
  Modbus, or framing is lost, so ``parse_adu`` raises ``Malformed``.
- The PDU is odd (a byte count that disagrees, a quantity out of range, trailing bytes): the MBAP
  length still delimits the message, so it is returned with the fields that could be read and
  ``weird`` naming the first problem found. The weird codes are the ``WEIRD_*`` constants below.

Everything here is pure: no I/O, no logging, no state.
"""
from __future__ import annotations

import operator
import struct
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain
from typing import Any, NamedTuple

from protocols.base import Malformed, NeedMore
from protocols.modbus.codes import (
    UMAS,
    action_name,
    conformity_level_name,
    diagnostic_name,
    exception_name,
    function_name,
    is_known_exception,
    mei_type_name,
    object_name,
    read_device_id_name,
)

MBAP_SIZE = 7
MIN_LENGTH = 2  # unit id + function code
MAX_LENGTH = 254  # unit id + the 253-byte PDU limit of the serial line (§4.1 of the application spec)

WEIRD_PDU_TOO_SHORT = "modbus_pdu_too_short"
WEIRD_BAD_BYTE_COUNT = "modbus_bad_byte_count"
WEIRD_BAD_QUANTITY = "modbus_bad_quantity"
WEIRD_BAD_COIL_VALUE = "modbus_bad_coil_value"
WEIRD_UNKNOWN_EXCEPTION_CODE = "modbus_unknown_exception_code"
WEIRD_TRAILING_BYTES = "modbus_trailing_bytes"

_MBAP_PREFIX = struct.Struct(">HHH")  # transaction id, protocol id, length
_U16 = struct.Struct(">H")
_U16X2 = struct.Struct(">HH")
_U16X3 = struct.Struct(">HHH")
_U16X2_U8 = struct.Struct(">HHB")
_U8_U16X3 = struct.Struct(">BHHH")
_U16X4_U8 = struct.Struct(">HHHHB")
_REGISTERS = tuple(struct.Struct(f">{n}H") for n in range(128))
_BITS = tuple(tuple((byte >> i) & 1 for i in range(8)) for byte in range(256))  # §6.1: LSB first


class FileRecord(NamedTuple):
    """One sub-request/sub-response of Read/Write File Record (20/21); None where the layout lacks it."""

    reference_type: int
    file_number: int | None
    record_number: int | None
    record_length: int | None  # in 16-bit registers
    data: bytes | None


class IdentificationObject(NamedTuple):
    """One object of a Read Device Identification (43/14) response."""

    object_id: int
    object_name: str
    value: str


@dataclass(frozen=True, slots=True)
class ModbusMessage:
    """One Modbus/TCP ADU. Fields a function code does not carry stay None."""

    transaction_id: int
    unit_id: int
    function_code: int  # without the exception bit
    function_name: str
    is_request: bool
    exception_code: int | None = None
    exception_name: str | None = None
    address: int | None = None  # starting / output / reference / FIFO pointer address; FC23: read half
    quantity: int | None = None  # coils or registers; FC23: read half
    values: tuple[int, ...] | None = None  # registers, or coil bits as 0/1
    byte_count: int | None = None
    sub_function: int | None = None  # FC8
    sub_function_name: str | None = None
    and_mask: int | None = None  # FC22
    or_mask: int | None = None
    write_address: int | None = None  # FC23 write half
    write_quantity: int | None = None
    file_records: tuple[FileRecord, ...] | None = None  # FC20/21
    fifo_count: int | None = None  # FC24
    status: int | None = None  # FC11/12: 0xFFFF busy, 0x0000 idle
    event_count: int | None = None  # FC11/12
    message_count: int | None = None  # FC12
    events: bytes | None = None  # FC12: one byte per event, newest first
    server_id: bytes | None = None  # FC17
    run_indicator: bool | None = None  # FC17: True = ON (0xFF)
    additional_data: bytes | None = None  # FC17: device-specific bytes after the run indicator
    output_data: int | None = None  # FC7: the eight exception status outputs
    mei_type: int | None = None  # FC43
    mei_type_name: str | None = None
    read_device_id_code: int | None = None  # 43/14
    read_device_id_name: str | None = None
    object_id: int | None = None  # 43/14 request: first object wanted
    conformity_level: int | None = None
    conformity_level_name: str | None = None
    more_follows: bool | None = None
    next_object_id: int | None = None
    number_of_objects: int | None = None
    objects: tuple[IdentificationObject, ...] | None = None
    data: bytes | None = None  # opaque payload: user-defined/unknown codes, CANopen and other MEI types
    weird: str | None = None

    @property
    def action_name(self) -> str:
        """The function's name refined by the sub-function that decides its action (``codes.ACTIONS``)."""
        umas = self.data[1] if self.function_code == UMAS and self.is_request and self.data and len(self.data) > 1 else None
        return action_name(self.function_code, self.sub_function, self.mei_type, umas)

    def event_fields(self) -> dict[str, Any]:
        """This message's fields for the events file (DESIGN.md "Events"); contract fields always present."""
        values = self.values
        out: dict[str, Any] = {
            "transaction_id": self.transaction_id,
            "unit_id": self.unit_id,
            "function_code": self.function_code,
            "function_name": self.function_name,
            "exception_code": self.exception_code,
            "address": self.address,
            "quantity": self.quantity,
            "values": list(values) if values is not None else None,
        }
        for name, value in zip(_OPTIONAL_EVENT_FIELDS, _optional_values(self)):
            if value is not None:
                out[name] = _to_json(name, value)
        return out


_CONTRACT_FIELDS = frozenset({
    "transaction_id", "unit_id", "function_code", "function_name",
    "exception_code", "address", "quantity", "values",
})
# is_request is not an event field: the writer states it as "direction".
_OPTIONAL_EVENT_FIELDS = tuple(
    name for name in ModbusMessage.__dataclass_fields__
    if name not in _CONTRACT_FIELDS and name != "is_request"
)
_optional_values = operator.attrgetter(*_OPTIONAL_EVENT_FIELDS)  # one call for all of them: events are hot


def _to_json(name: str, value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if name == "objects":
        return [{"id": o.object_id, "name": o.object_name, "value": o.value} for o in value]
    if name == "file_records":
        return [
            {k: (v.hex() if isinstance(v, bytes) else v) for k, v in r._asdict().items() if v is not None}
            for r in value
        ]
    return value


# A decoder reads the PDU body buf[p:end] (after the function code) of one direction.
_Decoder = Callable[[Any, int, int, int, int, int, bool], ModbusMessage]


def parse_adu(
    buf: bytes | bytearray | memoryview, offset: int, is_request: bool
) -> tuple[ModbusMessage, int] | NeedMore:
    """Decode the ADU at ``buf[offset:]``: (message, bytes used), NeedMore, or raise Malformed.

    The header is checked as soon as its bytes are there, so garbage is refused before
    waiting for a length it announces.
    """
    avail = len(buf) - offset
    if offset < 0 or avail < 0:
        raise ValueError(f"offset {offset} outside a buffer of {len(buf)} bytes")
    if avail < 6:
        if avail >= 4 and (buf[offset + 2] or buf[offset + 3]):
            raise Malformed("modbus_bad_protocol_id", offset)
        return NeedMore(MBAP_SIZE - avail)
    transaction_id, protocol_id, length = _MBAP_PREFIX.unpack_from(buf, offset)
    if protocol_id != 0:
        raise Malformed("modbus_bad_protocol_id", offset, f"protocol id {protocol_id}")
    if length < MIN_LENGTH or length > MAX_LENGTH:
        raise Malformed("modbus_bad_length", offset, f"length {length}")
    used = 6 + length
    if avail < used:
        return NeedMore(used - avail)
    unit_id = buf[offset + 6]
    fc = buf[offset + 7]
    p = offset + 8
    end = offset + used
    if fc & 0x80:
        return _exception(buf, p, end, transaction_id, unit_id, fc & 0x7F, is_request), used
    pair = _DECODERS.get(fc)
    decode = _opaque if pair is None else pair[0] if is_request else pair[1]
    return decode(buf, p, end, transaction_id, unit_id, fc, is_request), used


def probe(data: bytes) -> bool:
    """Does ``data`` start like a Modbus/TCP ADU? Used to find Modbus off port 502."""
    if len(data) < 8:
        return False
    _, protocol_id, length = _MBAP_PREFIX.unpack_from(data, 0)
    fc = data[7]
    if protocol_id != 0 or not MIN_LENGTH <= length <= MAX_LENGTH or fc in (0x00, 0x80):
        return False
    rest = len(data) - (6 + length)
    # A whole ADU followed by more bytes is only plausible if the next ADU header starts right there.
    return rest < 4 or (data[6 + length + 2] == 0 and data[6 + length + 3] == 0)


# --- helpers ---------------------------------------------------------------------------------


def _bits(buf: Any, start: int, nbytes: int) -> tuple[int, ...]:
    """Coil/input bits, LSB of the first byte first (§6.1, §6.11)."""
    return tuple(chain.from_iterable(map(_BITS.__getitem__, buf[start : start + nbytes])))


def _registers(buf: Any, start: int, nbytes: int) -> tuple[int, ...]:
    n = nbytes >> 1
    if n < len(_REGISTERS):
        return _REGISTERS[n].unpack_from(buf, start)
    return struct.unpack_from(f">{n}H", buf, start)


def _text(raw: bytes) -> str:
    """Identification strings are ASCII by spec; accept UTF-8, else show bytes as Latin-1 (never fails)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _head_only(
    buf: Any, p: int, end: int, tid: int, uid: int, fc: int, is_request: bool, weird: str | None = None
) -> ModbusMessage:
    return ModbusMessage(tid, uid, fc, function_name(fc), is_request, weird=weird)


# --- exceptions and opaque payloads ----------------------------------------------------------


def _exception(buf: Any, p: int, end: int, tid: int, uid: int, fc: int, is_request: bool) -> ModbusMessage:
    """Exception response, §7::

        +-----------+----------------+
        | fc | 0x80 | exception code |
        +-----------+----------------+
    """
    if end - p < 1:
        return _head_only(buf, p, end, tid, uid, fc, is_request, WEIRD_PDU_TOO_SHORT)
    code = buf[p]
    weird = None if is_known_exception(code) else WEIRD_UNKNOWN_EXCEPTION_CODE
    if weird is None and end - p > 1:
        weird = WEIRD_TRAILING_BYTES
    return ModbusMessage(
        tid, uid, fc, function_name(fc), is_request,
        exception_code=code, exception_name=exception_name(code), weird=weird,
    )


def _opaque(buf: Any, p: int, end: int, tid: int, uid: int, fc: int, is_request: bool) -> ModbusMessage:
    """User-defined (§5.1), UMAS and unknown codes: the payload is kept, not judged."""
    return ModbusMessage(tid, uid, fc, function_name(fc), is_request, data=bytes(buf[p:end]))


def _no_data_request(
    buf: Any, p: int, end: int, tid: int, uid: int, fc: int, is_request: bool
) -> ModbusMessage:
    """Requests of 7, 11, 12 and 17 are the function code alone (§6.7, §6.9, §6.10, §6.13)."""
    return _head_only(buf, p, end, tid, uid, fc, is_request, WEIRD_TRAILING_BYTES if end > p else None)


# --- 1, 2, 3, 4: reads -----------------------------------------------------------------------

_READ_LIMITS = {1: 2000, 2: 2000, 3: 125, 4: 125}  # §6.1–§6.4: max quantity per request


def _address_quantity(buf: Any, p: int, end: int, tid: int, uid: int, fc: int, is_request: bool,
                      limit: int) -> ModbusMessage:
    """The common [address u16][quantity u16] body, quantity checked against 1..``limit``."""
    n = end - p
    if n < 4:
        address = _U16.unpack_from(buf, p)[0] if n >= 2 else None
        return ModbusMessage(
            tid, uid, fc, function_name(fc), is_request, address=address, weird=WEIRD_PDU_TOO_SHORT
        )
    address, quantity = _U16X2.unpack_from(buf, p)
    weird = None
    if not 1 <= quantity <= limit:
        weird = WEIRD_BAD_QUANTITY
    elif n > 4:
        weird = WEIRD_TRAILING_BYTES
    return ModbusMessage(
        tid, uid, fc, function_name(fc), is_request, address=address, quantity=quantity, weird=weird
    )


def _read_request(buf: Any, p: int, end: int, tid: int, uid: int, fc: int, is_request: bool) -> ModbusMessage:
    """Read coils / discrete inputs / holding / input registers request, §6.1–§6.4::

        +----+-----------------+----------+
        | fc | starting address| quantity |
        |    |       u16       |   u16    |
        +----+-----------------+----------+
    """
    return _address_quantity(buf, p, end, tid, uid, fc, is_request, _READ_LIMITS[fc])


def _read_bits_response(
    buf: Any, p: int, end: int, tid: int, uid: int, fc: int, is_request: bool
) -> ModbusMessage:
    """Read coils / discrete inputs response, §6.1–§6.2::

        +----+------------+------------------------------+
        | fc | byte count | status bytes, LSB = first bit |
        |    |   u8 = N   |            N bytes           |
        +----+------------+------------------------------+

    The request's quantity is not repeated, so all N*8 bits are reported; pairing trims them.
    """
    if end - p < 1:
        return _head_only(buf, p, end, tid, uid, fc, is_request, WEIRD_PDU_TOO_SHORT)
    byte_count = buf[p]
    have = end - p - 1
    weird = None if byte_count == have and byte_count > 0 else WEIRD_BAD_BYTE_COUNT
    values = _bits(buf, p + 1, min(byte_count, have))
    return ModbusMessage(
        tid, uid, fc, function_name(fc), is_request, values=values, byte_count=byte_count, weird=weird
    )


def _read_registers_response(
    buf: Any, p: int, end: int, tid: int, uid: int, fc: int, is_request: bool
) -> ModbusMessage:
    """Read holding / input registers response (and the FC23 response), §6.3, §6.4, §6.17::

        +----+------------+---------------------------+
        | fc | byte count | register values, u16 each |
        |    | u8 = 2*N   |          2*N bytes        |
        +----+------------+---------------------------+
    """
    if end - p < 1:
        return _head_only(buf, p, end, tid, uid, fc, is_request, WEIRD_PDU_TOO_SHORT)
    byte_count = buf[p]
    have = end - p - 1
    weird = None if byte_count == have and byte_count % 2 == 0 and byte_count > 0 else WEIRD_BAD_BYTE_COUNT
    values = _registers(buf, p + 1, min(byte_count, have))
    return ModbusMessage(
        tid, uid, fc, function_name(fc), is_request, values=values, byte_count=byte_count, weird=weird
    )


# --- 5, 6, 22: single-item writes (response echoes the request) ---------------------------------


def _write_single_coil(
    buf: Any, p: int, end: int, tid: int, uid: int, fc: int, is_request: bool
) -> ModbusMessage:
    """Write single coil, request and echo, §6.5::

        +----+----------------+--------------------------+
        | fc | output address | 0xFF00 = ON, 0x0000 = OFF |
        +----+----------------+--------------------------+
    """
    n = end - p
    if n < 4:
        address = _U16.unpack_from(buf, p)[0] if n >= 2 else None
        return ModbusMessage(
            tid, uid, fc, function_name(fc), is_request, address=address, weird=WEIRD_PDU_TOO_SHORT
        )
    address, raw = _U16X2.unpack_from(buf, p)
    values: tuple[int, ...] | None
    weird = None
    if raw == 0xFF00:
        values = (1,)
    elif raw == 0x0000:
        values = (0,)
    else:
        values, weird = None, WEIRD_BAD_COIL_VALUE
    if weird is None and n > 4:
        weird = WEIRD_TRAILING_BYTES
    return ModbusMessage(
        tid, uid, fc, function_name(fc), is_request, address=address, quantity=1, values=values, weird=weird
    )


def _write_single_register(
    buf: Any, p: int, end: int, tid: int, uid: int, fc: int, is_request: bool
) -> ModbusMessage:
    """Write single register, request and echo, §6.6::

        +----+------------------+----------------+
        | fc | register address | register value |
        +----+------------------+----------------+
    """
    n = end - p
    if n < 4:
        address = _U16.unpack_from(buf, p)[0] if n >= 2 else None
        return ModbusMessage(
            tid, uid, fc, function_name(fc), is_request, address=address, weird=WEIRD_PDU_TOO_SHORT
        )
    address, value = _U16X2.unpack_from(buf, p)
    return ModbusMessage(
        tid, uid, fc, function_name(fc), is_request, address=address, quantity=1, values=(value,),
        weird=WEIRD_TRAILING_BYTES if n > 4 else None,
    )


def _mask_write_register(
    buf: Any, p: int, end: int, tid: int, uid: int, fc: int, is_request: bool
) -> ModbusMessage:
    """Mask write register, request and echo, §6.16::

        +----+-------------------+----------+---------+
        | fc | reference address | AND mask | OR mask |
        +----+-------------------+----------+---------+

    Result = (current AND and_mask) OR (or_mask AND NOT and_mask).
    """
    n = end - p
    if n < 6:
        address = _U16.unpack_from(buf, p)[0] if n >= 2 else None
        return ModbusMessage(
            tid, uid, fc, function_name(fc), is_request, address=address, weird=WEIRD_PDU_TOO_SHORT
        )
    address, and_mask, or_mask = _U16X3.unpack_from(buf, p)
    return ModbusMessage(
        tid, uid, fc, function_name(fc), is_request, address=address, quantity=1, and_mask=and_mask,
        or_mask=or_mask, weird=WEIRD_TRAILING_BYTES if n > 6 else None,
    )


# --- 15, 16: multiple writes ------------------------------------------------------------------


def _write_multiple_request(
    buf: Any, p: int, end: int, tid: int, uid: int, fc: int, is_request: bool
) -> ModbusMessage:
    """Write multiple coils / registers request, §6.11–§6.12::

        +----+------------------+----------+------------+---------------------+
        | fc | starting address | quantity | byte count | outputs / registers |
        |    |       u16        |   u16    |     u8     |  byte count bytes   |
        +----+------------------+----------+------------+---------------------+

    Coils: byte count = ceil(quantity / 8), quantity 1..0x7B0. Registers: 2 * quantity, 1..0x7B.
    """
    n = end - p
    if n < 5:
        address, quantity = _U16X2.unpack_from(buf, p) if n >= 4 else (None, None)
        return ModbusMessage(
            tid, uid, fc, function_name(fc), is_request, address=address, quantity=quantity,
            weird=WEIRD_PDU_TOO_SHORT,
        )
    address, quantity, byte_count = _U16X2_U8.unpack_from(buf, p)
    have = n - 5
    readable = min(byte_count, have)
    if fc == 15:
        limit, expected = 0x7B0, (quantity + 7) >> 3
        values = _bits(buf, p + 5, readable)[:quantity]
    else:
        limit, expected = 0x7B, quantity * 2
        values = _registers(buf, p + 5, readable)
    weird = None
    if not 1 <= quantity <= limit:
        weird = WEIRD_BAD_QUANTITY
    elif byte_count != expected or byte_count != have:
        weird = WEIRD_BAD_BYTE_COUNT
    return ModbusMessage(
        tid, uid, fc, function_name(fc), is_request, address=address, quantity=quantity, values=values,
        byte_count=byte_count, weird=weird,
    )


def _write_multiple_response(
    buf: Any, p: int, end: int, tid: int, uid: int, fc: int, is_request: bool
) -> ModbusMessage:
    """Write multiple coils / registers response, §6.11–§6.12::

        +----+------------------+----------+
        | fc | starting address | quantity |
        +----+------------------+----------+
    """
    return _address_quantity(buf, p, end, tid, uid, fc, is_request, 0x7B0 if fc == 15 else 0x7B)


# --- 7, 8, 11, 12, 17: serial-line diagnostics ----------------------------------------------


def _exception_status_response(
    buf: Any, p: int, end: int, tid: int, uid: int, fc: int, is_request: bool
) -> ModbusMessage:
    """Read exception status response, §6.7: one byte, the eight exception status outputs."""
    n = end - p
    if n < 1:
        return _head_only(buf, p, end, tid, uid, fc, is_request, WEIRD_PDU_TOO_SHORT)
    return ModbusMessage(
        tid, uid, fc, function_name(fc), is_request, output_data=buf[p],
        weird=WEIRD_TRAILING_BYTES if n > 1 else None,
    )


def _diagnostics(buf: Any, p: int, end: int, tid: int, uid: int, fc: int, is_request: bool) -> ModbusMessage:
    """Diagnostics, request and (mostly echoing) response, §6.8::

        +----+--------------+-----------------+
        | fc | sub-function | data, N x 2     |
        |    |     u16      | bytes (words)   |
        +----+--------------+-----------------+
    """
    n = end - p
    if n < 2:
        return _head_only(buf, p, end, tid, uid, fc, is_request, WEIRD_PDU_TOO_SHORT)
    sub = _U16.unpack_from(buf, p)[0]
    have = n - 2
    return ModbusMessage(
        tid, uid, fc, function_name(fc), is_request, values=_registers(buf, p + 2, have), sub_function=sub,
        sub_function_name=diagnostic_name(sub), weird=WEIRD_TRAILING_BYTES if have % 2 else None,
    )


def _comm_event_counter_response(
    buf: Any, p: int, end: int, tid: int, uid: int, fc: int, is_request: bool
) -> ModbusMessage:
    """Get comm event counter response, §6.9::

        +----+--------+-------------+
        | fc | status | event count |
        +----+--------+-------------+
    """
    n = end - p
    if n < 4:
        return _head_only(buf, p, end, tid, uid, fc, is_request, WEIRD_PDU_TOO_SHORT)
    status, event_count = _U16X2.unpack_from(buf, p)
    return ModbusMessage(
        tid, uid, fc, function_name(fc), is_request, status=status, event_count=event_count,
        weird=WEIRD_TRAILING_BYTES if n > 4 else None,
    )


def _comm_event_log_response(
    buf: Any, p: int, end: int, tid: int, uid: int, fc: int, is_request: bool
) -> ModbusMessage:
    """Get comm event log response, §6.10::

        +----+------------+--------+-------------+---------------+----------------+
        | fc | byte count | status | event count | message count | events         |
        |    |  u8 = 6+N  |  u16   |     u16     |      u16      | N bytes (0-64) |
        +----+------------+--------+-------------+---------------+----------------+
    """
    n = end - p
    if n < 7:
        byte_count = buf[p] if n >= 1 else None
        return ModbusMessage(
            tid, uid, fc, function_name(fc), is_request, byte_count=byte_count, weird=WEIRD_PDU_TOO_SHORT
        )
    byte_count, status, event_count, message_count = _U8_U16X3.unpack_from(buf, p)
    have = n - 1
    events = bytes(buf[p + 7 : p + 1 + max(6, min(byte_count, have))])
    weird = None if byte_count == have else WEIRD_BAD_BYTE_COUNT
    return ModbusMessage(
        tid, uid, fc, function_name(fc), is_request, byte_count=byte_count, status=status,
        event_count=event_count, message_count=message_count, events=events, weird=weird,
    )


def _report_server_id_response(
    buf: Any, p: int, end: int, tid: int, uid: int, fc: int, is_request: bool
) -> ModbusMessage:
    """Report server ID response, §6.13::

        +----+------------+---------------------------+---------------+-----------------+
        | fc | byte count | server id                 | run indicator | additional data |
        |    |     u8     | device specific length    | 0x00 / 0xFF   | device specific |
        +----+------------+---------------------------+---------------+-----------------+

    The spec leaves the server id's length to the device, so the run indicator must be found.
    Two layouts dominate: a one-byte id followed by the indicator (libmodbus, FreeModbus) and an
    id string with the indicator last (pymodbus, Zeek's test trace). We take the second byte when
    it is 0x00/0xFF, else the last byte when it is, else report no indicator and the whole block.
    """
    n = end - p
    if n < 1:
        return _head_only(buf, p, end, tid, uid, fc, is_request, WEIRD_PDU_TOO_SHORT)
    byte_count = buf[p]
    have = n - 1
    block = bytes(buf[p + 1 : p + 1 + min(byte_count, have)])
    weird = None if byte_count == have and byte_count > 0 else WEIRD_BAD_BYTE_COUNT
    run_indicator: bool | None = None
    additional: bytes | None = None
    server_id = block
    if len(block) >= 2 and block[1] in (0x00, 0xFF):
        server_id, run_indicator, additional = block[:1], block[1] == 0xFF, block[2:]
    elif len(block) >= 2 and block[-1] in (0x00, 0xFF):
        server_id, run_indicator, additional = block[:-1], block[-1] == 0xFF, b""
    return ModbusMessage(
        tid, uid, fc, function_name(fc), is_request, byte_count=byte_count, server_id=server_id,
        run_indicator=run_indicator, additional_data=additional, weird=weird,
    )


# --- 20, 21: file records --------------------------------------------------------------------


def _read_file_request(
    buf: Any, p: int, end: int, tid: int, uid: int, fc: int, is_request: bool
) -> ModbusMessage:
    """Read file record request, §6.14: byte count (0x07..0xF5), then 7-byte sub-requests::

        +----------------+-------------+---------------+---------------+
        | reference type | file number | record number | record length |
        |    u8 = 6      |     u16     |      u16      |  u16 (words)  |
        +----------------+-------------+---------------+---------------+
    """
    n = end - p
    if n < 1:
        return _head_only(buf, p, end, tid, uid, fc, is_request, WEIRD_PDU_TOO_SHORT)
    byte_count = buf[p]
    have = n - 1
    stop = p + 1 + min(byte_count, have)
    records = tuple(
        FileRecord(*_U8_U16X3.unpack_from(buf, q), None) for q in range(p + 1, stop - 6, 7)
    )
    ok = byte_count == have and byte_count % 7 == 0 and 0x07 <= byte_count <= 0xF5
    return ModbusMessage(
        tid, uid, fc, function_name(fc), is_request, byte_count=byte_count, file_records=records,
        weird=None if ok else WEIRD_BAD_BYTE_COUNT,
    )


def _read_file_response(
    buf: Any, p: int, end: int, tid: int, uid: int, fc: int, is_request: bool
) -> ModbusMessage:
    """Read file record response, §6.14: response data length, then sub-responses::

        +----------------------+----------------+--------------------------+
        | file response length | reference type | record data              |
        |    u8 = 1 + 2*N      |     u8 = 6     | N registers (2*N bytes)  |
        +----------------------+----------------+--------------------------+
    """
    n = end - p
    if n < 1:
        return _head_only(buf, p, end, tid, uid, fc, is_request, WEIRD_PDU_TOO_SHORT)
    byte_count = buf[p]
    have = n - 1
    stop = p + 1 + min(byte_count, have)
    weird = None if byte_count == have and byte_count >= 2 else WEIRD_BAD_BYTE_COUNT
    records = []
    q = p + 1
    while q + 2 <= stop:
        length = buf[q]
        data = bytes(buf[q + 2 : min(q + 1 + length, stop)])
        if length < 1 or q + 1 + length > stop or length % 2 == 0:
            weird = weird or WEIRD_BAD_BYTE_COUNT
        records.append(FileRecord(buf[q + 1], None, None, len(data) >> 1, data))
        q += 1 + max(length, 1)
    if q < stop:
        weird = weird or WEIRD_BAD_BYTE_COUNT
    return ModbusMessage(
        tid, uid, fc, function_name(fc), is_request, byte_count=byte_count, file_records=tuple(records),
        weird=weird,
    )


def _write_file(buf: Any, p: int, end: int, tid: int, uid: int, fc: int, is_request: bool) -> ModbusMessage:
    """Write file record, request and echo, §6.15: request data length, then sub-requests::

        +----------------+-------------+---------------+---------------+---------------------+
        | reference type | file number | record number | record length | record data         |
        |     u8 = 6     |     u16     |      u16      |   u16 = N     | N registers         |
        +----------------+-------------+---------------+---------------+---------------------+
    """
    n = end - p
    if n < 1:
        return _head_only(buf, p, end, tid, uid, fc, is_request, WEIRD_PDU_TOO_SHORT)
    byte_count = buf[p]
    have = n - 1
    stop = p + 1 + min(byte_count, have)
    weird = None if byte_count == have and 0x09 <= byte_count <= 0xFB else WEIRD_BAD_BYTE_COUNT
    records = []
    q = p + 1
    while q + 7 <= stop:
        ref_type, file_number, record_number, record_length = _U8_U16X3.unpack_from(buf, q)
        data_end = q + 7 + 2 * record_length
        if data_end > stop:
            weird = weird or WEIRD_BAD_BYTE_COUNT
        data = bytes(buf[q + 7 : min(data_end, stop)])
        records.append(FileRecord(ref_type, file_number, record_number, record_length, data))
        q = data_end
    if q < stop:
        weird = weird or WEIRD_BAD_BYTE_COUNT
    return ModbusMessage(
        tid, uid, fc, function_name(fc), is_request, byte_count=byte_count, file_records=tuple(records),
        weird=weird,
    )


# --- 23, 24 ----------------------------------------------------------------------------------


def _read_write_request(
    buf: Any, p: int, end: int, tid: int, uid: int, fc: int, is_request: bool
) -> ModbusMessage:
    """Read/write multiple registers request, §6.17 (the write is performed before the read)::

        +----+------------+-----------+-------------+------------+------------+-----------------+
        | fc | read start | read qty  | write start | write qty  | byte count | write registers |
        |    |    u16     | 1..0x7D   |     u16     | 1..0x79    | u8 = 2*Nw  |   2*Nw bytes    |
        +----+------------+-----------+-------------+------------+------------+-----------------+
    """
    n = end - p
    if n < 9:
        fields = _U16X2.unpack_from(buf, p) if n >= 4 else (None, None)
        return ModbusMessage(
            tid, uid, fc, function_name(fc), is_request, address=fields[0], quantity=fields[1],
            weird=WEIRD_PDU_TOO_SHORT,
        )
    address, quantity, write_address, write_quantity, byte_count = _U16X4_U8.unpack_from(buf, p)
    have = n - 9
    values = _registers(buf, p + 9, min(byte_count, have))
    weird = None
    if not (1 <= quantity <= 0x7D and 1 <= write_quantity <= 0x79):
        weird = WEIRD_BAD_QUANTITY
    elif byte_count != 2 * write_quantity or byte_count != have:
        weird = WEIRD_BAD_BYTE_COUNT
    return ModbusMessage(
        tid, uid, fc, function_name(fc), is_request, address=address, quantity=quantity, values=values,
        byte_count=byte_count, write_address=write_address, write_quantity=write_quantity, weird=weird,
    )


def _fifo_request(buf: Any, p: int, end: int, tid: int, uid: int, fc: int, is_request: bool) -> ModbusMessage:
    """Read FIFO queue request, §6.18: the FIFO pointer address (u16)."""
    n = end - p
    if n < 2:
        return _head_only(buf, p, end, tid, uid, fc, is_request, WEIRD_PDU_TOO_SHORT)
    return ModbusMessage(
        tid, uid, fc, function_name(fc), is_request, address=_U16.unpack_from(buf, p)[0],
        weird=WEIRD_TRAILING_BYTES if n > 2 else None,
    )


def _fifo_response(
    buf: Any, p: int, end: int, tid: int, uid: int, fc: int, is_request: bool
) -> ModbusMessage:
    """Read FIFO queue response, §6.18::

        +----+--------------------+-------------------+---------------------+
        | fc | byte count         | FIFO count        | FIFO values         |
        |    | u16 = 2 + 2*count  | u16 (at most 31)  | count registers     |
        +----+--------------------+-------------------+---------------------+
    """
    n = end - p
    if n < 4:
        byte_count = _U16.unpack_from(buf, p)[0] if n >= 2 else None
        return ModbusMessage(
            tid, uid, fc, function_name(fc), is_request, byte_count=byte_count, weird=WEIRD_PDU_TOO_SHORT
        )
    byte_count, fifo_count = _U16X2.unpack_from(buf, p)
    have = n - 4
    values = _registers(buf, p + 4, min(2 * fifo_count, have))
    weird = None
    if fifo_count > 31:
        weird = WEIRD_BAD_QUANTITY
    elif byte_count != 2 + 2 * fifo_count or byte_count != n - 2:
        weird = WEIRD_BAD_BYTE_COUNT
    return ModbusMessage(
        tid, uid, fc, function_name(fc), is_request, values=values, byte_count=byte_count,
        fifo_count=fifo_count, weird=weird,
    )


# --- 43: encapsulated interface transport ----------------------------------------------------


def _mei_request(buf: Any, p: int, end: int, tid: int, uid: int, fc: int, is_request: bool) -> ModbusMessage:
    """Encapsulated interface transport request, §6.19; 43/14 read device identification §6.21::

        +----+------------+---------------------+-----------+
        | fc | MEI type   | read device id code | object id |
        |    | u8 = 0x0E  |     u8 (1..4)       |    u8     |
        +----+------------+---------------------+-----------+

    Other MEI types (0x0D CANopen, §6.20) carry data the public spec does not define: kept raw.
    """
    n = end - p
    if n < 1:
        return _head_only(buf, p, end, tid, uid, fc, is_request, WEIRD_PDU_TOO_SHORT)
    mei = buf[p]
    if mei != 0x0E:
        return ModbusMessage(
            tid, uid, fc, function_name(fc), is_request, mei_type=mei, mei_type_name=mei_type_name(mei),
            data=bytes(buf[p + 1 : end]),
        )
    code = buf[p + 1] if n >= 2 else None
    object_id = buf[p + 2] if n >= 3 else None
    weird = WEIRD_PDU_TOO_SHORT if n < 3 else WEIRD_TRAILING_BYTES if n > 3 else None
    return ModbusMessage(
        tid, uid, fc, function_name(fc), is_request, mei_type=mei, mei_type_name=mei_type_name(mei),
        read_device_id_code=code, read_device_id_name=None if code is None else read_device_id_name(code),
        object_id=object_id, weird=weird,
    )


def _mei_response(buf: Any, p: int, end: int, tid: int, uid: int, fc: int, is_request: bool) -> ModbusMessage:
    """Read device identification response, §6.21::

        +----+------+---------+------------+--------------+----------------+-----------+---------+
        | fc | MEI  | read    | conformity | more follows | next object id | number of | objects |
        |    | 0x0E | dev id  |   level    | 0x00 / 0xFF  |                |  objects  |         |
        +----+------+---------+------------+--------------+----------------+-----------+---------+

    and each object::

        +-----------+---------------+-------------------+
        | object id | object length | value (ASCII), N  |
        +-----------+---------------+-------------------+
    """
    n = end - p
    if n < 1:
        return _head_only(buf, p, end, tid, uid, fc, is_request, WEIRD_PDU_TOO_SHORT)
    mei = buf[p]
    if mei != 0x0E:
        return ModbusMessage(
            tid, uid, fc, function_name(fc), is_request, mei_type=mei, mei_type_name=mei_type_name(mei),
            data=bytes(buf[p + 1 : end]),
        )
    head = [buf[i] if i < end else None for i in range(p + 1, p + 6)]
    code, conformity, more, next_id, count = head
    weird = None
    objects = []
    if count is None:
        weird = WEIRD_PDU_TOO_SHORT
    else:
        q = p + 6
        for _ in range(count):
            if q + 2 > end:
                weird = WEIRD_PDU_TOO_SHORT
                break
            oid, length = buf[q], buf[q + 1]
            if q + 2 + length > end:
                weird = WEIRD_PDU_TOO_SHORT
            value = _text(bytes(buf[q + 2 : min(q + 2 + length, end)]))
            objects.append(IdentificationObject(oid, object_name(oid), value))
            q += 2 + length
        if weird is None and q < end:
            weird = WEIRD_TRAILING_BYTES
    return ModbusMessage(
        tid, uid, fc, function_name(fc), is_request, mei_type=mei, mei_type_name=mei_type_name(mei),
        read_device_id_code=code, read_device_id_name=None if code is None else read_device_id_name(code),
        conformity_level=conformity,
        conformity_level_name=None if conformity is None else conformity_level_name(conformity),
        more_follows=None if more is None else more == 0xFF, next_object_id=next_id, number_of_objects=count,
        objects=tuple(objects) if count is not None else None, weird=weird,
    )


_DECODERS: dict[int, tuple[_Decoder, _Decoder]] = {  # function code → (request, response)
    1: (_read_request, _read_bits_response),
    2: (_read_request, _read_bits_response),
    3: (_read_request, _read_registers_response),
    4: (_read_request, _read_registers_response),
    5: (_write_single_coil, _write_single_coil),
    6: (_write_single_register, _write_single_register),
    7: (_no_data_request, _exception_status_response),
    8: (_diagnostics, _diagnostics),
    11: (_no_data_request, _comm_event_counter_response),
    12: (_no_data_request, _comm_event_log_response),
    15: (_write_multiple_request, _write_multiple_response),
    16: (_write_multiple_request, _write_multiple_response),
    17: (_no_data_request, _report_server_id_response),
    20: (_read_file_request, _read_file_response),
    21: (_write_file, _write_file),
    22: (_mask_write_register, _mask_write_register),
    23: (_read_write_request, _read_registers_response),
    24: (_fifo_request, _fifo_response),
    43: (_mei_request, _mei_response),
}
