"""Signatures: dangerous OT operations an operator wants to see every time, expected or not.

Three shapes of rule, each a table entry with a stable id, a severity (0–10, as CEF) and a summary a
person can act on:

- ``Operation``: a request of one function (Modbus 8/4 force listen-only, S7 PLC stop, DNP3 cold
  restart, ...), optionally narrowed by its fields. The cross-protocol ``ACTION_RULES`` catch every
  ``program_download``, ``firmware_update``, ``mode_change`` and ``restart`` no protocol rule named.
- ``Burst``: too many of something on one channel within a window: exceptions, unsolicited responses,
  distinct unit ids or addresses (scans). State is per channel, so sharded workers agree.
- ``Malformed``: weirds that mean "not this protocol" on its port, or a length no stack sends.

A finding's ``kind`` is ``action:<action>`` for operations and ``scan``/``exceptions``/... for bursts,
so the protocol rule, the action rule and a model that flag the same messages make one alert.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

from protocols.base import REQUEST, UNSOLICITED
from sensor.decode.packets import Weird
from sensor.detect.bursts import MAX_WINDOW_VALUES, Window, advance
from sensor.detect.engine import Observed
from sensor.detect.episodes import Finding
from sensor.detect.view import Messages
from sensor.order import stable_order

SIGNATURE = "signature"
MAX_WINDOWS = 65_536  # burst windows (rule, client, server) kept; beyond it the stalest go (weird burst_windows_full)


@dataclass(frozen=True, slots=True)
class Operation:
    """A request (or unsolicited message) of one of ``functions`` of ``protocol``; ``where`` narrows the rows."""

    id: str
    severity: int
    protocol: str | None  # None: every protocol (then ``actions`` selects)
    summary: str  # formatted with src, dst, function, protocol
    functions: frozenset[str] = frozenset()
    actions: frozenset[str] = frozenset()
    where: Callable[[Messages, np.ndarray], np.ndarray] | None = None  # rows -> which of them match
    directions: frozenset[str] = frozenset({REQUEST})
    note: str = ""  # what ``where`` asks, for the README
    unless_learned: bool = False  # quiet for a (client, server, function) a loaded baseline learned

    def wanted(self, protocol: str, direction: str, function: str, action: str) -> bool:
        return (direction in self.directions and (self.protocol is None or protocol == self.protocol)
                and (not self.functions or function in self.functions) and (not self.actions or action in self.actions))

    def select(self, m: Messages) -> np.ndarray:
        rows = m.select(self.wanted)
        return rows[self.where(m, rows)] if self.where is not None and len(rows) else rows


def by_fields(test: Callable[[dict], bool]) -> Callable[[Messages, np.ndarray], np.ndarray]:
    """A ``where`` that reads each candidate row's fields (for rules whose candidates are rare)."""
    return lambda m, rows: np.array([test(m.fields(i)) for i in rows.tolist()], dtype=bool)


def _fns(*names: str) -> frozenset[str]:
    return frozenset(names)


def _umas(*names: str) -> frozenset[str]:
    return frozenset(f"umas/{n}" for n in names)


DNP3_BROADCAST = 0xFFFD  # destinations 0xFFFD–0xFFFF address every outstation (IEEE 1815-2012 §9.2.5.3)
IDENTITY_CLASS = 0x01

