"""S7Stream: messages out of TCP segments at the frame tshark would name; fragments joined; recovery from garbage."""
from __future__ import annotations

from s7comm_frames import (
    CC,
    CR,
    IDENT_001C,
    READ_DB1,
    READ_DB1_ACK,
    SETUP_JOB,
    WRITE_M4,
    dt,
    get_multi_variables,
    plus_frame,
    plus_response,
    s7,
    tpkt,
    userdata,
)

from protocols.base import Malformed, Message
from protocols.s7comm.codes import PlusFunction
from protocols.s7comm.stream import MAX_BUFFER, MAX_PDU, S7Stream


def names(outcomes: list) -> list[tuple[object, str]]:
    """(tag, function name) of each message, failing on anything Malformed."""
    assert all(isinstance(o, Message) for _, o in outcomes), outcomes
    return [(tag, o.function_name) for tag, o in outcomes]


def test_several_tpkts_in_one_segment_share_its_tag() -> None:
    stream = S7Stream(is_request=True)
    assert names(stream.feed(CR + SETUP_JOB + READ_DB1, 7)) == [(7, "connection_request"), (7, "setup_communication"),
                                                                (7, "read_var")]
    assert stream.pending == 0


def test_one_tpkt_over_three_segments_completes_at_the_last() -> None:
    stream = S7Stream(is_request=False)
    assert stream.feed(READ_DB1_ACK[:2], 10) == []
    assert stream.feed(READ_DB1_ACK[2:15], 11) == []
    assert stream.pending == 15
    assert names(stream.feed(READ_DB1_ACK[15:], 12)) == [(12, "read_var")]
    assert stream.pending == 0


def test_cotp_fragments_join_at_the_dt_with_eot() -> None:
    pdu = s7(1, 9, b"\x04\x01" + bytes.fromhex("120a10020004000184000000"))
    stream = S7Stream(is_request=True)
    assert stream.feed(tpkt(dt(pdu[:5], eot=False)), 1) == []
    assert stream.pending == 5
    assert stream.feed(tpkt(dt(pdu[5:12], eot=False, nr=1)), 2) == []
    out = stream.feed(tpkt(dt(pdu[12:], eot=True, nr=2)), 3)
    assert names(out) == [(3, "read_var")] and out[0][1].fields["pdu_ref"] == 9


def test_empty_dt_without_eot_is_harmless() -> None:
    """WinCC and libnodave send 03 00 00 07 02 f0 00 between PDUs."""
    stream = S7Stream(is_request=True)
    assert stream.feed(tpkt(dt(b"", eot=False)), 1) == []
    assert names(stream.feed(READ_DB1, 2)) == [(2, "read_var")]


def test_szl_data_units_are_joined_and_decoded_at_the_last() -> None:
    stream = S7Stream(is_request=False)
    first = stream.feed(userdata(5, 8, 4, 1, IDENT_001C[:150], unit=(6, 1)), 20)
    last = stream.feed(userdata(6, 8, 4, 1, IDENT_001C[150:], unit=(6, 0)), 22)
    assert first[0][1].fields["fragment"] is True and not first[0][1].facts
    [fact] = [f for f in last[0][1].facts if f.kind == "identity"]
    assert fact.value["location"] == "HALL 3" and fact.value["name"] == "STATION_1"


def test_s7comm_plus_fragments_join_at_the_trailer() -> None:
    data = plus_response(PlusFunction.GET_MULTI_VARIABLES, 4, bytes(300))
    stream = S7Stream(is_request=False)
    assert stream.feed(tpkt(dt(plus_frame(data[:100], trailer=False))), 1) == []
    assert stream.pending == 100
    out = stream.feed(tpkt(dt(plus_frame(data[100:]))), 2)
    assert names(out) == [(2, "get_multi_variables")]
    assert out[0][1].fields["data_length"] == len(data) and stream.pending == 0


def test_s7comm_plus_request() -> None:
    stream = S7Stream(is_request=True)
    out = stream.feed(tpkt(dt(plus_frame(get_multi_variables(3, 0x388, [(0x8A0E0001, 2550, [1])])))), 9)
    assert names(out) == [(9, "get_multi_variables")]


def test_garbage_loses_framing_until_the_next_segment() -> None:
    stream = S7Stream(is_request=True)
    out = stream.feed(READ_DB1 + b"\x16\x03\x01\x02" + READ_DB1, 4)
    assert [(t, type(o).__name__) for t, o in out] == [(4, "Message"), (4, "Malformed")]
    assert (out[1][1].code, out[1][1].offset) == ("s7comm_bad_tpkt_version", len(READ_DB1))
    assert names(stream.feed(WRITE_M4, 5)) == [(5, "write_var")]  # the next segment starts afresh


