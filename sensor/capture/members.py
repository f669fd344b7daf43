"""Fingerprints of zip archive members (``archive.zip:member``), so that analysing an archive again is
recognised as a file is: by the member's size, CRC-32 and first MiB, without unpacking the rest."""
from __future__ import annotations

import hashlib
import os
import zipfile

FIRST_BYTES = 1 << 20


def member_fingerprint(name: str) -> str | None:
    """The fingerprint of the zip member ``name`` names, or None when it names none (a stream, stdin)."""
    found = split_member(name)
    if found is None:
        return None
    archive, member = found
    try:
        with zipfile.ZipFile(archive) as zf:
            info = zf.getinfo(member)
            digest = hashlib.sha256(f"zip member {info.file_size} {info.CRC:08x}".encode())
            with zf.open(info) as f:
                digest.update(f.read(FIRST_BYTES))
    except (OSError, KeyError, zipfile.BadZipFile, RuntimeError, NotImplementedError):
        return None  # unreadable: analysing it reports why, and nothing is recorded
    return digest.hexdigest()


def split_member(name: str) -> tuple[str, str] | None:
    """``archive.zip:member`` as (archive, member): the first ``:`` after which a zip file's path ends."""
    at = name.find(":")
    while at > 0:
        archive = name[:at]
        if os.path.isfile(archive) and zipfile.is_zipfile(archive):
            return archive, name[at + 1:]
        at = name.find(":", at + 1)
    return None
