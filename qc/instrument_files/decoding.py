"""Uploaded bytes to text: UTF-8, UTF-16 with or without a byte-order mark, or clean
Windows-1252; workbooks and binary files are refused with a message that says what they are."""

from __future__ import annotations

import codecs

from qc.instrument_files.common import InstrumentFileError, file_ref

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),  # "utf-16" reads the BOM and strips it
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_with_codec(data: bytes, filename: str = "") -> tuple[str, str]:
    """(text without BOM, codec name that decodes the original bytes, for allotropy)."""
    ref = file_ref(filename)
    _refuse_workbooks(data, ref)
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as exc:
                raise InstrumentFileError(
                    f"unreadable encoding: {ref}starts with a {codec.upper()} byte-order mark "
                    f"but is not valid {codec.upper()} ({exc.reason} at byte {exc.start})"
                ) from exc
            return text.lstrip("\ufeff"), codec
    utf16 = _sniff_utf16_without_bom(data)
    if utf16:
        try:
            return data.decode(utf16), utf16
        except UnicodeDecodeError as exc:
            raise InstrumentFileError(
                f"unreadable encoding: {ref}looks like {utf16.upper()} without a byte-order "
                f"mark but is not valid {utf16.upper()} ({exc.reason} at byte {exc.start})"
            ) from exc
    return _decode_utf8_or_windows(data, ref)


def _refuse_workbooks(data: bytes, ref: str) -> None:
    if not data:
        raise InstrumentFileError(f"{ref}is empty")
    if data.startswith(b"PK\x03\x04"):
        raise InstrumentFileError(
            f"{ref}is a ZIP/Excel workbook (.xlsx), not a text export: export it as CSV or TXT"
        )
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise InstrumentFileError(
            f"{ref}is an old Excel workbook (.xls), not a text export: export it as CSV or TXT"
        )


def _decode_utf8_or_windows(data: bytes, ref: str) -> tuple[str, str]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        windows_text = _decode_windows_text(data)
        if windows_text is None:
            raise InstrumentFileError(
                f"unreadable encoding: {ref}is not UTF-8 or UTF-16 text (invalid byte "
                f"0x{data[exc.start]:02x} at offset {exc.start}); is it a binary file?"
            ) from exc
        return windows_text, "cp1252"
    if "\x00" in text:
        raise InstrumentFileError(
            f"unreadable encoding: {ref}contains NUL bytes; it is a binary file, not a text export"
        )
    return text, "utf-8"


def _sniff_utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text of mostly ASCII characters has a NUL in every other byte."""
    sample = data[:4096]
    if len(data) % 2 or len(sample) < 4:
        return None
    half = len(sample) // 2
    even_nuls, odd_nuls = sample[0::2].count(0), sample[1::2].count(0)
    if odd_nuls >= 0.3 * half and even_nuls <= 0.05 * half:
        return "utf-16-le"
    if even_nuls >= 0.3 * half and odd_nuls <= 0.05 * half:
        return "utf-16-be"
    return None


def _decode_windows_text(data: bytes) -> str | None:
    """Windows-1252 text: only if it reads cleanly and looks like text, not binary noise."""
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\r\n\f")
    non_ascii = sum(1 for ch in text if ord(ch) > 127)
    if controls or non_ascii > 0.05 * len(text):
        return None
    return text
