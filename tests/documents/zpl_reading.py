"""Reading a ZPL II label back as a printer would: commands split at every ^ and ~ (so field
data that held one would show up here as a command of its own), ^FH hex escapes decoded as
UTF-8 (^CI28), and ^BC normal-mode data decoded through its subset invocations into the text a
scanner reads. Independent of the renderer: written from the ZPL II manual's rules."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HEX = re.compile(r"_([0-9A-Fa-f]{2})")


def commands(zpl: str) -> list[tuple[str, str]]:
    """(prefix + two-letter command, its parameters or field data), in order."""
    found = []
    for match in re.finditer(r"([\^~])([^\^~]{0,2})([^\^~]*)", zpl):
        prefix, name, rest = match.groups()
        found.append((prefix + name, rest.rstrip("\r\n")))
    return found


def unhex(data: str) -> str:
    """^FH field data with the default indicator "_": each _XX a byte, the bytes UTF-8."""
    raw = bytearray()
    i = 0
    while i < len(data):
        m = _HEX.match(data, i)
        if m:
            raw.append(int(m.group(1), 16))
            i = m.end()
        else:
            assert data[i] != "_", f"a bare hex indicator in {data!r}"
            raw += data[i].encode("utf-8")
            i += 1
    return raw.decode("utf-8")


def code128_text(data: str) -> str:
    """^BC normal-mode field data as the symbol's text: >: >9 >; start subset B, A, C; >5 and
    >6 switch to C and B; >0 is ">"; in subset C each two digits are one symbol."""
    out, subset, i = [], "B", 0
    while i < len(data):
        if data[i] == ">":
            code = data[i + 1]
            i += 2
            if code in ":6":
                subset = "B"
            elif code in ";5":
                subset = "C"
            elif code == "9":
                subset = "A"
            elif code == "0":
                out.append(">")
            else:
                raise AssertionError(f"unexpected invocation >{code} in {data!r}")
        elif subset == "C":
            pair = data[i : i + 2]
            assert len(pair) == 2 and pair.isdigit(), f"subset C takes digit pairs: {data!r}"
            out.append(pair)
            i += 2
        else:
            out.append(data[i])
            i += 1
    return "".join(out)


@dataclass
class Label:
    texts: list[str] = field(default_factory=list)
    barcodes: list[str] = field(default_factory=list)
    commands: list[tuple[str, str]] = field(default_factory=list)


def read_label(zpl: str) -> Label:
    """The text fields and barcodes of one label format, checked to be exactly one ^XA ... ^XZ
    with no control (~) command anywhere."""
    label = Label(commands=commands(zpl))
    names = [name for name, _ in label.commands]
    assert names[0] == "^XA" and names[-1] == "^XZ", names
    assert names.count("^XA") == 1 and names.count("^XZ") == 1, names
    assert not [n for n in names if n.startswith("~")], names
    hex_escaped, barcode = False, False
    for name, argument in label.commands:
        if name == "^FH":
            hex_escaped = True
        elif name == "^BC":
            barcode = True
        elif name == "^FD":
            if barcode:
                label.barcodes.append(code128_text(argument))
            else:
                label.texts.append(unhex(argument) if hex_escaped else argument)
        elif name == "^FS":
            hex_escaped = barcode = False
    return label
