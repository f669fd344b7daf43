"""Vectorised Modbus/TCP header parsing for the common case: one whole, well-formed ADU per segment.

Most Modbus traffic is polling with function codes 1–6, 15 and 16, one ADU per TCP segment.
For those segments every field the inventory needs sits at a fixed offset, so numpy reads them for
a whole batch at once. Anything this fast path does not fully validate (other function codes,
odd lengths, values out of range, exceptions outside 1–11) is *declined*, never guessed at: the
caller sends it through ``wire.parse_adu``, which is the single source of truth. The two paths
must agree field by field; tests/unit/protocols/modbus/test_batch.py checks that they do.

    MBAP (Modbus Messaging on TCP/IP Implementation Guide V1.0b §3.1.3)
    [ transaction_id u16 ][ protocol_id u16 ][ length u16 ][ unit_id u8 ][ function u8 ][ data ... ]
      0                     2                  4             6             7              8
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.lib.stride_tricks import as_strided

NONE = -1
VALID_EXCEPTIONS = (1, 2, 3, 4, 5, 6, 7, 8, 10, 11)
READ_BITS, READ_REGISTERS = (1, 2), (3, 4)
# By byte value: a lookup is a quarter of what np.isin costs on a batch
_IS_VALID_EXCEPTION = np.isin(np.arange(256), VALID_EXCEPTIONS)
_READS_BITS = np.isin(np.arange(128), READ_BITS)
_READS_REGISTERS = np.isin(np.arange(128), READ_REGISTERS)


HEADER = 13  # MBAP header, function code and the PDU's first five bytes: every byte parse_headers reads


def _header_bytes(data: np.ndarray, off: np.ndarray) -> np.ndarray:
    """Each ADU's first HEADER bytes, a row each: one gather of rows, where a gather per field costs five times
    as much (each misses the cache on the same packet again). A byte past the buffer's end reads as its last
    byte, so that a short segment at the end gives what reading its bytes one by one would (they are masked
    by the length checks anyway)."""
    size = len(data)
    if size < HEADER:
        return data[np.minimum(off[:, None] + np.arange(HEADER), size - 1)]
    every = as_strided(data, (size - HEADER + 1, HEADER), (1, 1), writeable=False)  # a view, no copy
    head = every[np.minimum(off, size - HEADER)]
    late = np.flatnonzero(off > size - HEADER)
    if len(late):
        head[late] = data[np.minimum(off[late, None] + np.arange(HEADER), size - 1)]
    return head


@dataclass(slots=True)
class ModbusColumns:
    """Header fields of many ADUs. ``adu_off`` locates each ADU in ``data`` for full decoding later."""

    transaction_id: np.ndarray
    unit_id: np.ndarray
    function_code: np.ndarray  # without the exception bit
    exception_code: np.ndarray  # NONE when not an exception response
    address: np.ndarray  # NONE when the message carries none
    quantity: np.ndarray
    value: np.ndarray  # the single value of FC5 (0/1, as wire.py gives it) or FC6, else NONE
    adu_off: np.ndarray
    adu_len: np.ndarray
    accepted: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


def parse_headers(data: np.ndarray, off: np.ndarray, length: np.ndarray, is_request: np.ndarray) -> ModbusColumns:
    """Read and validate every segment; ``accepted`` marks those fully decoded here."""
    head = _header_bytes(data, off)

    def u8(at: int) -> np.ndarray:
        return head[:, at].astype(np.int64)

    def u16(at: int) -> np.ndarray:
        return u8(at) << 8 | head[:, at + 1]

    tid = u16(0)
    mbap_len = u16(4)
    unit = u8(6)
    raw_fc = u8(7)
    fc = raw_fc & 0x7F
    is_exc = (raw_fc & 0x80) != 0
    whole = (length >= 8) & (u16(2) == 0) & (mbap_len >= 2) & (mbap_len <= 254) & (mbap_len + 6 == length)
    byte8 = u8(8)
    word8 = u16(8)
    word10 = u16(10)
    req = is_request
    resp = ~is_request

    exc_ok = ~req & is_exc & (mbap_len == 3) & _IS_VALID_EXCEPTION[byte8] & (fc != 0)
    bits = _READS_BITS[fc]
    regs = _READS_REGISTERS[fc]
    read_req = req & (bits | regs) & (mbap_len == 6) & (word10 >= 1) & (
        (bits & (word10 <= 2000)) | (regs & (word10 <= 125)))
    read_resp = resp & (bits | regs) & (mbap_len == 3 + byte8) & (byte8 >= 1) & (~regs | (byte8 % 2 == 0))
    single = (fc == 5) | (fc == 6)
    single_ok = single & (mbap_len == 6) & ((fc == 6) | (word10 == 0xFF00) | (word10 == 0))
    multi_q = word10
    multi_bc = u8(12)
    coils_req = req & (fc == 15) & (multi_q >= 1) & (multi_q <= 1968) & (multi_bc == (multi_q + 7) // 8) & (mbap_len == 7 + multi_bc)
    regs_req = req & (fc == 16) & (multi_q >= 1) & (multi_q <= 123) & (multi_bc == 2 * multi_q) & (mbap_len == 7 + multi_bc)
    multi_resp = resp & (mbap_len == 6) & (word10 >= 1) & (
        ((fc == 15) & (word10 <= 1968)) | ((fc == 16) & (word10 <= 123)))
    plain = ~is_exc & (read_req | read_resp | single_ok | coils_req | regs_req | multi_resp)
    accepted = whole & (plain | exc_ok)

    has_address = ~is_exc & (read_req | single_ok | coils_req | regs_req | multi_resp)
    quantity = np.where(read_req | coils_req | regs_req | multi_resp, word10, np.where(single_ok & ~is_exc, 1, NONE))
    return ModbusColumns(
        transaction_id=tid, unit_id=unit, function_code=fc,
        exception_code=np.where(is_exc, byte8, NONE),
        address=np.where(has_address, word8, NONE),
        quantity=np.where(has_address, quantity, NONE),
        value=np.where(single_ok & ~is_exc, np.where(fc == 5, (word10 == 0xFF00).astype(np.int64), word10), NONE),
        adu_off=off, adu_len=length, accepted=accepted,
    )