OPERATIONS: tuple[Operation, ...] = (
    # Modbus (Modbus Application Protocol V1.1b3 §6.8, §6.21; UMAS as Schneider documents it)
    Operation("modbus.force_listen_only", 9, "modbus",
              "{src} forced {dst} into listen-only mode (Modbus 8/4): it stops answering its master until "
              "restarted; find who sent it and restart communications.",
              _fns("diagnostics/force_listen_only_mode")),
    Operation("modbus.restart_communications", 8, "modbus",
              "{src} restarted the communications of {dst} (Modbus 8/1), which interrupts its polling: "
              "confirm it was planned maintenance.", _fns("diagnostics/restart_communications_option")),
    Operation("modbus.clear_counters", 5, "modbus",
              "{src} cleared the diagnostic counters of {dst} (Modbus 8/10), which erases evidence of "
              "errors: find out why.", _fns("diagnostics"), where=by_fields(lambda f: f.get("sub_function") == 10), note="sub-function 10"),
    Operation("modbus.read_device_identification", 3, "modbus",
              "{src} read the device identification of {dst} (Modbus 43/14), as scanners do to fingerprint "
              "a PLC: check the host is an engineering station.",
              _fns("encapsulated_interface_transport/read_device_identification"), unless_learned=True),
    Operation("modbus.report_server_id", 3, "modbus",
              "{src} asked {dst} to report its server id (Modbus 17), as scanners do to fingerprint a PLC: "
              "check the host is an engineering station.", _fns("report_server_id"), unless_learned=True),
    Operation("modbus.umas_program_transfer", 9, "modbus",
              "{src} transferred the program of {dst} over UMAS ({function}): confirm the change was planned.",
              _umas("initialize_upload", "upload_block", "end_strategy_upload", "initialize_download",
                    "download_block", "end_strategy_download")),
    Operation("modbus.umas_run_stop", 9, "modbus",
              "{src} changed the run state of {dst} over UMAS ({function}): confirm it was planned.",
              _umas("start_plc", "stop_plc")),
    # DNP3 (IEEE 1815-2012 Table 4-1)
    Operation("dnp3.cold_restart", 8, "dnp3",
              "{src} cold-restarted outstation {dst}: it reboots and its data is lost until it returns; "
              "confirm it was planned.", _fns("cold_restart")),
    Operation("dnp3.warm_restart", 7, "dnp3",
              "{src} warm-restarted outstation {dst}: confirm it was planned.", _fns("warm_restart")),
    Operation("dnp3.stop_application", 8, "dnp3",
              "{src} stopped an application on outstation {dst}: confirm it was planned.", _fns("stop_appl")),
    Operation("dnp3.disable_unsolicited", 6, "dnp3",
              "{src} disabled unsolicited responses of {dst}, so its events stop reaching the master: "
              "confirm the master is the usual one.", _fns("disable_unsolicited")),
    Operation("dnp3.file_transfer", 6, "dnp3",
              "{src} used DNP3 file services ({function}) on {dst}: configuration or firmware may change.",
              actions=_fns("file_transfer")),
    Operation("dnp3.broadcast", 6, "dnp3",
              "{src} sent {function} to the DNP3 broadcast address through {dst}: every outstation acts on it "
              "and none confirms.", where=lambda m, rows: m.unit[rows] >= DNP3_BROADCAST,
              note="to destination 0xFFFD–0xFFFF"),
    Operation("dnp3.time_change", 4, "dnp3",
              "{src} set the clock of outstation {dst}: event time stamps depend on it; confirm it is the "
              "usual time master.", _fns("write", "record_current_time"), actions=_fns("time_sync")),
    # S7comm (as Wireshark's s7comm dissector names the functions and PI services)
    Operation("s7comm.plc_stop", 9, "s7comm",
              "{src} stopped the CPU of {dst} (S7 PLC stop): the process it controls stops; confirm it was planned.",
              _fns("plc_stop")),
    Operation("s7comm.block_download", 9, "s7comm",
              "{src} downloaded program blocks to {dst} ({function}): confirm the change was planned.",
              _fns("request_download", "download_block", "download_ended")),
    Operation("s7comm.block_delete", 9, "s7comm",
              "{src} deleted program blocks on {dst}: confirm the change was planned.",
              _fns("pi_service"), where=by_fields(lambda f: f.get("pi_service") == "_DELE"), note="PI service `_DELE`"),
    Operation("s7comm.pi_service", 7, "s7comm",
              "{src} ran a program-invocation service on {dst} ({function}): these start, insert, compress "
              "or copy programs; confirm it was planned.", _fns("pi_service"),
              where=by_fields(lambda f: f.get("pi_service") != "_DELE"), note="any PI service but `_DELE`"),
    Operation("s7comm.password", 6, "s7comm",
              "{src} sent a CPU password to {dst} ({function}): the protection level of the PLC changes; "
              "check the host is an engineering station.", _fns("plc_password", "clear_plc_password")),
    # EtherNet/IP-CIP (CIP Vol. 1 §5A-2: Identity object; common services Appendix A)
    Operation("cip.identity_reset", 9, "enip",
              "{src} reset {dst} through its Identity object (CIP Reset): the device reboots; confirm it was planned.",
              _fns("reset"), where=by_fields(lambda f: f.get("class_id") == IDENTITY_CLASS),
              note="to the Identity object (class 1)"),
    # PROFINET DCP (IEC 61158-6-10 §4.3): an IO controller finds its devices by these names and addresses
    Operation("profinet.set_addressing", 7, "profinet",
              "{src} changed the addressing of {dst} over PROFINET DCP ({function}): its IO controller can no "
              "longer reach it under the old name or address; confirm it was commissioning.",
              _fns("set.ip", "set.name_of_station", "set.alias_name", "set.dhcp")),
)

