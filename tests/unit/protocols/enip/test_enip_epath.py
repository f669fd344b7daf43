"""parse_epath: logical, port, symbolic and data segments, and a walk that never raises."""
from __future__ import annotations

from enip_frames import logical, symbol

from protocols.enip.epath import EPath, parse_epath


def walk(raw: bytes) -> EPath:
    return parse_epath(raw, 0, len(raw))


def test_class_instance_attribute_8_bit():
    path = walk(logical(0x01, 1, 7))
    assert (path.class_id, path.instance_id, path.attribute_id) == (1, 1, 7)
    assert not path.bad and not path.symbolic
    assert path.fields() == {"class_id": 1, "instance_id": 1, "attribute_id": 7}


def test_16_and_32_bit_logical_segments_skip_their_pad_byte():
    raw = bytes([0x21, 0x00, 0x34, 0x12, 0x26, 0x00, 0x78, 0x56, 0x34, 0x12])
    path = walk(raw)
    assert path.class_id == 0x1234 and path.instance_id == 0x12345678 and not path.bad


def test_two_classes_keep_the_whole_logical_path():
    path = walk(logical(0x8E, 1) + logical(0x74, 1))
    assert path.class_id == 0x8E
    assert path.fields()["logical_path"] == [["class_id", 0x8E], ["instance_id", 1], ["class_id", 0x74],
                                             ["instance_id", 1]]


def test_port_segment_backplane_slot():
    assert walk(bytes([0x01, 0x03])).route == ((1, 3),)


def test_port_segment_extended_link_address_is_an_ip_text():
    raw = bytes([0x12, 9]) + b"10.0.0.42" + b"\0"  # port 2, 9-byte link address, padded to even
    path = walk(raw + bytes([0x01, 0x00]))
    assert path.route == ((2, "10.0.0.42"), (1, 0)) and not path.bad


def test_port_15_has_a_16_bit_port_number():
    assert walk(bytes([0x0F, 0x12, 0x00, 0x05])).route == ((0x12, 5),)


def test_logix_tag_names():
    assert walk(symbol("SCADA")).tag == "SCADA"
    assert walk(symbol("SCADA", 3)).tag == "SCADA[3]"
    assert walk(symbol("Tank", 3) + bytes([0x28, 2]) + symbol("Level")).tag == "Tank[3,2].Level"
    assert walk(symbol("Program:Main") + symbol("Count")).tag == "Program:Main.Count"


def test_ascii_symbolic_segment():
    assert walk(bytes([0x63]) + b"abc").tag == "abc"


def test_electronic_key():
    raw = bytes([0x34, 0x04, 0x01, 0x00, 0x0E, 0x00, 0x36, 0x00, 0x94, 0x0B]) + logical(0x02, 1)
    path = walk(raw)
    assert path.electronic_key == {"vendor_id": 1, "device_type": 0x0E, "product_code": 0x36, "major_revision": 20,
                                   "minor_revision": 11, "compatibility": 1}
    assert path.class_id == 2


def test_network_and_data_segments_are_skipped():
    raw = bytes([0x43, 0x05, 0x50, 0x01, 0xAA, 0xBB, 0x80, 0x01, 0x01, 0x02]) + logical(0x04, 100)
    path = walk(raw)
    assert path.class_id == 4 and path.instance_id == 100 and not path.bad


def test_bad_segments_stop_the_walk_and_keep_what_was_read():
    path = walk(logical(0x04, 1) + bytes([0xE0, 0x00]))
    assert path.bad and path.class_id == 4 and path.instance_id == 1
    assert walk(bytes([0x21, 0x00, 0x01])).bad  # 16-bit value cut
    assert walk(bytes([0x91, 0x09, 0x41])).bad  # symbol longer than the path
    assert walk(bytes([0x23, 0x01])).bad  # reserved logical format
    assert walk(bytes([0x60])).bad  # extended symbolic string: not walked


def test_empty_path():
    path = walk(b"")
    assert path == EPath() and path.fields() == {}


def test_window_inside_a_bigger_buffer():
    raw = b"\xff\xff" + logical(0x01, 1) + b"\xff"
    assert parse_epath(raw, 2, 6).class_id == 1
