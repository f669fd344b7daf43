"""Vendor names as a person writes them: the IEEE registry's trailing commas and doubled spaces are noise."""
from __future__ import annotations

import pytest

from sensor.inventory.oui import clean_vendor, mac_vendor


@pytest.mark.parametrize(("mac", "vendor"), [
    ("00:1b:1b:13:41:73", "Siemens AG"),  # registered as "Siemens AG,"
    ("c0:8f:20:00:00:01", "Shenzhen Skyworth Digital Technology CO., Ltd"),  # registered with doubled spaces
    ("00:0c:29:6b:2d:28", "VMware, Inc."),  # a comma inside a name stays
])
def test_registry_names_are_cleaned_at_lookup(mac: str, vendor: str) -> None:
    assert mac_vendor(mac) == vendor


@pytest.mark.parametrize(("raw", "clean"), [("Siemens AG,", "Siemens AG"), ("  ACME  Corp ; ", "ACME Corp"),
                                            ("Dell Inc.", "Dell Inc."), (" , ", None)])
def test_clean_vendor(raw: str, clean: str | None) -> None:
    assert clean_vendor(raw) == clean