UNLESS_LEARNED = {op.id: op.unless_learned for op in OPERATIONS}

ACTION_SEVERITY = {"program_download": 9, "firmware_update": 9, "mode_change": 8, "restart": 7}
ACTION_RULES: tuple[Operation, ...] = tuple(
    Operation(f"ot.{action}", severity, None,
              f"{{src}} sent {{function}} ({action.replace('_', ' ')}) to {{dst}} over {{protocol}}: "
              "operators review every one of these; confirm it was planned.", actions=_fns(action))
    for action, severity in ACTION_SEVERITY.items())


@dataclass(frozen=True, slots=True)
class Burst:
    """At least ``threshold`` distinct values of ``value`` among one channel's selected messages within
    ``window_s`` (each message counts when ``value`` is None). See ``bursts``."""

    id: str
    severity: int
    protocol: str
    kind: str
    summary: str  # formatted with src, dst, count, window
    wanted: Callable[[str, str, str, str], bool]  # on the verb: (protocol, direction, function, action)
    where: Callable[[Messages, np.ndarray], np.ndarray] | None  # rows -> which of them count
    value: Callable[[Messages, np.ndarray], np.ndarray] | None
    threshold: int
    window_s: float
    per_client: bool = False  # a sweep spans servers: one window per client (value: the server)
    counts: str = ""  # what is counted, for the README
    unless_learned: bool = False  # quiet on a channel a loaded baseline learned: its news are ``baseline.new_point``


@cache  # one predicate per argument list: rules that share it share ``Messages.select``'s rows
def _requests(protocol: str, *functions: str) -> Callable[[str, str, str, str], bool]:
    return lambda p, d, f, a: p == protocol and d == REQUEST and (not functions or f in functions)


@cache
def _responses(protocol: str) -> Callable[[str, str, str, str], bool]:
    return lambda p, d, f, a: p == protocol and d != REQUEST


def _exceptions(*codes: int) -> Callable[[Messages, np.ndarray], np.ndarray]:
    counted = np.zeros(256, dtype=bool)  # a table over the byte, not np.isin: it runs on every response
    counted[list(codes)] = True

    def where(m: Messages, rows: np.ndarray) -> np.ndarray:
        code = m.exception[rows]
        return counted[code & 0xFF] & (code == (code & 0xFF))
    return where


def _units(m: Messages, rows: np.ndarray) -> np.ndarray:
    return m.unit[rows]


def _points(m: Messages, rows: np.ndarray) -> np.ndarray:
    """(unit, function, address) as one number; a response whose request was not seen is its own point."""
    point = (m.unit[rows] << 24) | (m.function_code[rows] << 16) | (m.address[rows] & 0xFFFF)
    return np.where(m.address[rows] >= 0, point, -m.frame[rows])


