"""The HTML and Markdown writers: self-contained, escaped, and saying the same things."""
from __future__ import annotations

import json
import re

import pytest
from report_plant import PLC, build

from sensor.report.gather import gather
from sensor.report.html import CSP, render_html, script_json, vendored_version
from sensor.report.markdown import render_markdown
from sensor.store import Store


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict:
    db, policy = build(tmp_path_factory.mktemp("plant"))
    with Store.open(str(db)) as store:
        return gather(store, policy)


def test_embedded_json_cannot_end_its_script():
    text = script_json({"name": "</script><script>alert(1)</script>", "c": "<!--"})
    assert "<" not in text
    assert json.loads(text) == {"name": "</script><script>alert(1)</script>", "c": "<!--"}


def test_html_loads_nothing_from_outside(data: dict):
    page = render_html(data)
    assert f'content="{CSP}"' in page and "default-src 'none'" in CSP
    assert not re.search(r"<(script|img|iframe|link)\b[^>]*\b(src|href)=", page, re.I)
    assert not re.search(r"@import|url\(\s*['\"]?https?:", page, re.I)
    assert vendored_version().startswith("cytoscape 3.")


def test_html_escapes_what_the_capture_says(data: dict):
    evil = {**data, "assets": [{**data["assets"][0], "name": "<b>pwned</b>"}] + data["assets"][1:]}
    page = render_html(evil)
    assert "&lt;b&gt;pwned&lt;/b&gt;" in page and "<b>pwned</b>" not in page.split('id="report-data"')[0]


def test_both_writers_give_the_same_top_ten(data: dict):
    page, text = render_html(data), render_markdown(data)
    items = re.findall(r"<li>(.*?)</li>", page.split('id="top-ten"')[1].split("</ol>")[0])
    numbered = re.findall(r"^\d+\. (.*)$", text, re.M)
    assert len(items) == len(data["top_ten"]) >= 2
    assert numbered[:len(items)] == [t["sentence"] for t in data["top_ten"]]
    assert [i.replace("&#x27;", "'") for i in items] == [t["sentence"] for t in data["top_ten"]]


def test_markdown_has_every_section(data: dict):
    text = render_markdown(data)
    for heading in ("## What to fix first", "## Exposure ranking", "## Violations and paths", "## Alerts",
                    "## Inventory", "## What the sensor could not see", "## The run"):
        assert heading in text
    assert f"| {PLC} | field | 86 |" in text
    assert "engineering-to-plc (engineering → field, modbus)" in text  # the conduit that nearly matched


def test_map_groups_widen_when_a_zone_has_too_many():
    from sensor.report.gather import MAX_GROUPS, SCATTERED, group_subnets

    few = [{"zone": "field", "ip": f"10.10.{i}.5"} for i in range(3)]
    many = [{"zone": "office", "ip": f"10.{i}.{i}.5"} for i in range(MAX_GROUPS + 1)] + [
        {"zone": "office", "ip": "10.0.9.9"}, {"zone": "office", "ip": "10.0.8.8"},
        {"zone": "office", "ip": "10.1.1.6"}, {"zone": "office", "ip": None}]
    group_subnets(few + many)
    assert [r["subnet"] for r in few] == ["10.10.0.0/24", "10.10.1.0/24", "10.10.2.0/24"]
    assert {r["subnet"] for r in many} == {"10.0.0.0/8", "layer 2 only"}  # /24 and /16 give too many; /8 one

    scattered = [{"zone": "internet", "ip": f"{i + 1}.2.3.4"} for i in range(MAX_GROUPS + 1)] + [
        {"zone": "internet", "ip": f"99.0.0.{i}"} for i in range(3)]
    group_subnets(scattered)
    assert {r["subnet"] for r in scattered} == {SCATTERED, "99.0.0.0/8"}


def test_encrypted_opc_ua_channels_are_named_among_what_could_not_be_read(tmp_path, corpus):
    """A SignAndEncrypt OPC UA session is listed as unreadable in its zone (the package marks the server)."""
    from helpers import run_otsensor

    db = tmp_path / "opcua.db"
    done = run_otsensor("analyze", corpus / "opcua" / "icsnpp_open62541_client-server_encrypted.pcap", "--db", db,
                        "--no-progress")
    assert done.returncode == 0, done.stderr
    with Store.open(str(db)) as store:
        blind = gather(store)["blind"]
    encrypted = [label for zone in blind["zones"].values() for label in zone.get("encrypted", [])]
    assert any("(opcua)" in label for label in encrypted), blind
