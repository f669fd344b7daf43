"""What the DHCP and DHCPv6 oracle tests share: the corpus files where tshark finds either, tshark's fields per
frame with the frame's UDP payload, and our message for that payload.

The comparison is at the package's seam (``datagram``, as the sensor calls it for each UDP payload of a flow
dispatched to the protocol): running the whole CLI over the sixteen captures, some of them megabytes of other
traffic, took minutes on CI's two cores. The whole pipeline is compared on it/malcolm_DHCP.pcap, which holds
every kind of DHCP and DHCPv6 message of the corpus (relays, lease queries, replies from an ephemeral port),
by ``test_dhcp_vs_tshark.test_every_tshark_frame_is_an_event``; the golden cases and tests/e2e/test_dhcp_names.py
cover it too.
"""
from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from helpers import captures_dir

from protocols.base import Malformed, Message

CORPUS = captures_dir()
SEP = "|"


def tshark(path: Path, filter_: str, fields: tuple[str, ...]) -> list[list[str]]:
    """One row of ``fields`` per frame matching ``filter_``; every occurrence of a field joined by ``SEP``."""
    out = subprocess.run(["tshark", "-n", "-r", str(path), "-Y", filter_, "-T", "fields", "-E", "occurrence=a",
                          "-E", f"aggregator={SEP}", *[a for f in fields for a in ("-e", f)]],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-500:]
    return [(line.split("\t") + [""] * len(fields))[:len(fields)] for line in out.stdout.splitlines()]


# Where tshark finds DHCP or DHCPv6 in the corpus: found once by ``tshark -Y "dhcp || dhcpv6"`` over every capture
# (a scan of the whole corpus at each run took minutes); a capture added with DHCP in it belongs here.
CAPTURES = {
    "dhcp": ("it/malcolm_DHCP.pcap", "mixed/emre_cip_cotp_proces.pcap", "modbus/emre_ModbusFloat.pcap",
             "modbus/emre_modbusAnalog.pcap", "profinet/icsnpp_profinet_io_cm_mixed_1.pcap",
             "profinet/icsnpp_profinet_io_cm_mixed_2.pcapng"),
    "dhcpv6": ("dnp3/emre_DNP3Value.pcap", "iec104/emre_104IPValue.pcap", "iec104/emre_104deneme2.pcap",
               "iec104/emre_50.pcap", "iec104/emre_59.pcap", "iec104/emre_63.pcap", "it/emre_simens.pcap",
               "it/malcolm_DHCP.pcap", "modbus/lemay_characterization_modbus_6RTU_with_operate.pcap",
               "other_ics/iti_addroute.pcapng", "profinet/icsnpp_profinet_io_cm_mixed_1.pcap",
               "profinet/icsnpp_profinet_io_cm_mixed_2.pcapng", "s7comm/iti_wrapup.pcapng"),
}


def files_with(protocol: str) -> list[Path]:
    """The captures of ``CAPTURES[protocol]`` present (a test then asserts tshark still finds the protocol there)."""
    if shutil.which("tshark") is None:
        return []
    return [CORPUS / name for name in CAPTURES[protocol] if (CORPUS / name).exists()]


def message(datagram: Callable[[bytes, bool], list[Message]], payload_hex: str) -> Message | str:
    """Our message for one frame's UDP payload, or the weird code it was refused with."""
    try:
        (found,) = datagram(bytes.fromhex(payload_hex.split(SEP)[0]), True)
    except Malformed as bad:
        return bad.code
    return found


def split(value: str) -> list[str]:
    return value.split(SEP) if value else []