def _functions(m: Messages, rows: np.ndarray) -> np.ndarray:
    return m.function_code[rows]


# Thresholds are for a plant, not a capture: a healthy HMI polls a handful of blocks of one or a few
# units, and a device that cannot answer raises one exception per poll, on the same point.
BURSTS: tuple[Burst, ...] = (
    Burst("modbus.exception_burst", 5, "modbus", "exceptions",
          "{dst} answered {src} with {count} busy/acknowledge exceptions within {window:g} s: it is "
          "overloaded or being flooded.", _responses("modbus"), _exceptions(5, 6), None, 10, 60.0,
          counts="exception responses 5 (acknowledge) and 6 (busy)"),
    Burst("modbus.points_scan", 7, "modbus", "scan",
          "{dst} rejected {count} different addresses from {src} as illegal within {window:g} s: a points "
          "scan; find out who runs it.", _responses("modbus"), _exceptions(2), _points, 8, 60.0,
          counts="distinct points (unit, function, address) answered with exception 2"),
    Burst("modbus.function_scan", 7, "modbus", "scan",
          "{dst} rejected {count} different function codes from {src} as illegal within {window:g} s: a "
          "function scan; find out who runs it.", _responses("modbus"), _exceptions(1), _functions, 4, 60.0,
          counts="distinct function codes answered with exception 1"),
    Burst("modbus.unit_scan", 7, "modbus", "scan",
          "{src} addressed {count} different unit ids on {dst} within {window:g} s: a unit-id scan.",
          _requests("modbus"), None, _units, 32, 60.0, counts="distinct unit ids requested", unless_learned=True),
    Burst("modbus.address_scan", 6, "modbus", "scan",
          "{src} requested {count} different addresses on {dst} within {window:g} s: an address scan.",
          _requests("modbus"), lambda m, rows: m.address[rows] >= 0, _points, 64, 60.0,
          counts="distinct points (unit, function, address) requested", unless_learned=True),
    Burst("dnp3.unsolicited_storm", 6, "dnp3", "unsolicited",
          "{dst} sent {count} unsolicited responses to {src} within {window:g} s: an event storm, or an "
          "outstation flooding its master.", lambda p, d, f, a: p == "dnp3" and d == UNSOLICITED, None, None,
          50, 10.0, counts="unsolicited responses"),
    Burst("cip.list_identity_scan", 6, "enip", "scan",
          "{src} asked {count} devices for their identity (ListIdentity) within {window:g} s: a discovery "
          "sweep; check the host is an engineering station.", _requests("enip", "list_identity"), None, None,
          8, 60.0, per_client=True, counts="distinct servers sent ListIdentity"),
)


@dataclass(frozen=True, slots=True)
class Malformed:
    id: str
    severity: int
    protocol: str
    codes: frozenset[str]
    summary: str  # formatted with src, dst


MALFORMED: tuple[Malformed, ...] = (
    Malformed("modbus.non_modbus_payload", 5, "modbus", frozenset({"modbus_bad_protocol_id"}),
              "{src} sent bytes to {dst} on a Modbus port that are not Modbus/TCP (MBAP protocol id is not 0): "
              "a tunnel, a scanner or a misdirected client."),
    Malformed("modbus.bad_length", 5, "modbus", frozenset({"modbus_bad_length", "modbus_buffer_overflow"}),
              "{src} sent {dst} a Modbus/TCP frame whose MBAP length no stack sends (ADU over 260 bytes or "
              "under 2): a fuzzer, or an exploit of a parser."),
)


