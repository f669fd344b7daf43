"""SZL partial lists and the identity they carry (SSL-IDs xy11 and xy1C)."""
from __future__ import annotations

import struct

import pytest
from s7comm_frames import IDENT_001C, IDENT_0011, record_001c, record_0011, szl_records

from protocols.base import NeedMore
from protocols.s7comm.szl import identity, parse_szl


def parsed(data: bytes):
    result = parse_szl(data)
    assert isinstance(result, tuple), result
    return result[0]


def test_module_identification_0011() -> None:
    szl = parsed(IDENT_0011)
    assert (szl.szl_id, szl.index, szl.record_length, szl.record_count, len(szl.records), szl.weird) == \
        (0x0011, 0, 28, 4, 4, None)
    assert identity(szl) == {"order_code": "6ES7 315-2EH14-0AB0", "hardware_version": "4", "firmware": "V3.2.6",
                             "boot_loader": "A32.9.9", "vendor": "Siemens"}


def test_component_identification_001c() -> None:
    assert identity(parsed(IDENT_001C)) == {
        "name": "STATION_1", "module_name": "PLC_1", "plant_id": "PLANT-A", "copyright": "Original Siemens Equipment",
        "serial": "S C-B1U393142011", "model": "CPU 315-2 PN/DP", "memory_card_serial": "MMC 4A1AC019",
        "location": "HALL 3", "vendor": "Siemens"}


def test_a_single_record_list_0111_and_011c() -> None:
    assert identity(parsed(szl_records(0x0111, 1, 28, [record_0011(1, "6ES7 151-8AB01-0AB0", 3, 1)]))) == \
        {"order_code": "6ES7 151-8AB01-0AB0", "hardware_version": "3", "vendor": "Siemens"}
    assert identity(parsed(szl_records(0x011C, 2, 34, [record_001c(2, "IM151-8 PN/DP CPU")]))) == \
        {"module_name": "IM151-8 PN/DP CPU"}


def test_header_only_0f11_has_no_records_and_no_weird() -> None:
    szl = parsed(struct.pack(">HHHH", 0x0F11, 0, 28, 4))
    assert (szl.records, szl.weird) == ((), None)


def test_zero_header_is_read_at_the_standard_length_and_in_the_standard_order() -> None:
    """python-snap7's server: LENTHDR and N_DR 0, and record indexes left 0."""
    body = b"".join(b"\x00\x00" + text.encode().ljust(32, b"\x00") for text in
                    ("SNAP7-SERVER", "CPU 315-2 PN/DP", "", "Original Siemens Equipment", "S C-C2UR28922012",
                     "CPU 315-2 PN/DP"))
    szl = parsed(struct.pack(">HHHH", 0x001C, 0, 0, 0) + body + b"\x00\x00")
    assert szl.weird == "s7comm_bad_szl_header" and len(szl.records) == 6
    assert identity(szl) == {"name": "SNAP7-SERVER", "module_name": "CPU 315-2 PN/DP",
                             "copyright": "Original Siemens Equipment", "serial": "S C-C2UR28922012",
                             "model": "CPU 315-2 PN/DP", "vendor": "Siemens"}


def test_snap7s_26_octet_0011_record() -> None:
    """python-snap7's server: index, MLFB, a reserved octet and the version in three octets."""
    record = struct.pack(">H", 1) + b"6ES7 315-2EH14-0AB0\x00" + bytes([0, 3, 3, 0])
    szl = parsed(struct.pack(">HHHH", 0x0011, 0, 26, 1) + record)
    assert szl.weird == "s7comm_szl_short_record"
    assert identity(szl) == {"order_code": "6ES7 315-2EH14-0AB0", "firmware": "V3.3.0", "vendor": "Siemens"}


def test_fewer_records_than_announced_is_weird() -> None:
    data = szl_records(0x001C, 0, 34, [record_001c(1, "A"), record_001c(2, "B")])
    data = data[:6] + struct.pack(">H", 5) + data[8:]
    szl = parsed(data)
    assert (len(szl.records), szl.weird) == (2, "s7comm_szl_truncated")


def test_unknown_list_with_zero_header_is_weird_and_empty() -> None:
    szl = parsed(struct.pack(">HHHH", 0x0424, 0, 0, 0) + b"\x01\x02")
    assert (szl.records, szl.weird) == ((), "s7comm_bad_szl_header")
    assert identity(szl) == {}


@pytest.mark.parametrize("cut", range(8))
def test_cut_header_needs_more(cut: int) -> None:
    assert parse_szl(IDENT_001C[:cut]) == NeedMore(8 - cut)


def test_text_fields_survive_odd_octets() -> None:
    record = struct.pack(">H", 1) + b"\xff\xfeST\x00junk".ljust(32, b"\x00")
    assert identity(parsed(szl_records(0x001C, 0, 34, [record])))["name"] == "\xff\xfeST"


def test_no_vendor_without_evidence() -> None:
    szl = parsed(szl_records(0x0011, 0, 28, [record_0011(1, "ABC 123", 1, 1)]))
    assert "vendor" not in identity(szl)
