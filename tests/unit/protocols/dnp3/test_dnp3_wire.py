"""wire: link frames, transport headers and application fragments, one function at a time."""
from __future__ import annotations

import struct

import pytest
from dnp3_builders import CLASS_0123, attribute, crob, header, link_frame, request, response

from protocols.base import Malformed, NeedMore
from protocols.dnp3.wire import (
    MAX_FRAME,
    frame_size,
    parse_fragment,
    parse_link_frame,
    parse_transport,
    probe,
)

RESET_LINK = bytes.fromhex("056405c001000004e921")  # master 1024 -> outstation 1: reset link states


# --- link layer ------------------------------------------------------------------------------------------------

def test_link_frame_without_user_data() -> None:
    frame, used = parse_link_frame(RESET_LINK)
    assert used == 10
    assert (frame.dir, frame.prm, frame.function) == (True, True, 0)
    assert (frame.destination, frame.source) == (1, 1024)
    assert frame.header_crc_ok and frame.bad_blocks == 0 and frame.data == b""
    assert not frame.carries_user_data


def test_link_frame_with_several_blocks_strips_the_crcs() -> None:
    data = bytes(range(40))  # 16 + 16 + 8: three blocks
    raw = link_frame(0xC4, 10, 1, data)
    assert len(raw) == 10 + 40 + 6 == frame_size(45)
    frame, used = parse_link_frame(b"xx" + raw, 2)
    assert used == len(raw)
    assert frame.data == data and frame.bad_blocks == 0 and frame.carries_user_data
    assert (frame.dir, frame.prm, frame.fcb, frame.fcv, frame.function) == (True, True, False, False, 4)


def test_largest_frame_size() -> None:
    assert frame_size(255) == MAX_FRAME == 292


@pytest.mark.parametrize("cut", range(0, 10))
def test_a_partial_frame_needs_more(cut: int) -> None:
    raw = link_frame(0xC4, 10, 1, b"\xc0\xc1\x01\x3c\x02\x06")
    result = parse_link_frame(raw[:cut])
    assert isinstance(result, NeedMore) and result.needed >= 1


def test_a_partial_body_needs_exactly_the_rest() -> None:
    raw = link_frame(0xC4, 10, 1, bytes(20))
    assert parse_link_frame(raw[:-5]) == NeedMore(5)


@pytest.mark.parametrize("raw", [b"\x16", b"\x05\x65", b"GET / HTTP/1.1\r\n"])
def test_bad_start_octets_raise_at_once(raw: bytes) -> None:
    with pytest.raises(Malformed) as bad:
        parse_link_frame(raw)
    assert bad.value.code == "dnp3_bad_start" and bad.value.offset == 0


def test_length_below_five_raises() -> None:
    with pytest.raises(Malformed) as bad:
        parse_link_frame(b"\x05\x64\x04", 0)
    assert bad.value.code == "dnp3_bad_length"


def test_crc_errors_do_not_raise_but_are_counted() -> None:
    frame, _ = parse_link_frame(link_frame(0xC4, 10, 1, bytes(20), bad_header_crc=True, bad_block=1))
    assert not frame.header_crc_ok and frame.bad_blocks == 1 and frame.data == bytes(20)


def test_parse_link_frame_accepts_memoryview_and_rejects_bad_offsets() -> None:
    frame, used = parse_link_frame(memoryview(RESET_LINK))
    assert used == 10 and frame.source == 1024
    with pytest.raises(ValueError):
        parse_link_frame(RESET_LINK, 11)


def test_probe() -> None:
    assert probe(RESET_LINK) is True
    assert probe(RESET_LINK[:5]) is None
    assert probe(b"\x05") is None
    assert probe(b"\x05\x64\x02") is False
    assert probe(RESET_LINK[:8] + b"\x00\x00") is False
    assert probe(b"\x16\x03\x01") is False


def test_transport_header_bits() -> None:
    t = parse_transport(0xC5)
    assert (t.fin, t.fir, t.sequence) == (True, True, 5)
    t = parse_transport(0x3F)
    assert (t.fin, t.fir, t.sequence) == (False, False, 63)


# --- application layer: requests ------------------------------------------------------------------------------

def parse(fragment: bytes):
    result, used = parse_fragment(fragment)
    assert used == len(fragment)
    return result


