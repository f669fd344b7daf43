"""The OPC UA binary encoding of built-in types (Part 6 §5.2), as a bounded cursor.

Every read checks the end first and raises ``Malformed("opcua_truncated", offset)``; strings and lists
announce their length as an Int32 (-1 is null), so lengths are checked against the bytes left before
anything is sliced. Nested types (DiagnosticInfo, Variant in Variant) recurse at most ``MAX_DEPTH``.
Values are turned into JSON-friendly Python: NodeIds as the text form ``ns=2;s=Tag`` (Part 6 §5.3.1.10).
"""
from __future__ import annotations

import struct
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from protocols.base import Malformed
from protocols.opcua.codes import BUILD_INFO_TYPE, SERVER_STATUS_TYPE

MAX_DEPTH = 4  # nested DiagnosticInfo / Variant / DataValue levels followed
MAX_TEXT = 256  # characters kept of a string value (the bytes are still skipped whole)
MAX_LIST_ITEMS = 32  # items of a list reported; the rest is decoded only where the position must be known
MAX_ARRAY_SCAN = 4096  # items of a list walked at all: beyond, the body is abandoned (opcua_list_truncated)
TRUNCATED = "opcua_truncated"
T = TypeVar("T")

_U16, _U32, _I32, _I64, _F32, _F64 = (struct.Struct(f) for f in ("<H", "<I", "<i", "<q", "<f", "<d"))
_SCALARS: dict[int, tuple[struct.Struct, bool]] = {  # Variant type id -> (layout, is bool)
    1: (struct.Struct("<?"), True), 2: (struct.Struct("<b"), False), 3: (struct.Struct("<B"), False),
    4: (struct.Struct("<h"), False), 5: (_U16, False), 6: (_I32, False), 7: (_U32, False), 8: (_I64, False),
    9: (struct.Struct("<Q"), False), 10: (_F32, False), 11: (_F64, False), 13: (_I64, False), 19: (_U32, False),
}
VARIANT_TYPES = {1: "Boolean", 2: "SByte", 3: "Byte", 4: "Int16", 5: "UInt16", 6: "Int32", 7: "UInt32", 8: "Int64",
                 9: "UInt64", 10: "Float", 11: "Double", 12: "String", 13: "DateTime", 14: "Guid", 15: "ByteString",
                 16: "XmlElement", 17: "NodeId", 18: "ExpandedNodeId", 19: "StatusCode", 20: "QualifiedName",
                 21: "LocalizedText", 22: "ExtensionObject", 23: "DataValue", 24: "Variant", 25: "DiagnosticInfo"}