class Signatures:
    """Every signature over each batch (a ``Check``). ``learned`` holds the (client, server, protocol,
    function) a loaded baseline learned: rules about what scanners do are quiet for hosts that normally do it."""

    def __init__(self, learned: frozenset[tuple[str, str, str, str]] = frozenset()) -> None:
        self.learn(learned)
        self.windows: dict[tuple[str, str, str], Window] = {}  # (rule, client, server)
        self.limits: list[tuple[str, str]] = []
        self._ids: dict[str, int] = {}  # addresses as numbers, for windows that count servers

    def learn(self, learned: frozenset[tuple[str, str, str, str]]) -> None:
        """What a baseline learned (``Baseline.learned_functions``), loaded at start or learned by this run."""
        self.learned = learned
        self.learned_channels = {(client, server) for client, server, _, _ in learned}

    def check(self, batch: Observed) -> list[Finding]:
        m = batch.messages
        findings: list[Finding] = []
        if len(m):
            claimed = self._operations(m, OPERATIONS, findings, np.zeros(len(m), dtype=bool))
            self._operations(m, ACTION_RULES, findings, claimed)
            if self.learned:
                findings = [f for f in findings if not self._usual(f)]
            for rule in BURSTS:
                findings += self._burst(m, rule)
            if len(self.windows) > MAX_WINDOWS:
                self._forget(float(m.ts.max()))
        findings += _malformed(batch)
        return findings

    def _forget(self, now: float) -> None:
        """Drop windows with nothing left inside them; past ``MAX_WINDOWS`` live ones, the least recently fed."""
        window_of = {rule.id: rule.window_s for rule in BURSTS}
        self.windows = {key: w for key, w in self.windows.items()
                        if len(w.ts) and w.ts[-1] + window_of[key[0]] > now}
        if len(self.windows) > MAX_WINDOWS:
            newest = sorted(self.windows, key=lambda key: self.windows[key].ts[-1])[-MAX_WINDOWS:]
            self.limits.append(("burst_windows_full", f"{len(self.windows) - MAX_WINDOWS} channels' burst windows "
                                                      f"forgotten (more than {MAX_WINDOWS} live)"))
            self.windows = {key: self.windows[key] for key in newest}

    @staticmethod
    def _operations(m: Messages, rules: tuple[Operation, ...], findings: list[Finding],
                    claimed: np.ndarray) -> np.ndarray:
        """Findings per (rule, channel, action); rows ``claimed`` by a protocol rule are not repeated."""
        if not len(m.select(lambda *verb: any(rule.wanted(*verb) for rule in rules))):
            return claimed  # polling: no verb of the batch is one any rule names
        for rule in rules:
            rows = rule.select(m)
            rows = rows[~claimed[rows]]
            if not len(rows):
                continue
            claimed[rows] = True
            src, dst = m.src[rows], m.dst[rows]
            keys = {(m.client[i], m.server[i], m.protocol[i], m.action[i]) for i in rows.tolist()}
            for client, server, protocol, action in sorted(keys):
                at = (m.client[rows] == client) & (m.server[rows] == server) & (m.action[rows] == action)
                pick, first = rows[at], int(np.argmax(at))
                functions = sorted(set(m.function[pick].tolist()))
                text = rule.summary.format(src=src[first], dst=dst[first], function=", ".join(functions),
                                           protocol=protocol)
                findings.append(Finding(
                    rule.id, SIGNATURE, rule.severity, f"action:{action}", client, server, protocol,
                    m.frame[pick], m.ts[pick], text,
                    {"model": "signature", "expected": "never, unless planned", "seen": functions}))
        return claimed

    def _usual(self, f: Finding) -> bool:
        """A finding of a rule that is quiet for learned behaviour, all of whose functions were learned."""
        if not UNLESS_LEARNED.get(f.rule):
            return False
        return all((f.client, f.server, f.protocol, function) in self.learned for function in f.evidence["seen"])

    def _burst(self, m: Messages, rule: Burst) -> list[Finding]:
        rows = m.select(rule.wanted)
        if rule.unless_learned and self.learned_channels and len(rows):
            rows = rows[~self._learned_pair(m)[m.pairs()[0][rows]]]
        if rule.where is not None and len(rows):
            rows = rows[rule.where(m, rows)]
        if not len(rows):
            return []
        values = rule.value(m, rows) if rule.value is not None else (
            self._address_ids(m.server[rows]) if rule.per_client else m.frame[rows])
        findings = []
        for (client, server), at in _channels(m, rows, rule.per_client).items():
            window = self.windows.setdefault((rule.id, client, server), Window())
            burst = advance(window, values[at], m.ts[rows[at]], m.frame[rows[at]], rule.window_s, rule.threshold,
                            every=rule.value is None)
            if burst.overflowed:
                self.limits.append(("burst_window_full", f"{rule.id} {client}->{server}: the window keeps its "
                                                         f"newest {MAX_WINDOW_VALUES} values"))
            if len(burst.frames):
                text = rule.summary.format(src=client, dst=server, count=burst.count, window=rule.window_s)
                findings.append(Finding(
                    rule.id, SIGNATURE, rule.severity, rule.kind, client, server, rule.protocol, burst.frames,
                    burst.ts, text, {"model": "signature", "seen": burst.count,
                                     "expected": f"fewer than {rule.threshold} within {rule.window_s:g} s"}))
        return findings

    def _learned_pair(self, m: Messages) -> np.ndarray:
        """For each of the batch's (client, server) pairs (``Messages.pairs``): did the baseline learn it?"""
        return np.array([pair in self.learned_channels for pair in m.pairs()[1]], dtype=bool)

    def _address_ids(self, addresses: np.ndarray) -> np.ndarray:
        return np.array([self._ids.setdefault(a, len(self._ids)) for a in addresses.tolist()], dtype=np.int64)

    def take_limits(self) -> list[tuple[str, str]]:
        hit, self.limits = self.limits, []
        return hit


