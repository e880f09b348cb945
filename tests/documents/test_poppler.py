"""Both release documents open in a second, independent PDF reader (poppler)."""

import shutil
import subprocess

import pytest

from batches.documents.coa import certificate_of_analysis_pdf
from batches.documents.labels import bag_labels_pdf
from tests.documents.examples import bag_label, coa_data


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_documents_render_with_poppler(tmp_path):
    for name, pdf in (
        ("coa", certificate_of_analysis_pdf(coa_data())),
        ("label", bag_labels_pdf([bag_label(donor_eligibility="incomplete")])),
    ):
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", "50", "-png", str(path), str(tmp_path / name)],
            check=True,
            capture_output=True,
        )
        assert list(tmp_path.glob(f"{name}*.png"))
