"""``otsensor report --html``: one self-contained HTML file.

The tables are written here as plain HTML (readable with scripts off); ``static/report.js`` adds the map
(Cytoscape.js, vendored in ``vendor/``), sorting, filtering and the device details from the same data,
embedded as JSON. Everything is inline and a Content-Security-Policy forbids any fetch, so the file opens
offline and makes no network request.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from html import escape
from pathlib import Path
from typing import Any

from .text import nearest_conduit, when

HERE = Path(__file__).parent
CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"


def vendored_version() -> str:
    """The first line of vendor/VERSION, e.g. ``cytoscape 3.35.0``."""
    return (HERE / "vendor" / "VERSION").read_text(encoding="utf-8").splitlines()[0]


def script_json(data: Any) -> str:
    """JSON safe inside a <script> element (no ``</script>``, no ``<!--``)."""
    return json.dumps(data, separators=(",", ":"), default=str).replace("<", "\\u003c")


def table(table_id: str, headers: Iterable[str], rows: Iterable[Iterable[Any]], filterable: bool = False) -> str:
    """A table with a header row; cells are text unless given as ``Markup``."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    search = (f'<input type="search" class="filter" data-table="{table_id}" placeholder="filter…" '
              f'aria-label="filter {table_id}">') if filterable else ""
    return f'{search}<table id="{table_id}" class="sortable"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


class Markup(str):
    """Text already escaped (links, lists)."""


def _cell(value: Any) -> str:
    if isinstance(value, Markup):
        return value
    if isinstance(value, list):
        return "<br>".join(escape(str(v)) for v in value)
    return "" if value is None else escape(str(value))


def _sources(asset: Mapping[str, Any]) -> Markup:
    return Markup("<br>".join(
        f"{escape(attr)}: {escape(str(src.get('proto')))} frame {escape(str(src.get('frame')))}"
        for attr, src in sorted(asset["sources"].items())))


def render_html(data: Mapping[str, Any]) -> str:
    css = (HERE / "static" / "report.css").read_text(encoding="utf-8")
    js = (HERE / "static" / "report.js").read_text(encoding="utf-8")
    lib = (HERE / "vendor" / "cytoscape.min.js").read_text(encoding="utf-8")
    run = data["run"]
    sections = [_top_ten(data), _map(), _inventory(data), _violations(data), _alerts(data), _exposure(data),
                _blind(data), _run(run)]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>otsensor report</title><style>{css}</style></head>
<body>
<header><h1>otsensor report</h1><p class="summary">{len(data['assets'])} assets in {len(data['zones'])} zones ·
{len(data['violations'])} violations · {len(data['paths'])} IT-to-OT paths ·
{sum(g['count'] for g in data['alerts'])} alerts · traffic {escape(when(run['span'][0]))} to
{escape(when(run['span'][1]))} UTC</p>
<nav><a href="#fix">Fix first</a><a href="#map">Map</a><a href="#inventory">Inventory</a>
<a href="#violations">Violations &amp; paths</a><a href="#alerts">Alerts</a><a href="#exposure">Exposure</a>
<a href="#blind">Not seen</a><a href="#run">Run</a></nav></header>
<main>{''.join(sections)}</main>
<footer>Map drawn with {escape(vendored_version())} (MIT licence, inlined).</footer>
<script type="application/json" id="report-data">{script_json(_client_data(data))}</script>
<script>{lib}</script>
<script>{js}</script>
</body></html>
"""


def _client_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """What the script needs: the map and the details panel (the tables are already HTML)."""
    scores = {r["id"]: r for r in data["exposure"]}
    return {"zones": data["zones"], "edges": data["edges"], "paths": data["paths"],
            "assets": [{**a, "exposure": scores.get(a["id"])} for a in data["assets"]]}


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{escape(title)}</h2>{body}</section>'


def _top_ten(data: Mapping[str, Any]) -> str:
    items = "".join(f"<li>{escape(t['sentence'])}</li>" for t in data["top_ten"])
    return _section("fix", "What to fix first", f'<ol id="top-ten">{items}</ol>' if items
                    else "<p>Nothing stands out.</p>")


def _map() -> str:
    return _section("map", "Network map", """
