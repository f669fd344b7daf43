"""``otsensor report`` opened as a person opens it: in a real browser (headless Chromium), offline.

Two reports: the plant of captures/scenarios (every scenario analysed into one database with the plant's
policy: violations, IT-to-OT paths and the pivot chain of its story) and a capture of the shared corpus
(EtherNet/IP and S7 devices, no policy). One browser serves every test. The screenshots are kept in the
test's temporary folder. The expectations come from the scenario stories (captures/scenarios/README.md).
"""
from __future__ import annotations

import json
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sensor.report.chromium import Chromium, Page

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "captures" / "scenarios"
POLICY = SCENARIOS / "policy.yaml"
STORIES = ("allowed_plant", "enterprise_plc_write", "historian_write", "plc_reverse", "smb_it_to_control",
           "pivot_chain")
CORPUS_CAPTURE = Path("mixed") / "emre_cip_cotp_proces.pcap"
OFFICE_PC, JUMP_HOST, HISTORIAN = "10.40.0.7", "10.35.0.10", "10.30.0.20"
HMI, EWS, PLC = "10.20.0.10", "10.20.50.5", "10.10.0.5"
READY = "document.body && document.body.dataset.ready === '1'"


@dataclass
class Report:
    html: Path
    page: Page
    assets: list[dict]


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    with Chromium(width=1400, height=1000) as chromium:
        yield chromium


def make_report(otsensor: Callable, browser: Chromium, folder: Path, inputs: list[Path], *policy: str) -> Report:
    db, html = folder / "report.db", folder / "report.html"
    result = otsensor("analyze", *inputs, "--db", db, *policy)
    assert result.returncode == 0, result.stderr
    result = otsensor("report", "--db", db, "--html", html, *policy)
    assert result.returncode == 0, result.stderr
    assets = json.loads(otsensor("assets", "--db", db, "--format", "json").stdout)
    return Report(html, browser.open(html.as_uri(), READY), assets)


@pytest.fixture(scope="module")
def plant(otsensor: Callable, browser: Chromium, tmp_path_factory: pytest.TempPathFactory) -> Report:
    return make_report(otsensor, browser, tmp_path_factory.mktemp("plant"),
                       [SCENARIOS / f"{name}.pcap" for name in STORIES], "--policy", str(POLICY))


@pytest.fixture(scope="module")
def corpus_report(otsensor: Callable, browser: Chromium, corpus: Path,
                  tmp_path_factory: pytest.TempPathFactory) -> Report:
    return make_report(otsensor, browser, tmp_path_factory.mktemp("corpus"), [corpus / CORPUS_CAPTURE])


def rows(page: Page, table: str) -> list[str]:
    """The text of the rows of a table a person can see (filtered rows are hidden)."""
    return page.evaluate(f"Array.from(document.querySelectorAll('#{table} tbody tr'))"
                         ".filter(r => !r.hidden).map(r => r.textContent)")


def map_nodes(page: Page) -> list[str]:
    return page.evaluate("window.reportMap.nodes('.device').map(n => n.data('asset'))")


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def test_plant_map_has_zones_in_purdue_bands(plant: Report):
    page = plant.page
    assert sorted(map_nodes(page)) == sorted(a["ip"] for a in plant.assets)  # every scenario device has an IP
    tops = page.evaluate("Object.fromEntries(window.reportMap.nodes('.zone').map(z => [z.id().slice(5),"
                         " z.boundingBox().y1]))")
    ordered = sorted(tops, key=tops.get)  # top of the page first
    assert ordered[0] == "enterprise" and ordered[-1] == "field"
    assert ordered.index("dmz") < ordered.index("operations") < ordered.index("control")
    assert page.evaluate("window.reportMap.edges('.flow').length") > 0


def test_plant_violations_and_pivot_path_are_highlighted(plant: Report):
    page = plant.page
    flagged = page.evaluate("window.reportMap.edges('.violation').map(e => e.source().data('asset') + '>' +"
                            " e.target().data('asset'))")
    assert sorted(flagged) == sorted([f"{HISTORIAN}>{PLC}", f"{OFFICE_PC}>{PLC}", f"{PLC}>{HMI}",
                                      f"{OFFICE_PC}>{HMI}"])
    pivot = page.evaluate("window.reportMap.edges('.pivot').map(e => e.source().data('asset') + '>' +"
                          " e.target().data('asset'))")
    assert sorted(pivot) == sorted([f"{OFFICE_PC}>{JUMP_HOST}", f"{JUMP_HOST}>{EWS}", f"{EWS}>{PLC}"])
    drawn = page.evaluate("window.reportMap.edges('.violation').map(e => [e.style('line-color'), e.data('color')])")
    assert {line for line, _ in drawn} == {"rgb(224,49,49)"}  # red over the protocol's own colour
    assert all(protocol != "#e03131" for _, protocol in drawn)


