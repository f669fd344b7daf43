/* otsensor report: the map (Cytoscape.js), the device details, and sortable, filterable tables.
   Reads the JSON in #report-data; fetches nothing. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var TYPES = {
    plc: { shape: "rectangle", color: "#1c7ed6", label: "PLC" },
    hmi: { shape: "round-rectangle", color: "#2f9e44", label: "HMI" },
    engineering_station: { shape: "diamond", color: "#ae3ec9", label: "engineering station" },
    historian: { shape: "barrel", color: "#f08c00", label: "historian" },
    it_host: { shape: "ellipse", color: "#868e96", label: "IT host" },
    unknown: { shape: "triangle", color: "#adb5bd", label: "unknown" }
  };
  var PROTOCOLS = {
    modbus: "#1971c2", s7comm: "#0c8599", enip: "#5f3dc4", dnp3: "#9c36b5", iec104: "#d6336c",
    opcua: "#2b8a3e", bacnet: "#e67700", profinet: "#364fc7", tls: "#495057", http: "#74b816", dns: "#a5d8ff"
  };
  var STAGGER = [0, 240, 480, 120, 360];
  var GAP = 60, SUBNET_GAP = 50, BAND_GAP = 90, MAX_WIDTH = 2400, COLLAPSE_ABOVE = 150, COLLAPSE_SIZE = 8;

  function protocolColor(name) {
    if (PROTOCOLS[name]) return PROTOCOLS[name];
    var h = 0;
    for (var i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) % 360;
    return "hsl(" + h + ",45%,55%)";
  }
  function typeOf(asset) { return TYPES[asset.type] ? asset.type : "unknown"; }
  function text(value) { return value === null || value === undefined ? "" : String(value); }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { node.append(c instanceof Node ? c : document.createTextNode(text(c))); });
    return node;
  }

  var byId = {};
  data.assets.forEach(function (a) { byId[a.id] = a; });
  var collapsed = {};  // subnet id -> whether its devices are folded into one summary node
  var hot = {};  // devices on a policy violation: their subnets stay expanded
  data.edges.forEach(function (e) { if (e.violation) { hot[e.src] = true; hot[e.dst] = true; } });

  // -- elements: zone bands > subnet groups > devices, laid out in rows (highest level on top) --------
  function elements() {
    var nodes = [], edges = [], y = 0, band = 0, maxX = 0, bands = [];
    data.zones.forEach(function (zone) {
      var members = data.assets.filter(function (a) { return a.zone === zone.name; });
      if (!members.length) return;
      var zid = "zone:" + zone.name;
      var level = zone.level === null || zone.level === undefined ? "level unknown" : "level " + zone.level;
      nodes.push({ group: "nodes", data: { id: zid, label: zone.name + " (" + level + ")" }, classes: "zone" });
      var subnets = {};
      members.forEach(function (a) { (subnets[a.subnet] = subnets[a.subnet] || []).push(a); });
      var x0 = STAGGER[band++ % STAGGER.length], x = x0, rowHeight = 0;  // staggered: long edges do not overlap
      Object.keys(subnets).sort().forEach(function (subnet) {
        var list = subnets[subnet], cols = Math.max(1, Math.ceil(Math.sqrt(list.length * 2)));
        var width = cols * GAP, height = Math.ceil(list.length / cols) * GAP;
        if (x > x0 && x + width > MAX_WIDTH) { x = x0; y += rowHeight + SUBNET_GAP; rowHeight = 0; }
        var sid = "net:" + zone.name + ":" + subnet;
        var busy = list.some(function (a) { return hot[a.id]; });
        var folded = data.assets.length > COLLAPSE_ABOVE && list.length > COLLAPSE_SIZE && !busy;
        collapsed[sid] = folded;
        nodes.push({ group: "nodes", data: { id: sid, parent: zid, label: subnet + " · " + list.length,
                     count: list.length }, classes: folded ? "subnet hidden" : "subnet" });
        nodes.push({ group: "nodes", data: { id: "sum:" + sid, parent: zid, subnet: sid, count: list.length,
                     label: subnet + "\n" + list.length + " devices" },
                     position: { x: x + (width - GAP) / 2, y: y + (height - GAP) / 2 },
                     classes: folded ? "summary" : "summary hidden" });
        list.forEach(function (a, i) {
          var t = typeOf(a);
          nodes.push({ group: "nodes", data: { id: "dev:" + a.id, asset: a.id, parent: sid, label: a.name || a.id,
                       shape: TYPES[t].shape, color: TYPES[t].color },
                       position: { x: x + (i % cols) * GAP, y: y + Math.floor(i / cols) * GAP },
                       classes: folded ? "device hidden" : "device" });
        });
        x += width + SUBNET_GAP;
        maxX = Math.max(maxX, x - SUBNET_GAP);
        rowHeight = Math.max(rowHeight, height);
      });
      bands.push([zid, y]);
      y += rowHeight + BAND_GAP;
    });
    bands.forEach(function (b) {  // invisible anchors at both ends: every band spans the full width
      [-GAP, maxX].forEach(function (x, i) {
        nodes.push({ group: "nodes", data: { id: b[0] + ":anchor" + i, parent: b[0] }, position: { x: x, y: b[1] },
                     classes: "anchor" });
      });
    });
    data.edges.forEach(function (e, i) {
      var classes = ["flow"];
      if (e.violation) classes.push("violation");
      if (e.path) classes.push("path");
      if (e.pivot) classes.push("pivot");
      edges.push({ group: "edges", data: { id: "e" + i, source: "dev:" + e.src, target: "dev:" + e.dst,
                   color: protocolColor(e.protocol), label: e.protocol, index: i }, classes: classes.join(" ") });
    });
    return nodes.concat(edges);
  }

  var style = [
    { selector: "node.device", style: { shape: "data(shape)", "background-color": "data(color)", label: "data(label)",
      width: 26, height: 26, "font-size": 11, "text-valign": "bottom", "text-margin-y": 3, "min-zoomed-font-size": 7,
      "text-background-color": "#ffffff", "text-background-opacity": 0.7 } },
    { selector: "node.zone", style: { label: "data(label)", "text-valign": "top", "text-halign": "left",
      "text-margin-x": 120, "font-size": 16, "font-weight": "bold", "background-color": "#eef3f8",
      "border-color": "#9fb3c8", "border-width": 1, shape: "round-rectangle", padding: 24 } },
    { selector: "node.subnet", style: { label: "data(label)", "text-valign": "top", "font-size": 10, color: "#52606d",
      "background-color": "#ffffff", "border-color": "#cbd2d9", "border-style": "dashed", "border-width": 1,
      padding: 12, shape: "round-rectangle" } },
    { selector: "node.summary", style: { shape: "round-rectangle", "background-color": "#dbe4ee",
      "border-color": "#7b8794", "border-width": 1, width: "mapData(count, 1, 100, 60, 120)", height: 44,
      label: "data(label)", "text-wrap": "wrap", "text-valign": "center", "font-size": 10 } },
    { selector: ".hidden", style: { display: "none" } },
    { selector: "node.anchor", style: { width: 1, height: 1, opacity: 0, events: "no" } },
    { selector: "edge", style: { width: 1.5, "line-color": "data(color)", "target-arrow-color": "data(color)",
      "target-arrow-shape": "triangle", "arrow-scale": 0.7, "curve-style": data.assets.length > 200 ? "straight" : "bezier",
      opacity: 0.75 } },
    { selector: "edge.path", style: { width: 4, "line-color": "#f08c00", "target-arrow-color": "#f08c00", opacity: 1,
      "z-index": 8 } },
    { selector: "edge.pivot", style: { width: 5, "line-color": "#e8590c", "target-arrow-color": "#e8590c",
      "line-style": "solid", "z-index": 9 } },
    { selector: "edge.violation", style: { width: 5, "line-color": "#e03131", "target-arrow-color": "#e03131",
      "line-style": "dashed", opacity: 1, "z-index": 10 } },
    { selector: "edge.meta", style: { width: "mapData(count, 1, 50, 1.5, 6)", "line-color": "#8a99a8",
      "target-arrow-color": "#8a99a8" } },
    { selector: "node.device.on-path", style: { "border-width": 3, "border-color": "#e8590c" } },
    { selector: "node.device.on-violation", style: { "border-width": 3, "border-color": "#e03131" } },
    { selector: "node:selected", style: { "overlay-color": "#1c7ed6", "overlay-opacity": 0.25, "overlay-padding": 6 } }
  ];

  var container = document.getElementById("cy");
  var cy = window.cytoscape({ container: container, elements: elements(), style: style, layout: { name: "preset" },
    wheelSensitivity: 0.3, minZoom: 0.05, maxZoom: 4, textureOnViewport: data.assets.length > 200,
    hideEdgesOnViewport: data.assets.length > 200, boxSelectionEnabled: false, autoungrabify: true });
  window.reportMap = cy;  // for a person at the console (and the browser tests)

  cy.edges(".violation").connectedNodes().addClass("on-violation");
  cy.edges(".path").connectedNodes().addClass("on-path");

  // -- collapsing subnets: their devices hide, and their edges join into one edge per pair of groups ---
  function visibleEnd(node) {
    var parent = node.parent();
    return parent.nonempty() && collapsed[parent.id()] ? cy.getElementById("sum:" + parent.id()) : node;
  }
  function refreshMeta() {
    cy.batch(function () {
      cy.remove("edge.meta");
      var meta = {};
      cy.edges(".flow").forEach(function (edge) {
        var s = visibleEnd(edge.source()), t = visibleEnd(edge.target());
        if (s === edge.source() && t === edge.target()) return;
        if (s.id() === t.id()) return;
        var key = s.id() + "|" + t.id();
        var m = meta[key] = meta[key] || { source: s.id(), target: t.id(), count: 0, classes: {} };
        m.count += 1;
        ["violation", "path", "pivot"].forEach(function (c) { if (edge.hasClass(c)) m.classes[c] = true; });
      });
      cy.add(Object.keys(meta).map(function (key, i) {
        var m = meta[key];
        return { group: "edges", data: { id: "meta" + i, source: m.source, target: m.target, count: m.count,
                 color: "#8a99a8" }, classes: ["meta"].concat(Object.keys(m.classes)).join(" ") };
      }));
    });
  }
  function setCollapsed(subnet, fold) {
    collapsed[subnet.id()] = fold;
    subnet.toggleClass("hidden", fold);
    subnet.children().toggleClass("hidden", fold);
    cy.getElementById("sum:" + subnet.id()).toggleClass("hidden", !fold);
  }
  refreshMeta();  // subnets start collapsed (``elements``) when the plant is large and nothing flagged is in them
  cy.fit(undefined, 20);

  cy.on("tap", "node.subnet", function (evt) { setCollapsed(evt.target, true); refreshMeta(); });
  cy.on("tap", "node.summary", function (evt) {
    setCollapsed(cy.getElementById(evt.target.data("subnet")), false);
    refreshMeta();
  });
  cy.on("tap", "node.device", function (evt) { showDetails(evt.target.data("asset")); });
  document.getElementById("fit").addEventListener("click", function () { cy.fit(undefined, 20); });
  document.getElementById("expand-all").addEventListener("click", function () {
    cy.batch(function () { cy.nodes(".subnet").forEach(function (s) { setCollapsed(s, false); }); });
    refreshMeta();
  });
  document.getElementById("collapse-all").addEventListener("click", function () {
    cy.batch(function () { cy.nodes(".subnet").forEach(function (s) { setCollapsed(s, true); }); });
    refreshMeta();
  });

  // -- legend -------------------------------------------------------------------------------------
  var legend = document.getElementById("legend");
  Object.keys(TYPES).forEach(function (t) {
    legend.append(el("span", {}, [el("span", { class: "swatch", style: "background:" + TYPES[t].color + ";height:10px;width:10px" }),
                                  TYPES[t].label + " (" + TYPES[t].shape + ")"]));
  });
  var seen = {};
  data.edges.forEach(function (e) { seen[e.protocol] = true; });
  Object.keys(seen).sort().forEach(function (p) {
    legend.append(el("span", {}, [el("span", { class: "swatch", style: "background:" + protocolColor(p) }), p]));
  });
  [["#e03131", "policy violation (dashed)"], ["#e8590c", "pivot chain"], ["#f08c00", "IT-to-OT path"]].forEach(function (l) {
    legend.append(el("span", {}, [el("span", { class: "swatch", style: "background:" + l[0] + ";height:5px" }), l[1]]));
  });

  // -- device details -------------------------------------------------------------------------------
  function showDetails(id) {
    var a = byId[id], panel = document.getElementById("details");
    if (!a) return;
    var dl = el("dl");
    function row(term, value) {
      if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) return;
      var dd = el("dd");
      (Array.isArray(value) ? value : [value]).forEach(function (v, i) {
        if (i) dd.append(el("br"));
        dd.append(document.createTextNode(typeof v === "object" ? JSON.stringify(v) : text(v)));
      });
      dl.append(el("dt", {}, [term]), dd);
    }
    row("Type", (TYPES[typeOf(a)].label) + (a.type_reasons.length ? " — " + a.type_reasons.join("; ") : ""));
    row("Zone", a.zone + (a.level === null ? "" : " (level " + a.level + ")"));
    row("Subnet", a.subnet);
    row("MAC", a.mac ? a.mac + (a.mac_vendor ? " (" + a.mac_vendor + ")" : "") : null);
    row("Names", a.hostnames);
    row("Identity", a.identity ? Object.keys(a.identity).filter(function (k) { return k !== "source"; })
      .map(function (k) { return k + ": " + text(a.identity[k]); }) : null);
    row("Roles", a.roles);
    row("Services", a.services);
    row("Source of each attribute", Object.keys(a.sources).sort().map(function (k) {
      var s = a.sources[k];
      return k + ": " + s.proto + " frame " + s.frame + (s.file ? " of " + s.file : "");
    }));
    row("Points read/written", a.points.map(function (p) {
      return p.access + " " + p.protocol + " " + p.server + " " + p.table + " " + p.address + "+" + p.quantity + " ×" + p.count;
    }));
    var talks = data.edges.filter(function (e) { return e.src === a.id || e.dst === a.id; }).slice(0, 30).map(function (e) {
      return e.src + " → " + e.dst + " " + e.protocol + " " + e.ports.join(",") + (e.worst ? " [" + e.worst + "]" : "")
        + (e.violation ? " VIOLATION" : "") + (e.pivot ? " PIVOT" : "");
    });
    row("Communications", talks);
    row("Alerts", a.alerts ? a.alerts + " (highest severity " + a.max_severity + ")" : null);
    if (a.exposure) row("Exposure score " + a.exposure.score + "/100", a.exposure.reasons);
    panel.replaceChildren(el("h3", {}, [(a.name ? a.name + " · " : "") + a.id]), dl);
    panel.setAttribute("data-asset", a.id);
  }

  document.querySelectorAll("a.asset-link").forEach(function (link) {
    link.addEventListener("click", function () {
      var node = cy.getElementById("dev:" + link.getAttribute("data-id"));
      if (node.nonempty()) {
        if (collapsed[node.parent().id()]) { setCollapsed(node.parent(), false); refreshMeta(); }
        cy.elements().unselect();
        node.select();
        cy.animate({ center: { eles: node }, zoom: Math.max(cy.zoom(), 1) }, { duration: 200 });
      }
      showDetails(link.getAttribute("data-id"));
    });
  });

  // -- tables: click a header to sort, type in the box above to filter ----------------------------------
  function sortKey(cell) {
    var t = cell.textContent.trim(), n = Number(t);
    return t !== "" && !isNaN(n) ? [0, n, ""] : [1, 0, t.toLowerCase()];
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("th").forEach(function (th, col) {
      th.addEventListener("click", function () {
        var asc = !th.classList.contains("asc");
        table.querySelectorAll("th").forEach(function (h) { h.classList.remove("asc", "desc"); });
        th.classList.add(asc ? "asc" : "desc");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (r1, r2) {
          var a = sortKey(r1.cells[col]), b = sortKey(r2.cells[col]);
          var c = a[0] - b[0] || (a[1] - b[1]) || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0);
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.append(r); });
      });
    });
  });
  document.querySelectorAll("input.filter").forEach(function (input) {
    var table = document.getElementById(input.getAttribute("data-table"));
    input.addEventListener("input", function () {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        var t = row.textContent.toLowerCase();
        row.hidden = !words.every(function (w) { return t.indexOf(w) >= 0; });
      });
    });
  });
  document.body.setAttribute("data-ready", "1");  // the map is drawn and the tables are live
})();