<div class="map-tools"><button id="fit">fit</button><button id="expand-all">expand all</button>
<button id="collapse-all">collapse all</button><span class="hint">bands are zones, highest Purdue level on top;
click a subnet to collapse or expand it, a device for its details; scroll to zoom, drag to pan</span></div>
<div class="map-row"><div id="cy" role="img" aria-label="network map"></div>
<aside id="details"><p class="hint">Click a device on the map or a row of the inventory.</p></aside></div>
<div id="legend"></div>""")


def _inventory(data: Mapping[str, Any]) -> str:
    rows = []
    for a in data["assets"]:
        points = [f"{p['access']} {p['protocol']} {p['server']} {p['table']} {p['address']}+{p['quantity']}"
                  for p in a["points"][:5]] + ([f"… {a['points_total'] - 5} more"] if a["points_total"] > 5 else [])
        rows.append([Markup(f'<a href="#map" class="asset-link" data-id="{escape(a["id"])}">{escape(a["id"])}</a>'),
                     a["name"], a["type"], a["zone"], a["level"], a["mac"],
                     " ".join(x for x in (a["vendor"], a["product"], a["firmware"]) if x),
                     a["services"], points, _sources(a), a["alerts"]])
    return _section("inventory", "Inventory", table(
        "inventory-table", ["Address", "Name", "Type", "Zone", "Level", "MAC", "Identity", "Services",
                            "Points read/written", "Source of each attribute", "Alerts"], rows, filterable=True))


def _violations(data: Mapping[str, Any]) -> str:
    violations = table("violations-table", ["Severity", "Rule", "From", "To", "Protocol", "First seen", "Frames",
                                            "Summary", "Expected", "Nearest conduit"],
                       [[v["severity"], v["rule"], v["src"], v["dst"], v["proto"], when(v["ts"]),
                         [f"{f[0]}#{f[1]}" for f in (v["frames"] or [])[:5]], v["summary"],
                         (v["evidence"] or {}).get("expected"), nearest_conduit(v)] for v in data["violations"]],
                       filterable=True)
    paths = table("paths-table", ["Kind", "From zone", "To zone", "Hops", "Allowed by policy"],
                  [["pivot chain" if p["pivot"] else "path", p["from_zone"], p["to_zone"],
                    [f"{h['src']} → {h['dst']} {h['service']} first {when(h['first_seen'])}"
                     + (f" [{', '.join(h['actions'])}]" if h["actions"] else "") for h in p["hops"]],
                    {True: "yes", False: "no", None: "not checked"}[p["allowed"]]] for p in data["paths"]])
    notes = "".join(f"<p class='note'>{escape(n)}</p>" for n in data["path_notes"])
    return _section("violations", "Violations and paths", f"<h3>Violations</h3>{violations}<h3>IT-to-OT paths</h3>"
                                                          f"{paths}{notes}")


def _alerts(data: Mapping[str, Any]) -> str:
    parts = []
    for g in data["alerts"]:
        rows = [[when(a["ts"]), a["src"], a["dst"], a["proto"], a["summary"], a["count"]] for a in g["alerts"]]
        parts.append(f'<details class="alert-group sev-{min(10, g["severity"])}"><summary><b>{escape(g["rule"])}</b> '
                     f'({escape(str(g["category"]))}) · severity {g["severity"]} · {g["count"]} alert(s): '
                     f'{escape(g["explanation"] or "")}</summary>'
                     + table(f"alerts-{g['rule']}", ["First seen", "From", "To", "Protocol", "Summary", "Count"], rows)
                     + "</details>")
    return _section("alerts", "Alerts by rule and severity", "".join(parts) or "<p>No alerts.</p>")


def _exposure(data: Mapping[str, Any]) -> str:
    zone_of = {a["id"]: a["zone"] for a in data["assets"]}
    assets = table("exposure-table", ["Score", "Asset", "Zone", "Reach", "Control", "Criticality", "Alerts", "Reasons"],
                   [[r["score"], r["id"], zone_of[r["id"]], r["parts"]["reach"], r["parts"]["control"],
                     r["parts"]["criticality"], r["parts"]["alerts"], r["reasons"]] for r in data["exposure"]],
                   filterable=True)
    zones = table("zone-exposure-table", ["Score", "Zone", "Reasons"],
                  [[z["score"], z["zone"], z["reasons"]] for z in data["zone_exposure"]])
    return _section("exposure", "Exposure ranking", "<p>Score out of 100: reach from the enterprise (30), control "
                    "actions that reach it (40), criticality (20), alerts (10); see the README.</p>"
                    f"<h3>Zones</h3>{zones}<h3>Assets</h3>{assets}")


def _blind(data: Mapping[str, Any]) -> str:
    blind = data["blind"]
    loss = table("loss-table", ["Weird", "File", "Count", "First frame"],
                 [[w["code"], w["file"], w["count"], w["first_frame"]] for w in blind["loss"]])
    kinds = ("encrypted", "ot_unparsed", "midstream", "one_way", "gaps")
    labels = ["Encrypted sessions", "OT ports that did not parse", "Picked up mid-stream",
              "One-way flows (mirror sees one side)", "Capture loss (TCP gaps)"]
    zones = table("blind-table", ["Zone", *labels],
                  [[zone, *[v.get(k, []) for k in kinds]] for zone, v in blind["zones"].items()])
    return _section("blind", "What the sensor could not see",
                    "<h3>Capture loss and TCP gaps (whole capture)</h3>"
                    + (loss if blind["loss"] else "<p>No capture loss or TCP gaps recorded.</p>")
                    + f"<h3>Per zone</h3>{zones}"
                    + (f"<p class='note'>{escape(blind['note'])}.</p>" if blind["note"] else ""))


def _run(run: Mapping[str, Any]) -> str:
    files = table("files-table", ["File", "Bytes", "Frames", "Complete", "Analysed"],
                  [[f["path"], f["bytes"], f["frames"], "yes" if f["complete"] else "no", f["analyzed"]]
                   for f in run["files"]])
    facts = (f"<p>Sensor version {escape(run['version'])} · policy: {escape(run['policy'])} · {run['runs']} run(s) · "
             f"{run['packets']} packets, {run['bytes']} bytes · traffic {escape(when(run['span'][0]))} to "
             f"{escape(when(run['span'][1]))} UTC</p>")
    return _section("run", "The run", facts + files)