def test_plant_tables_and_top_ten(plant: Report):
    page = plant.page
    inventory = rows(page, "inventory-table")
    assert len(inventory) == len(plant.assets) == 7
    assert any(PLC in r and "plc" in r and "field" in r for r in inventory)
    violations = rows(page, "violations-table")
    assert len(violations) == 5 and any("path.pivot_chain" in r for r in violations)
    assert any("engineering-to-plc" in r for r in violations)  # the conduit that nearly matched
    assert len(rows(page, "paths-table")) == 6
    top = page.evaluate("Array.from(document.querySelectorAll('#top-ten li')).map(li => li.textContent)")
    assert 5 <= len(top) <= 10
    assert top[0].startswith(f"The PLC {PLC} can be written to") and "RDP" in top[0] and "enterprise" in top[0]
    assert page.evaluate("document.querySelectorAll('#exposure-table tbody tr').length") == 7


def test_clicking_a_device_opens_its_details(plant: Report):
    page = plant.page
    page.evaluate("document.getElementById('details').removeAttribute('data-asset')")
    page.evaluate("document.getElementById('cy').scrollIntoView({block: 'center'})")
    x, y = page.evaluate(f"""(() => {{
        const box = document.getElementById('cy').getBoundingClientRect();
        const p = window.reportMap.getElementById('dev:{PLC}').renderedPosition();
        return [box.left + p.x, box.top + p.y]; }})()""")
    page.click(x, y)
    page.wait_for(f"document.getElementById('details').dataset.asset === '{PLC}'", timeout=5)
    details = page.evaluate("document.getElementById('details').textContent")
    assert "field (level 1)" in details and "Exposure score" in details and "modbus" in details
    shot = page.screenshot(plant.html.with_name("map-details.png"))
    assert png_size(shot) == (1400, 1000)


def test_filtering_the_inventory(plant: Report):
    page = plant.page
    page.evaluate("document.querySelector('input[data-table=\"inventory-table\"]').focus()")
    page.type("engineering_station")
    shown = rows(page, "inventory-table")
    assert shown and len(shown) < len(plant.assets)
    assert all("engineering_station" in r for r in shown)
    assert any(EWS in r for r in shown)
    page.evaluate("const f = document.querySelector('input[data-table=\"inventory-table\"]');"
                  " f.value = ''; f.dispatchEvent(new Event('input'))")
    assert len(rows(page, "inventory-table")) == len(plant.assets)


def test_sorting_a_table(plant: Report):
    page = plant.page
    page.evaluate("document.querySelector('#exposure-table th').click()")  # Score, ascending
    scores = [float(r) for r in page.evaluate(
        "Array.from(document.querySelectorAll('#exposure-table tbody tr td:first-child')).map(c => c.textContent)")]
    assert scores == sorted(scores)


def test_the_page_makes_no_network_request(plant: Report, corpus_report: Report):
    for report in (plant, corpus_report):
        assert report.page.requests() == [report.html.as_uri()]
        assert report.page.evaluate("performance.getEntriesByType('resource').length") == 0


def test_plant_screenshot(plant: Report):
    page = plant.page
    page.evaluate("window.scrollTo(0, 0)")
    shot = page.screenshot(plant.html.with_name("report.png"))
    assert png_size(shot) == (1400, 1000) and shot.stat().st_size > 20_000  # drawn, not blank


def test_corpus_capture_report(corpus_report: Report):
    page = corpus_report.page
    keys = [a["ip"] or a["mac"] for a in corpus_report.assets]  # a device seen at layer 2 only is keyed by its MAC
    assert len(keys) >= 4 and sorted(map_nodes(page)) == sorted(keys)
    inventory = " ".join(rows(page, "inventory-table"))
    assert all(key in inventory for key in keys)
    assert "s7comm" in inventory and "enip" in inventory
    assert page.evaluate("window.reportMap.edges('.flow').length") > 0
    files = rows(page, "files-table")
    assert len(files) == 1 and CORPUS_CAPTURE.name in files[0]
    shot = page.screenshot(corpus_report.html.with_name("report.png"))
    assert shot.stat().st_size > 20_000


def test_markdown_summary(otsensor: Callable, plant: Report):
    result = otsensor("report", "--db", plant.html.with_name("report.db"), "--policy", POLICY, "--format", "md")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    top = plant.page.evaluate("Array.from(document.querySelectorAll('#top-ten li')).map(li => li.textContent)")
    for i, sentence in enumerate(top, 1):
        assert f"{i}. {sentence}\n" in text
    assert "## What the sensor could not see" in text and "## The run" in text
