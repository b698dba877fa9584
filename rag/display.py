"""Names as they are shown: bidi controls and invisible characters escaped, so a name reads as it is.

A file called "invoice\u202etxt.exe" displays as "invoiceexe.txt" if printed raw: the right-to-left
override reverses what follows. Stored names stay exact (they are paths); every place that shows a
name to a person or a model (citations, `sources list`, ingestion output) goes through `safe`.
"""

from __future__ import annotations

import unicodedata

# Format characters (bidi embeddings/overrides/isolates, zero-width joiners, BOM, soft hyphen...),
# controls, unassigned code points, private use, surrogates, and line/paragraph separators.
_HIDDEN = {"Cf", "Cc", "Cn", "Co", "Cs", "Zl", "Zp"}


def safe(name: str) -> str:
    """`name` with every invisible or direction-changing character written as a visible \\uXXXX escape."""
    if name.isascii() and name.isprintable():
        return name
    out = []
    for c in name:
        if unicodedata.category(c) in _HIDDEN:
            out.append(f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}")
        else:
            out.append(c)
    return "".join(out)
