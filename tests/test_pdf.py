"""The whole-book PDF (`make pdf`, scripts/build_pdf.py): every chapter, in order, with the
landing page's claims table. Skipped when no PDF has been built, except in CI (HMF_REQUIRE_BOOK=1,
set right after `make pdf`), where not checking is a failure."""

from __future__ import annotations

import importlib.util
import os
import re
import sys

import pytest
from conftest import REPO

from hmf.report import claims

PDF = REPO / "_build" / "pdf" / "hmf-book.pdf"


def _check_site():
    spec = importlib.util.spec_from_file_location("check_site", REPO / "scripts" / "check_site.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("check_site", module)  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def book():
    if not PDF.is_file():
        if os.environ.get("HMF_REQUIRE_BOOK") == "1":
            pytest.fail(f"{PDF} has not been built (make pdf)")
        pytest.skip("the PDF has not been built (make pdf)")
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(PDF)
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() or "" for page in reader.pages))
    return reader, text


def test_every_chapter_is_a_bookmark_in_reading_order(book):
    reader, _ = book
    pages = _check_site().toc_pages(REPO / "_toc.yml")
    outline = [item for item in reader.outline if not isinstance(item, list)]
    assert len(outline) == len(pages), "one bookmark per page of _toc.yml"
    starts = [reader.get_destination_page_number(item) for item in outline]
    assert starts == sorted(starts) and starts[0] == 1, "chapters in order, after the title page"
    assert len(reader.pages) > len(pages), "a title page, then at least a page per chapter"


def test_every_chapter_title_is_in_the_text(book):
    reader, text = book
    for item in reader.outline:
        if not isinstance(item, list):
            assert item.title.split(":")[0] in text, f"chapter {item.title!r} missing"


def test_the_claims_table_is_in_the_text(book):
    _, text = book
    assert "Verdict" in text
    for claim in claims.CLAIMS:
        start = " ".join(claim.text.split()[:4])  # the table wraps the rest of the line
        assert start in text, f"claim {claim.text!r} not in the PDF"
