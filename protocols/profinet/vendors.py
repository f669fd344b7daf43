"""Names of PROFINET VendorIDs (assigned by PROFIBUS & PROFINET International; the same numbers as PROFIBUS
manufacturer ids). Only ids checked against a station's own GSDML or documentation are listed: a wrong
vendor name in an inventory is worse than none, and the asset's MAC vendor (IEEE OUI) is there as well."""
from __future__ import annotations

VENDORS: dict[int, str] = {
    0x002A: "Siemens",
}


def vendor_name(vendor_id: int) -> str | None:
    return VENDORS.get(vendor_id)
