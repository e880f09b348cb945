"""Reads of the instrument file import pages: the imports without their raw bytes."""

from __future__ import annotations

from qc.models import InstrumentImport

RECENT_IMPORTS = 20


def imports_for_page():
    # The raw file can be large; the pages show its preview and name only.
    return InstrumentImport.objects.select_related("instrument").defer("raw_file")


def recent_imports():
    return imports_for_page()[:RECENT_IMPORTS]