def test_malformed_offsets_count_the_stream() -> None:
    stream = S7Stream(is_request=True)
    stream.feed(READ_DB1, 1)
    [(tag, bad)] = stream.feed(b"\x03\x00\x00\x02", 2)
    assert (tag, bad.code, bad.offset) == (2, "s7comm_bad_tpkt_length", len(READ_DB1))


def test_bad_content_inside_a_sound_tpkt_keeps_framing() -> None:
    stream = S7Stream(is_request=True)
    bad_cotp = tpkt(bytes([9, 0xF0, 0x80]))
    bad_s7 = tpkt(dt(b"\x32\x05" + bytes(10)))
    out = stream.feed(bad_cotp + bad_s7 + READ_DB1, 1)
    assert [o.code if isinstance(o, Malformed) else o.function_name for _, o in out] == \
        ["s7comm_bad_cotp_length", "s7comm_bad_rosctr", "read_var"]


def test_s7_pdu_longer_than_its_tsdu_is_malformed() -> None:
    pdu = s7(1, 1, b"\x04\x01" + bytes(12))
    [(_, bad)] = S7Stream(True).feed(tpkt(dt(pdu[:-3])), 1)
    assert bad.code == "s7comm_bad_length"


def test_octets_after_the_pdu_are_weird() -> None:
    [(_, m)] = S7Stream(True).feed(tpkt(dt(s7(1, 1, bytes.fromhex("f0000001000101e0")) + b"\x00\x00")), 1)
    assert (m.function_name, m.weird) == ("setup_communication", "s7comm_trailing_bytes")


def test_foreign_tsdus_are_reported_once() -> None:
    """MMS on port 102: an ISO session SPDU where S7 would be."""
    stream = S7Stream(is_request=True)
    mms = tpkt(dt(bytes.fromhex("0dc80506130100160102140200023302000134020001c1")))
    out = stream.feed(CR, 1) + stream.feed(mms, 2) + stream.feed(mms, 3)
    assert [(t, getattr(o, "code", None) or o.function_name) for t, o in out] == \
        [(1, "connection_request"), (2, "s7comm_bad_protocol_id")]


def test_gap_drops_partial_tpkts_and_fragments() -> None:
    stream = S7Stream(is_request=False)
    stream.feed(READ_DB1_ACK[:9], 1)
    stream.feed(tpkt(dt(b"\x32\x01\x00", eot=False)), 1)
    assert stream.pending > 0
    stream.gap()
    assert stream.pending == 0
    assert names(stream.feed(CC, 2)) == [(2, "connection_confirm")]


def test_a_gap_drops_a_half_joined_szl() -> None:
    stream = S7Stream(is_request=False)
    stream.feed(userdata(5, 8, 4, 1, IDENT_001C[:150], unit=(6, 1)), 1)
    stream.gap()
    [(_, m)] = stream.feed(userdata(6, 8, 4, 1, IDENT_001C[:150], unit=(7, 0)), 2)
    assert m.weird == "s7comm_szl_truncated"  # decoded on its own, not glued to the lost half


def test_buffer_bound_is_named_and_reported() -> None:
    stream = S7Stream(is_request=True, max_buffer=64)
    [(_, bad)] = stream.feed(b"\x03\x00\xff\xff" + bytes(100), 1)
    assert bad.code == "s7comm_buffer_overflow" and stream.pending == 0
    assert MAX_BUFFER >= 65_535


def test_reassembly_bound_is_named_and_reported() -> None:
    stream = S7Stream(is_request=True, max_pdu=100)
    out = stream.feed(tpkt(dt(bytes(60), eot=False)) + tpkt(dt(bytes(60), eot=False)), 1)
    assert [o.code for _, o in out] == ["s7comm_reassembly_overflow"] and stream.pending == 0
    out = stream.feed(tpkt(dt(plus_frame(bytes(60), trailer=False))) + tpkt(dt(plus_frame(bytes(60), trailer=False))), 2)
    assert [o.code for _, o in out] == ["s7comm_reassembly_overflow"]
    assert MAX_PDU >= 65_536


def test_tags_can_be_anything() -> None:
    out = S7Stream(True).feed(READ_DB1, ("frame", 42, 1.5))
    assert out[0][0] == ("frame", 42, 1.5)