def test_read_class_poll_names_objects_without_data() -> None:
    f = parse(request(0x01, CLASS_0123, seq=2))
    assert (f.function_code, f.function_name, f.sequence, f.fir, f.fin, f.iin) == (1, "read", 2, True, True, None)
    assert [(o.group, o.variation, o.qualifier, o.quantity) for o in f.objects] == \
        [(60, 2, 6, 0), (60, 3, 6, 0), (60, 4, 6, 0), (60, 1, 6, 0)]
    assert f.weird is None


def test_read_with_ranges_and_counts() -> None:
    objects = header(30, 0, 0x01, 3, 12, widths=2) + header(2, 0, 0x07, 5) + header(0, 254, 0x06)
    f = parse(request(0x01, objects))
    a, b, c = f.objects
    assert (a.group, a.start, a.stop, a.quantity) == (30, 3, 12, 10)
    assert (b.group, b.count, b.quantity) == (2, 5, 5)
    assert (c.group, c.variation, c.quantity) == (0, 254, 0)
    assert f.weird is None


def test_read_with_index_prefix_lists_the_indexes() -> None:
    f = parse(request(0x01, header(30, 1, 0x17, 3) + bytes([7, 1, 9])))
    assert f.objects[0].indexes == (7, 1, 9) and f.objects[0].quantity == 3 and f.weird is None


def test_write_time_and_date_decodes_the_time() -> None:
    ms = 1_427_467_998_387
    f = parse(request(0x02, header(50, 1, 0x07, 1) + ms.to_bytes(6, "little")))
    assert f.objects[0].values == (ms,) and f.weird is None


def test_write_iin_clears_device_restart() -> None:
    f = parse(request(0x02, header(80, 1, 0x00, 7, 7) + b"\x00"))
    assert (f.objects[0].group, f.objects[0].start, f.objects[0].stop) == (80, 7, 7) and f.weird is None


@pytest.mark.parametrize("function", [0x03, 0x04, 0x05, 0x06])
def test_crob_with_index_prefix(function: int) -> None:
    f = parse(request(function, header(12, 1, 0x28, 2, widths=2) + (3).to_bytes(2, "little") + crob(0x41)
                      + (5).to_bytes(2, "little") + crob(0x04)))
    o = f.objects[0]
    assert (o.group, o.variation, o.qualifier, o.count, o.indexes) == (12, 1, 0x28, 2, (3, 5))
    assert o.values == ("close_pulse_on", "latch_off") and f.weird is None


@pytest.mark.parametrize(("variation", "fmt", "value"), [(1, "<iB", -7), (2, "<hB", 300), (3, "<fB", 1.5),
                                                         (4, "<dB", -2.25)])
def test_analog_output_block_values(variation: int, fmt: str, value: float) -> None:
    f = parse(request(0x05, header(41, variation, 0x17, 1) + b"\x04" + struct.pack(fmt, value, 0)))
    assert f.objects[0].values == (value,) and f.objects[0].indexes == (4,) and f.weird is None


def test_freeze_at_time_reads_the_g50_time_then_counter_ranges_without_data() -> None:
    objects = header(50, 2, 0x07, 1) + bytes(10) + header(20, 0, 0x00, 0, 3)
    f = parse(request(0x0B, objects))
    assert [(o.group, o.quantity) for o in f.objects] == [(50, 1), (20, 4)] and f.weird is None


@pytest.mark.parametrize("function", [0x07, 0x09, 0x14, 0x15, 0x16])
def test_headers_only_requests(function: int) -> None:
    f = parse(request(function, header(60, 2, 0x06) + header(20, 1, 0x00, 0, 4)))
    assert [o.group for o in f.objects] == [60, 20] and f.weird is None


@pytest.mark.parametrize("function", [0x0D, 0x0E, 0x17, 0x18])
def test_requests_without_objects(function: int) -> None:
    f = parse(request(function))
    assert f.objects == () and f.weird is None


def test_open_file_reads_the_file_name_behind_a_size_prefix() -> None:
    name = b"/var/log/event.log"
    obj = struct.pack("<HH6sHIIHHH", 26, len(name), bytes(6), 0o644, 0, 0, 1, 1024, 7) + name
    f = parse(request(0x19, header(70, 3, 0x5B, 1) + len(obj).to_bytes(2, "little") + obj))
    o = f.objects[0]
    assert (o.group, o.variation, o.qualifier, o.count) == (70, 3, 0x5B, 1)
    assert o.values == ({"file_name": "/var/log/event.log"},) and f.weird is None


def test_unknown_function_is_a_weird() -> None:
    f = parse(request(0x5A, b"\x01\x02"))
    assert (f.function_name, f.weird) == ("unknown_0x5a", "dnp3_unknown_function")


