"""The link layer CRC against frames whose CRCs come from real stacks (opendnp3 captures) and the spec."""
from __future__ import annotations

from protocols.dnp3.crc import crc16, crc_ok


def test_header_crc_of_a_known_frame() -> None:
    # 05 64 05 C0 01 00 00 04 E9 21: the RESET LINK STATES header used as the example of IEEE 1815-2012 Annex E
    header = bytes.fromhex("056405c001000004")
    assert crc16(header) == 0x21E9
    assert crc_ok(header + b"\xe9\x21", 0, 8)


def test_crc_of_a_captured_user_data_block() -> None:
    # link frame from iti_dnp3_test_data_part2.pcap frame 16 (opendnp3 master): header and one data block
    frame = bytes.fromhex("05640bc4050064006f36d5c8013c0106fe85")
    assert crc_ok(frame, 0, 8)
    assert crc_ok(frame, 10, 16)


def test_crc_ok_is_false_for_a_changed_octet_or_a_short_buffer() -> None:
    frame = bytearray.fromhex("056405c001000004e921")
    frame[3] ^= 0x01
    assert not crc_ok(frame, 0, 8)
    assert not crc_ok(bytes.fromhex("056405c001000004e9"), 0, 8)


def test_crc_of_empty_input_is_the_complement_of_zero() -> None:
    assert crc16(b"") == 0xFFFF
