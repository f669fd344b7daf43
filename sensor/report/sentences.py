"""The ten things to fix first, each one sentence a plant manager understands.

Candidates come from pivot paths, policy violations, exposed controllers, severe alerts and blind spots;
each has a priority (below) and names its subject, one finding per subject, the ten highest kept:
- a pivot path: 100 + the exposure score of the device it ends at;
- a policy violation: 8 x its severity + the exposure score of its destination;
- a device that another zone can write to or reprogram: its exposure score;
- a group of alerts of severity 7 or more: 6 x the severity;
- capture loss: 30; OT ports whose traffic did not parse: 25; no Purdue level known anywhere: 20.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sensor.policy.actions import rank

TYPE_WORDS = {"plc": "PLC", "hmi": "HMI", "engineering_station": "engineering workstation",
              "historian": "historian", "it_host": "computer", "unknown": "device"}
VERBS = {5: "reprogrammed", 4: "stopped or restarted", 3: "written to (setpoints and outputs changed)"}
RULE_ADVICE = {
    "policy.no_conduit": "which no conduit allows: block it at the firewall between {sz} and {dz}, "
                         "or add a conduit if the business needs it",
    "policy.access_violation": "where the policy allows only reading: make that conduit read-only at the firewall",
    "policy.reverse_direction": "in the direction the policy does not allow: block sessions opened that way",
}
PORT_WORDS = {3389: "RDP (remote desktop)", 445: "SMB (file sharing)", 22: "SSH", 23: "Telnet",
              5900: "VNC (remote desktop)", 443: "HTTPS"}
DEFAULT_ADVICE = "which the policy does not allow: block it or write the conduit it needs"


def describe(asset: Mapping[str, Any] | None, address: str) -> str:
    """'the PLC 10.10.0.5 (Schneider M340)': what a manager would call the device."""
    if not asset:
        return f"the device {address}"
    kind = TYPE_WORDS.get(asset.get("type") or "unknown", asset.get("type") or "device")
    label = asset.get("name") or address
    product = " ".join(x for x in (asset.get("vendor"), asset.get("product")) if x)
    return f"the {kind} {label}" + (f" ({product})" if product else "")


def top_ten(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ranked findings: ``{"rank", "sentence", "priority", "subject", "kind"}``."""
    assets = {a["id"]: a for a in data["assets"]}
    scores = {r["id"]: r["score"] for r in data["exposure"]}
    found: dict[tuple, dict[str, Any]] = {}

    def add(key: tuple, subject: str, priority: float, sentence: str) -> None:
        if key not in found or priority > found[key]["priority"]:
            found[key] = {"kind": key[0], "subject": subject, "priority": priority, "sentence": sentence}

    chains = [tuple((h["src"], h["dst"]) for h in p["hops"]) for p in data["paths"] if p["pivot"]]
    for path in data["paths"]:
        hops = path["hops"]
        chain = tuple((h["src"], h["dst"]) for h in hops)
        if not path["pivot"] or any(len(c) > len(chain) and c[-len(chain):] == chain for c in chains):
            continue  # the tail of a longer chain: fixing the longer one's entry fixes it
        target, first = hops[-1]["dst"], hops[0]
        verb = VERBS.get(rank(hops[-1]["protocol"], hops[-1].get("actions") or {}), "reached")
        via = ", then ".join(describe(assets.get(h["dst"]), h["dst"]) for h in hops[:-1])
        add(("pivot", chain), target, 100 + scores.get(target, 0),
            f"{_cap(describe(assets.get(target), target))} can be {verb} from the {path['from_zone']} network "
            f"through {via}: restrict the {service_words(first['service'], first['port'])} conduit from "
            f"{path['from_zone']} to {_zone(assets, first['dst'])} and require approval for each remote session.")
    for v in data["violations"]:
        if not v["rule"].startswith("policy."):
            continue
        src, dst = assets.get(v["src"]), assets.get(v["dst"])
        sz, dz = _zone(assets, v["src"]), _zone(assets, v["dst"])
        advice = RULE_ADVICE.get(v["rule"], DEFAULT_ADVICE).format(sz=sz, dz=dz)
        add(("violation", v["rule"], v["src"], v["dst"]), v["dst"], 8 * int(v["severity"] or 0) + scores.get(v["dst"], 0),
            f"{_cap(describe(src, v['src']))} in {sz} talks {_service_of(v)} to {describe(dst, v['dst'])} in {dz}, "
            f"{advice}.")
    named = {f["subject"] for f in found.values()}
    reached = {r["id"] for r in data["exposure"] if r["chain"]}
    for row in data["exposure"]:
        control = row.get("control")
        if not control or row["parts"]["control"] < 20 or row["id"] in named:  # only actions from another zone
            continue
        add(("exposed", row["id"]), row["id"], row["score"],
            f"{_cap(describe(assets.get(row['id']), row['id']))} can be {VERBS.get(control['rank'], 'reached')} "
            f"from {describe(assets.get(control['src']), control['src'])} in {_zone(assets, control['src'])}"
            f"{', which the office network reaches' if control['src'] in reached else ''}: limit {control['protocol']}"
            " changes to it to named people on that station and log each one.")
    for group in data["alerts"]:
        if group["severity"] >= 7 and group["category"] != "policy":
            add(("alert", group["rule"]), group["rule"], 6 * group["severity"],
                f"{group['count']} {group['rule']} alert(s) of severity up to {group['severity']}: "
                f"{_sentence(group['explanation'])}")
    loss = data["blind"]["loss"]
    if loss:
        total = sum(w["count"] for w in loss)
        add(("blind", "loss"), "loss", 30,
            f"The sensor missed part of the traffic ({total} gaps or drops): check the mirror port and its "
            "capacity so attacks cannot hide in what it did not see.")
    for zone, kinds in data["blind"]["zones"].items():
        if kinds.get("ot_unparsed"):
            add(("blind", "unparsed", zone), zone, 25,
                f"{len(kinds['ot_unparsed'])} session(s) on industrial ports in {zone} did not speak the expected "
                "protocol: find out what runs there.")
    if data["assets"] and not data["run"].get("policy_zones") and all(a.get("level") is None for a in data["assets"]):
        add(("policy",), "policy", 20,
            "No zone of this network has a Purdue level, so nothing here can be judged allowed or forbidden: "
            "write a segmentation policy (start from `otsensor policy suggest`) and run the report with it.")
    ranked = sorted(found.values(), key=lambda f: (-f["priority"], f["sentence"]))[:10]
    return [{"rank": i, **f} for i, f in enumerate(ranked, 1)]


def service_words(service: str, port: int | None) -> str:
    """'RDP (remote desktop)' for tcp/3389: the name an IT team uses for the service."""
    return PORT_WORDS.get(port, service) if service.startswith(("tcp/", "udp/", "tls")) else service


def _service_of(violation: Mapping[str, Any]) -> str:
    """The protocol of a violation, or the service its port names when only the transport is known."""
    seen = (violation.get("evidence") or {}).get("seen")
    port = seen.get("port") if isinstance(seen, Mapping) else None
    if violation["proto"] in ("tcp", "udp") and port:
        return service_words(f"{violation['proto']}/{port}", port)
    return str(violation["proto"])


def _zone(assets: Mapping[str, Any], address: str) -> str:
    asset = assets.get(address)
    return asset["zone"] if asset else "an unknown zone"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _sentence(text: str | None) -> str:
    text = (text or "").strip()
    return text if text.endswith(".") else text + "."
