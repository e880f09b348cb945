"""Release documents (DESIGN section 6): the Certificate of Analysis and ISBT 128 bag labels.

Pure functions: no database, no Django. The inputs are frozen dataclasses that a caller fills
from the models; the outputs are PDF bytes (and ZPL text for label printers). Rendering is
deterministic: the same input gives byte-identical PDFs (reportlab's ``invariant`` mode, and
the generation time is an input), so a stored document can be re-created and compared.

Every date-time must be timezone-aware: it is printed in the zone it carries (convert it
first, e.g. with ``django.utils.timezone.localtime``), and the ISBT 128 expiry barcode
encodes that same wall-clock time, so the barcode and the eye-readable text always agree.

``coa`` holds the certificate, ``labels`` the bag labels and what they say, ``zpl`` the same
label for thermal label printers (ZPL II text rather than PDF), ``inputs`` what both take in and
``drawing`` the fonts, formatting and drawing pieces they share. The names callers use are
importable from here.
"""

from batches.documents.coa import (
    CoaData,
    DeviationLine,
    QcResultLine,
    QcStatus,
    SignatureLine,
    certificate_of_analysis_pdf,
)
from batches.documents.inputs import CONSTRUCT, PRODUCT_DESCRIPTION, DonorEligibility
from batches.documents.labels import (
    BagLabel,
    LabelContent,
    LabelOverflowError,
    bag_labels_pdf,
    din_data_structure,
    expiry_data_structure,
    label_barcode_values,
    label_content,
    label_warnings,
    product_code_data_structure,
)
from batches.documents.zpl import bag_label_zpl

__all__ = [
    "CONSTRUCT",
    "PRODUCT_DESCRIPTION",
    "BagLabel",
    "LabelContent",
    "CoaData",
    "DeviationLine",
    "DonorEligibility",
    "LabelOverflowError",
    "QcResultLine",
    "QcStatus",
    "SignatureLine",
    "bag_label_zpl",
    "bag_labels_pdf",
    "certificate_of_analysis_pdf",
    "din_data_structure",
    "expiry_data_structure",
    "label_barcode_values",
    "label_content",
    "label_warnings",
    "product_code_data_structure",
]