def test_a_fragment_without_function_code_is_malformed() -> None:
    with pytest.raises(Malformed) as bad:
        parse_fragment(b"\xc0")
    assert bad.value.code == "dnp3_fragment_too_short"


# --- application layer: responses -----------------------------------------------------------------------------

def test_response_iin_and_static_data() -> None:
    objects = header(30, 1, 0x00, 0, 2) + bytes(15) + header(1, 1, 0x00, 0, 9) + b"\xff\x03"
    f = parse(response(objects, iin=0x9002))
    assert f.is_response and f.iin == 0x9002
    assert [(o.group, o.variation, o.start, o.stop) for o in f.objects] == [(30, 1, 0, 2), (1, 1, 0, 9)]
    assert f.weird is None


def test_unsolicited_events_with_index_prefix() -> None:
    objects = header(32, 1, 0x28, 2, widths=2) + (4).to_bytes(2, "little") + bytes(5) + (9).to_bytes(2, "little") \
        + bytes(5)
    f = parse(response(objects, function=0x82, uns=True, con=True))
    assert (f.function_name, f.uns, f.con) == ("unsolicited_response", True, True)
    assert f.objects[0].indexes == (4, 9) and f.weird is None


def test_device_attributes_of_every_type() -> None:
    objects = (attribute(252, "ACME") + attribute(250, "RTU-9 model X") + attribute(242, "1.2.3")
               + attribute(248, "SN-42") + attribute(240, (2048).to_bytes(2, "little"), data_type=2)
               + attribute(203, struct.pack("<f", 12.5), data_type=4)
               + attribute(255, bytes([252, 0, 250, 0]), data_type=254))
    f = parse(response(objects))
    got = {a.variation: (a.name, a.data_type, a.value) for a in f.attributes}
    assert got[252] == ("manufacturer_name", 1, "ACME")
    assert got[250] == ("product_name_and_model", 1, "RTU-9 model X")
    assert got[242][2] == "1.2.3" and got[248][2] == "SN-42"
    assert got[240] == ("max_transmit_fragment_size", 2, 2048)
    assert got[203][2] == 12.5
    assert got[255][2] == [[252, 0], [250, 0]]
    assert f.weird is None


def test_a_response_without_iin_is_a_weird() -> None:
    f = parse(b"\xc0\x81\x00")
    assert (f.iin, f.weird) == (None, "dnp3_fragment_too_short")


def test_reserved_iin_bits_are_a_weird() -> None:
    assert parse(response(iin=0x0040)).weird == "dnp3_iin_reserved"


# --- object header trouble ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("objects", "weird", "headers"), [
    (header(1, 2, 0x7A), "dnp3_bad_qualifier", 1),  # reserved range code 0xA
    (header(1, 2, 0x70), "dnp3_bad_qualifier", 1),  # reserved prefix code 7
    (header(1, 2, 0x00, 9, 3), "dnp3_bad_range", 1),
    (header(1, 2, 0x00, 0, 9) + b"\x01", "dnp3_objects_truncated", 1),
    (header(30, 1, 0x01, 0), "dnp3_objects_truncated", 1),
    (b"\x1e\x01", "dnp3_objects_truncated", 0),
    (header(99, 1, 0x00, 0, 0) + b"\x00" + header(30, 1, 0x06), "dnp3_unknown_object", 1),
    (header(32, 1, 0x17, 2) + b"\x01" + bytes(5) + b"\x02", "dnp3_objects_truncated", 1),
    (header(0, 252, 0x00, 0, 0) + b"\x01\x10abc", "dnp3_bad_attribute", 1),
])
def test_object_trouble_keeps_the_headers_read_so_far(objects: bytes, weird: str, headers: int) -> None:
    f = parse(response(objects))
    assert f.weird == weird
    assert len(f.objects) == headers


def test_variable_size_objects_behind_a_size_prefix_are_skipped() -> None:
    obj = bytes(9)
    objects = header(120, 9, 0x5B, 1) + len(obj).to_bytes(2, "little") + obj + header(60, 1, 0x06)
    f = parse(request(0x02, objects))
    assert [o.group for o in f.objects] == [120, 60] and f.weird is None


def test_octet_strings_are_as_long_as_their_variation() -> None:
    f = parse(response(header(110, 3, 0x00, 0, 1) + b"abcdef" + header(1, 2, 0x00, 0, 0) + b"\x81"))
    assert [(o.group, o.variation) for o in f.objects] == [(110, 3), (1, 2)]
    assert f.objects[0].values == ("616263", "646566") and f.weird is None
