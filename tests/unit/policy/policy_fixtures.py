"""Shared helpers for the policy tests: the scenario plant's policy and a communication-row factory."""
from __future__ import annotations

from pathlib import Path

from sensor.policy.policy_file import Policy, load_policy

ROOT = Path(__file__).resolve().parents[3]
PLANT_POLICY = ROOT / "captures" / "scenarios" / "policy.yaml"

# Addresses of the scenario plant (captures/scenarios/README.md).
OFFICE_PC = "10.40.0.7"
JUMP_HOST = "10.35.0.10"
HISTORIAN = "10.30.0.20"
HMI = "10.20.0.10"
EWS = "10.20.50.5"
PLC = "10.10.0.5"
PLC2 = "10.10.0.6"
T0 = 1_767_600_000.0  # 2026-01-05 08:00 UTC


def plant() -> Policy:
    return load_policy(PLANT_POLICY)


def row(initiator: str, responder: str, port: int = 502, protocol: str = "modbus", t: float = T0,
        actions: dict[str, int] | None = None, transport: str = "tcp", duration: float = 60.0) -> dict:
    """A communication as the store returns it."""
    return {
        "initiator": initiator, "responder": responder, "transport": transport, "port": port,
        "protocol": protocol, "first_seen": t, "last_seen": t + duration, "packets": 12, "bytes": 900,
        "flows": 1, "actions": dict(actions or {}), "sample_frames": [["scenario.pcap", 4]],
    }
