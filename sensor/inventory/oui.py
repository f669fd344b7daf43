"""MAC address → vendor from the IEEE OUI registry that the netaddr package ships (offline)."""
from __future__ import annotations

from functools import lru_cache

from netaddr import EUI, AddrFormatError, NotRegisteredError


@lru_cache(maxsize=65_536)
def mac_vendor(mac: str) -> str | None:
    """The registered organisation of the MAC's OUI, or None (unregistered, or locally administered)."""
    try:
        address = EUI(mac)
        if int(address) >> 40 & 0x02:  # locally administered: no vendor owns it
            return None
        return clean_vendor(str(address.oui.registration().org))
    except (NotRegisteredError, AddrFormatError, ValueError, IndexError):
        return None


def clean_vendor(name: str) -> str | None:
    """The registry's name without its noise: runs of spaces, a trailing comma ("Siemens AG,")."""
    return " ".join(name.split()).rstrip(" ,;") or None
