"""IEC 60870-5-104 APDUs as ``iec104.log``: one line per APDU, in the spirit of ICSNPP's per-message records.

No reference record exists to follow: CISA ICSNPP has no IEC 104 parser, and Malcolm and Security Onion ship
none. The community Spicy analyzers (georgemakrakis/zeek-iec104, parsitects/zeek-iec104, cert-lv's
spicy-iec104, DINA-community's ot-parsers) each log a different, still changing layout (one log per type
identification, nested records, debug counters), so this record is designed here: ICSNPP's head (``ts uid
id is_orig source_h source_p destination_h destination_p``), then the APCI and the ASDU's data unit identifier
in IEC 60870-5-101/104's words, as the sensor's events name them:

- ``apci_type`` ``I``, ``S`` or ``U``; ``u_function`` the U-format function (``STARTDT_act``, ``TESTFR_con``);
  ``send_sequence``/``receive_sequence`` N(S) and N(R) (I-format: both; S-format: N(R));
- ``type_id`` and ``type_name`` (``M_ME_NC_1``), ``sq``, ``number_of_objects``, ``cause`` and ``cause_name``
  (``spont``, ``actcon``), ``negative`` (P/N), ``test`` (T), ``originator_address``, ``common_address``;
- ``ioa``: the information object addresses of the ASDU's objects, in order (at most MAX_OBJECTS).

An I-format APDU whose ASDU is cut short has what of its data unit identifier is there. Element values
(measured values, qualifiers, time tags) are in the sensor's events, not here.
"""
from __future__ import annotations

from protocols.base import Message
from sensor.dissect.generic import MessageBatch
from sensor.flows.table import Flow
from sensor.sinks.zeek.ascii import ID, LogFile, fields
from sensor.sinks.zeek.rows import SIDES, Rows, endpoints

IEC104 = fields(f"ts:time uid:string {ID} {SIDES} apci_type:string u_function:string send_sequence:count "
                "receive_sequence:count type_id:count type_name:string sq:bool number_of_objects:count cause:count "
                "cause_name:string negative:bool test:bool originator_address:count common_address:count "
                "ioa:vector[count]")


class Iec104Logs:
    """Writes IEC 104 batches to iec104.log."""

    protocol = "iec104"

    def __init__(self, folder: str, fmt: str, rows: Rows) -> None:
        self.rows = rows
        self.iec104 = LogFile(folder, "iec104", IEC104, fmt)

    def logs(self) -> list[LogFile]:
        return [self.iec104]

    def write(self, batch: MessageBatch) -> None:
        self.iec104.write((*head, *endpoints(head, is_orig), *_apdu(m)) for _, head, is_orig, m in self.rows(batch))

    def flow_ended(self, flow: Flow) -> None:
        """Nothing waits: every APDU is written as it comes."""

    def close(self) -> None:
        """Nothing waits: every APDU is written as it comes."""


def _apdu(m: Message) -> tuple:
    """apci_type .. ioa."""
    f = m.fields
    kind = f.get("apci_type")
    objects = f.get("objects")
    return (kind, m.function_name if kind == "U" else None, f.get("send_sequence"), f.get("receive_sequence"),
            f.get("type_id"), m.function_name if "type_id" in f else None, f.get("sq"), f.get("number_of_objects"),
            f.get("cause"), f.get("cause_name"), f.get("negative"), f.get("test"), f.get("originator_address"),
            f.get("common_address"), None if objects is None else [o["ioa"] for o in objects])
