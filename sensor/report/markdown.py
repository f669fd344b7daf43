"""``otsensor report --format md``: the report's sections as Markdown, for tickets and e-mail."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .text import nearest_conduit, when

MAX_ROWS = 50  # per table: a ticket is not the place for every asset; the HTML report has them all


def cell(value: Any) -> str:
    text = ", ".join(map(str, value)) if isinstance(value, list) else "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows[:MAX_ROWS]]
    if len(rows) > MAX_ROWS:
        lines.append(f"\n({len(rows) - MAX_ROWS} more in the HTML report)")
    return lines


def render_markdown(data: Mapping[str, Any]) -> str:
    run = data["run"]
    out = ["# otsensor report", "",
           f"{len(data['assets'])} assets in {len(data['zones'])} zones, {len(data['violations'])} violations, "
           f"{len(data['paths'])} IT-to-OT paths, {sum(g['count'] for g in data['alerts'])} alerts.", "",
           "## What to fix first", ""]
    out += [f"{t['rank']}. {t['sentence']}" for t in data["top_ten"]] or ["Nothing stands out."]
    out += ["", "## Exposure ranking", ""]
    zone_of = {a["id"]: a["zone"] for a in data["assets"]}
    out += table(["Asset", "Zone", "Score", "Reasons"],
                 [[r["id"], zone_of[r["id"]], r["score"], "; ".join(r["reasons"])] for r in data["exposure"]])
    out += ["", "Zones: " + ", ".join(f"{z['zone']} {z['score']}" for z in data["zone_exposure"]), ""]
    out += ["## Violations and paths", ""]
    out += table(["Severity", "Rule", "From", "To", "Protocol", "First seen", "Nearest conduit", "Summary"],
                 [[v["severity"], v["rule"], v["src"], v["dst"], v["proto"], when(v["ts"]), nearest_conduit(v),
                   v["summary"]]
                  for v in data["violations"]]) if data["violations"] else ["No violations."]
    out.append("")
    for p in data["paths"]:
        chain = " → ".join([p["hops"][0]["src"]] + [f"{h['dst']} ({h['service']})" for h in p["hops"]])
        flag = "pivot" if p["pivot"] else "path"
        out.append(f"- {flag} {p['from_zone']} → {p['to_zone']}: {chain}")
    out += ["", "## Alerts", ""]
    out += table(["Severity", "Rule", "Category", "Count", "Explanation"],
                 [[g["severity"], g["rule"], g["category"], g["count"], g["explanation"]] for g in data["alerts"]]
                 ) if data["alerts"] else ["No alerts."]
    out += ["", "## Inventory", ""]
    out += table(["Address", "Name", "Type", "Zone", "Level", "Vendor", "Product", "Services"],
                 [[a["id"], a["name"], a["type"], a["zone"], a["level"], a["vendor"], a["product"], a["services"]]
                  for a in data["assets"]])
    out += ["", "## What the sensor could not see", ""]
    blind = data["blind"]
    out += [f"- capture-wide: {w['code']} x{w['count']} in {w['file']} (first frame {w['first_frame']})"
            for w in blind["loss"]] or ["- capture-wide: no capture loss or TCP gaps recorded"]
    for zone, kinds in blind["zones"].items():
        out.append(f"- {zone}: " + "; ".join(f"{len(v)} {k.replace('_', ' ')}" for k, v in kinds.items()))
    if blind["note"]:
        out.append(f"- {blind['note']}")
    out += ["", "## The run", ""]
    span = run["span"]
    out += [f"- sensor version {run['version']}, policy: {run['policy']}",
            f"- {run['packets']} packets in {run['runs']} run(s), traffic from {when(span[0])} to {when(span[1])} UTC"]
    out += [f"- file {f['path']} ({f['frames']} frames{'' if f['complete'] else ', incomplete'})" for f in run["files"]]
    return "\n".join(out) + "\n"