class Reader:
    """A cursor over ``buf[pos:end]``; ``truncated`` is set when a list was cut at MAX_LIST_ITEMS."""

    __slots__ = ("buf", "end", "pos", "truncated")

    def __init__(self, buf: bytes | bytearray | memoryview, pos: int = 0, end: int | None = None) -> None:
        self.buf = buf
        self.pos = pos
        self.end = len(buf) if end is None else end
        self.truncated = False

    @property
    def left(self) -> int:
        return self.end - self.pos

    def need(self, size: int) -> int:
        """Claim ``size`` bytes; their start."""
        start = self.pos
        if size < 0 or start + size > self.end:
            raise Malformed(TRUNCATED, start, f"{size} bytes wanted, {self.end - start} left")
        self.pos = start + size
        return start

    def skip(self, size: int) -> None:
        self.need(size)

    def take(self, size: int) -> bytes:
        start = self.need(size)
        return bytes(self.buf[start:start + size])

    def u8(self) -> int:
        return self.buf[self.need(1)]

    def u16(self) -> int:
        return _U16.unpack_from(self.buf, self.need(2))[0]

    def u32(self) -> int:
        return _U32.unpack_from(self.buf, self.need(4))[0]

    def i32(self) -> int:
        return _I32.unpack_from(self.buf, self.need(4))[0]

    def f64(self) -> float:
        return _F64.unpack_from(self.buf, self.need(8))[0]

    def length(self) -> int:
        """An Int32 length: -1 (and any negative) is null, reported as -1."""
        n = self.i32()
        return -1 if n < 0 else n

    def bytestring(self) -> bytes | None:
        n = self.length()
        return None if n < 0 else self.take(n)

    def bytestring_span(self) -> tuple[int, int]:
        """(start, size) of a ByteString without copying it; size -1 when null."""
        n = self.length()
        if n < 0:
            return self.pos, -1
        return self.need(n), n

    def string(self) -> str | None:
        n = self.length()
        if n < 0:
            return None
        start = self.need(n)
        return bytes(self.buf[start:start + min(n, MAX_TEXT * 4)]).decode("utf-8", "replace")[:MAX_TEXT]

    def array(self, item: Callable[[Reader], T], keep: int = MAX_LIST_ITEMS) -> list[T] | None:
        """An array (Int32 count, then items): the first ``keep`` items; the rest are walked to find the end."""
        n = self.length()
        if n < 0:
            return None
        if n > MAX_ARRAY_SCAN or n > self.left:  # every item is at least one byte
            if n > self.left:
                raise Malformed(TRUNCATED, self.pos, f"array of {n} items in {self.left} bytes")
            raise Malformed("opcua_list_truncated", self.pos, f"array of {n} items")
        out: list[T] = []
        for k in range(n):
            value = item(self)
            if k < keep:
                out.append(value)
        if n > keep > 0:  # keep=0: walked past on purpose, not cut
            self.truncated = True
        return out

    # -- composite built-ins -----------------------------------------------------------------------------
    def node_id(self) -> str:
        """NodeId (Part 6 §5.2.2.9) as text: ``i=631``, ``ns=2;s=Tag``, ``ns=1;g=...``, ``ns=1;b=<hex>``."""
        mask = self.u8()
        return self._node_id_body(mask & 0x3F, mask)

    def _node_id_body(self, kind: int, mask: int) -> str:
        if kind == 0:
            return f"i={self.u8()}"
        if kind == 1:
            ns = self.u8()
            ident: str = f"i={self.u16()}"
        elif kind == 2:
            ns = self.u16()
            ident = f"i={self.u32()}"
        elif kind == 3:
            ns = self.u16()
            ident = f"s={self.string() or ''}"
        elif kind == 4:
            ns = self.u16()
            ident = f"g={uuid.UUID(bytes_le=self.take(16))}"
        elif kind == 5:
            ns = self.u16()
            raw = self.bytestring() or b""
            ident = f"b={raw[:MAX_TEXT].hex()}"
        else:
            raise Malformed("opcua_bad_body", self.pos - 1, f"NodeId encoding 0x{mask:02x}")
        return ident if ns == 0 else f"ns={ns};{ident}"

    def expanded_node_id(self) -> str:
        """ExpandedNodeId (Part 6 §5.2.2.10): a NodeId whose mask may add a namespace URI and a server index."""
        mask = self.u8()
        text = self._node_id_body(mask & 0x0F, mask)
        if mask & 0x80:
            text = f"nsu={self.string() or ''};{text.split(';', 1)[-1]}"
        if mask & 0x40:
            text = f"svr={self.u32()};{text}"
        return text

    def numeric_node_id(self) -> tuple[int, int] | None:
        """(namespace, numeric id) of a NodeId, or None (after reading it whole) when it is not numeric."""
        mask = self.u8()
        kind = mask & 0x3F
        if kind == 0:
            return 0, self.u8()
        if kind == 1:
            return self.u8(), self.u16()
        if kind == 2:
            return self.u16(), self.u32()
        self._node_id_body(kind, mask)
        return None

    def qualified_name(self) -> str:
        ns = self.u16()
        name = self.string() or ""
        return name if ns == 0 else f"{ns}:{name}"

    def localized_text(self) -> str | None:
        mask = self.u8()
        if mask & 0x01:
            self.string()  # locale
        return self.string() if mask & 0x02 else None

    def diagnostic_info(self, depth: int = 0) -> None:
        """DiagnosticInfo (Part 6 §5.2.2.12): skipped, its inner infos at most MAX_DEPTH deep."""
        mask = self.u8()
        for bit in (0x01, 0x02, 0x04, 0x08):
            if mask & bit:
                self.skip(4)
        if mask & 0x10:
            self.string()
        if mask & 0x20:
            self.skip(4)
        if mask & 0x40:
            if depth >= MAX_DEPTH:
                raise Malformed("opcua_bad_body", self.pos, "DiagnosticInfo nested too deep")
            self.diagnostic_info(depth + 1)

    def extension_object(self) -> tuple[int | None, int, int]:
        """ExtensionObject (Part 6 §5.2.2.15): (numeric type id or None, body start, body size; -1 none)."""
        type_id = self.numeric_node_id()
        encoding = self.u8()
        if encoding == 0:
            return (type_id[1] if type_id and type_id[0] == 0 else None), self.pos, -1
        if encoding not in (1, 2):
            raise Malformed("opcua_bad_body", self.pos - 1, f"ExtensionObject encoding {encoding}")
        start, size = self.bytestring_span()
        return (type_id[1] if type_id and type_id[0] == 0 else None), start, size

    def variant(self, depth: int = 0) -> Any:
        """Variant (Part 6 §5.2.2.16): a scalar as Python; arrays as lists (MAX_LIST_ITEMS kept)."""
        mask = self.u8()
        kind = mask & 0x3F
        if mask & 0x80:
            values = self.array(lambda r: r._scalar(kind, depth))
            if mask & 0x40:
                self.array(Reader.i32)
            return values
        return self._scalar(kind, depth)

    def _scalar(self, kind: int, depth: int) -> Any:
        layout = _SCALARS.get(kind)
        if layout is not None:
            return layout[0].unpack_from(self.buf, self.need(layout[0].size))[0]
        if kind == 0:
            return None
        if kind in (12, 16):
            return self.string()
        if kind == 14:
            return str(uuid.UUID(bytes_le=self.take(16)))
        if kind == 15:
            start, size = self.bytestring_span()
            return None if size < 0 else f"<{size} bytes>"
        if kind == 17:
            return self.node_id()
        if kind == 18:
            return self.expanded_node_id()
        if kind == 20:
            return self.qualified_name()
        if kind == 21:
            return self.localized_text()
        if depth >= MAX_DEPTH:
            raise Malformed("opcua_bad_body", self.pos, "Variant nested too deep")
        if kind == 22:
            return self.extension_value()
        if kind == 23:
            return self.data_value(depth + 1).get("value")
        if kind == 24:
            return self.variant(depth + 1)
        if kind == 25:
            self.diagnostic_info(depth + 1)
            return None
        raise Malformed("opcua_bad_body", self.pos, f"Variant type {kind}")

    def data_value(self, depth: int = 0) -> dict[str, Any]:
        """DataValue (Part 6 §5.2.2.17): {value, status} as present."""
        mask = self.u8()
        out: dict[str, Any] = {}
        if mask & 0x01:
            out["value"] = self.variant(depth)
        if mask & 0x02:
            out["status"] = self.u32()
        for bit, size in ((0x04, 8), (0x10, 2), (0x08, 8), (0x20, 2)):
            if mask & bit:
                self.skip(size)
        return out

    def extension_value(self) -> Any:
        """An ExtensionObject as a value: BuildInfo and ServerStatusDataType decoded (they name the server),
        others as ``<ExtensionObject i=N>``."""
        type_id, start, size = self.extension_object()
        if size >= 0 and type_id in (BUILD_INFO_TYPE, SERVER_STATUS_TYPE):
            body = Reader(self.buf, start, start + size)
            if type_id == SERVER_STATUS_TYPE:
                body.skip(8 + 8 + 4)  # startTime, currentTime, state
            return {"build_info": body.build_info()}
        return f"<ExtensionObject i={type_id}>"

    def build_info(self) -> dict[str, Any]:
        """BuildInfo (Part 5 §12.4): what the server says it is."""
        keys = ("product_uri", "manufacturer_name", "product_name", "software_version", "build_number")
        return {key: self.string() for key in keys}

    def request_header(self) -> int:
        """RequestHeader (Part 4 §7.32): its request handle."""
        self.node_id()  # authenticationToken
        self.skip(8)  # timestamp
        handle = self.u32()
        self.skip(4)  # returnDiagnostics
        self.string()  # auditEntryId
        self.skip(4)  # timeoutHint
        self.extension_object()
        return handle

    def response_header(self) -> tuple[int, int]:
        """ResponseHeader (Part 4 §7.33): (request handle, service result)."""
        self.skip(8)
        handle = self.u32()
        result = self.u32()
        self.diagnostic_info()
        self.array(Reader.string, keep=0)
        self.extension_object()
        return handle, result
