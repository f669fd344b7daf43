"""Alerts and assets shaped like the sensor's own (a policy alert and a PROFINET asset from the corpus)."""

POLICY_ALERT = {
    "category": "policy", "count": 1, "dst": "10.10.0.5",
    "evidence": {"expected": "a conduit from enterprise to field allowing modbus",
                 "seen": {"initiator": "10.40.0.7", "initiator_zone": "enterprise", "port": 502, "protocol": "modbus",
                          "responder": "10.10.0.5", "responder_zone": "field", "transport": "tcp"}},
    "first_seen": 1767600300.0, "frames": [["enterprise_plc_write.pcap", 16]], "id": "0307929058e2cd76113a",
    "last_seen": 1767600300.4055, "proto": "modbus", "rule": "policy.no_conduit", "severity": 8, "src": "10.40.0.7",
    "summary": "engineering_station 10.40.0.7 (enterprise, level 4) wrote to plc 10.10.0.5 (field, level 1) over "
               "modbus, and no conduit allows it: block it, or add a conduit if it is intended.",
    "ts": 1767600300.0,
}
ASSET = {
    "bytes": 0, "device_type": "plc", "first_seen": 1321868480.355788, "hostnames": ["X208-BORD"],
    "identity": {"product": "INC", "vendor": "Siemens", "revision": None, "source": "profinet frame 2"},
    "ip": "192.168.0.6", "last_seen": 1321868481.784877, "mac": "08:00:06:93:cf:32", "mac_vendor": "SIEMENS AG",
    "roles": ["profinet_io_device"], "services": [{"port": 502, "protocol": "modbus", "transport": "tcp"}],
    "zone": "field", "zone_level": 1.0,
}