def _channels(m: Messages, rows: np.ndarray, per_client: bool) -> dict[tuple[str, str], np.ndarray]:
    """Positions in ``rows`` per channel (client, server; server ``*`` per client)."""
    of_row, pairs = m.pairs()
    pair = of_row[rows]
    if per_client:
        clients = {c: k for k, c in enumerate(dict.fromkeys(c for c, _ in pairs))}
        pair = np.array([clients[c] for c, _ in pairs], dtype=np.int64)[pair]
        pairs = [(c, "*") for c in clients]
    if (pair == pair[0]).all():  # the common case: one channel
        return {pairs[int(pair[0])]: np.arange(len(rows))}
    order = stable_order(pair)
    ids, starts = np.unique(pair[order], return_index=True)
    return {pairs[i]: np.sort(part) for i, part in zip(ids.tolist(), np.split(order, starts[1:]))}


def _malformed(batch: Observed) -> list[Finding]:
    """Weirds of the batch that a rule names, placed on their flow through the batch's packets."""
    fb = batch.flows
    if fb is None or not batch.weirds:
        return []
    frames = fb.packets.frame
    found: dict[tuple[str, str, str, str], list[Weird]] = {}
    for rule in MALFORMED:
        for w in batch.weirds:
            if w.code not in rule.codes:
                continue
            row = int(np.searchsorted(frames, w.frame))
            if row >= len(frames) or frames[row] != w.frame:
                continue
            flow = fb.flows[int(fb.row_flow[row])]
            found.setdefault((rule.id, flow.client, flow.server, w.code), []).append(w)
    by_id = {rule.id: rule for rule in MALFORMED}
    out = []
    for (rule_id, client, server, code), weirds in found.items():
        rule = by_id[rule_id]
        out.append(Finding(rule.id, SIGNATURE, rule.severity, f"malformed:{code}", client, server, rule.protocol,
                           np.array([w.frame for w in weirds], dtype=np.int64), np.array([w.ts for w in weirds]),
                           rule.summary.format(src=client, dst=server),
                           {"model": "signature", "expected": "well-formed Modbus/TCP", "seen": code,
                            "detail": weirds[0].detail}))
    return out
