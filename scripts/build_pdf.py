#!/usr/bin/env python3
"""Print the built book to one PDF: every page of ``_toc.yml`` in reading order, offline.

    python scripts/build_pdf.py [--html _build/html] [--out _build/pdf/hmf-book.pdf]

Serves ``_build/html`` on localhost (as ``scripts/check_site.py`` does, every other request
blocked), opens each page in Debian's ``chromium`` through Playwright, opens the folded sections
(dropdowns; code stays folded), waits for MathJax, and prints it with ``page.pdf`` (A4, print
stylesheet). The pages are merged with pypdf behind a title page with the table of contents
(each chapter's first page), and the PDF gets one bookmark per chapter. The result is also copied
to ``_build/html/hmf-book.pdf``, where the book's pages link to it. Exit status 0 on success, 1
when a page could not be printed, 2 when the tools are missing.
"""

from __future__ import annotations

import argparse
import html
import io
import shutil
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import check_site  # noqa: E402 - the sibling script: server, page list, browser lookup

REPO = check_site.REPO
PDF_NAME = "hmf-book.pdf"

PREPARE_JS = """
async (timeoutMs) => {
  for (const d of document.querySelectorAll('details.sd-dropdown, details.dropdown')) d.open = true;
  if (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) {
    await Promise.race([window.MathJax.startup.promise,
                        new Promise(r => setTimeout(r, timeoutMs))]);
  }
  const images = Array.from(document.images);
  for (const img of images) { if (img.loading === 'lazy') img.loading = 'eager'; }
  await Promise.all(images.map(img => img.complete ? null : new Promise(done => {
    img.addEventListener('load', done); img.addEventListener('error', done); })));
  const h1 = document.querySelector('main h1, article h1, h1');
  return h1 ? h1.textContent.replace(/[#¶]\\s*$/, '').trim() : document.title;
}
"""

PRINT_OPTIONS = dict(
    format="A4",
    print_background=True,
    margin={"top": "16mm", "bottom": "16mm", "left": "14mm", "right": "14mm"},
)


def title_page(book: str, chapters: list[tuple[str, int]]) -> str:
    """The cover and table of contents: each chapter and the PDF page it starts on."""
    rows = "".join(
        f"<tr><td>{html.escape(title)}</td><td class='n'>{page}</td></tr>"
        for title, page in chapters
    )
    return f"""<!doctype html><html><head><meta charset="utf-8"><style>
body {{ font-family: 'DejaVu Sans', sans-serif; margin: 0; }}
h1 {{ font-size: 24pt; margin: 30mm 0 4mm; }}
p {{ color: #444; }}
table {{ width: 100%; border-collapse: collapse; margin-top: 12mm; font-size: 11pt; }}
td {{ padding: 2mm 0; border-bottom: 1px solid #ccc; }}
td.n {{ text-align: right; width: 20mm; }}
</style></head><body><h1>{html.escape(book)}</h1>
<p>The whole book, printed from its HTML pages. Contents (PDF page numbers):</p>
<table>{rows}</table></body></html>"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html", type=Path, default=REPO / "_build" / "html")
    parser.add_argument("--toc", type=Path, default=REPO / "_toc.yml")
    parser.add_argument("--out", type=Path, default=REPO / "_build" / "pdf" / PDF_NAME)
    parser.add_argument("--chromium", help="browser binary (default: $CHROMIUM, /usr/bin/chromium)")
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds per page")
    args = parser.parse_args(argv)

    root = args.html.resolve()
    if not (root / "index.html").is_file():
        print(f"build_pdf: no built book at {root}; run `make book` first", file=sys.stderr)
        return 2
    chromium = check_site.find_chromium(args.chromium)
    try:
        from playwright.sync_api import sync_playwright
        from pypdf import PdfReader, PdfWriter
    except ImportError as error:
        print(f"build_pdf: {error}; install the lock (`make venv`)", file=sys.stderr)
        return 2
    if chromium is None:
        print("build_pdf: no Chromium found; apt-get install -y chromium", file=sys.stderr)
        return 2

    pages = check_site.toc_pages(args.toc)
    missing = [p for p in pages if not (root / p).is_file()]
    if missing:
        print(f"build_pdf: not built: {', '.join(missing)}", file=sys.stderr)
        return 1
    server, base = check_site.serve(root)
    origin, blocked = urlsplit(base).netloc, []
    started, printed = time.perf_counter(), []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=chromium, headless=True, args=check_site.CHROMIUM_ARGS
            )
            context = browser.new_context(viewport={"width": 1100, "height": 1400})
            context.route("**/*", check_site.offline_router(origin, blocked))
            tab = context.new_page()
            tab.set_default_timeout(args.timeout * 1000)
            tab.emulate_media(media="print", color_scheme="light")
            for page in pages:
                tab.goto(f"{base}/{page}", wait_until="load")
                try:
                    tab.wait_for_load_state("networkidle", timeout=15_000)
                except Exception:
                    pass
                title = tab.evaluate(PREPARE_JS, int(args.timeout * 1000))
                printed.append((title, tab.pdf(**PRINT_OPTIONS)))
            book = tab.title().split(" — ")[-1].split(" | ")[-1] or "The book"
            chapters, first = [], 2  # page 1 is the title page
            for title, data in printed:
                chapters.append((title, first))
                first += len(PdfReader(io.BytesIO(data)).pages)
            tab.set_content(title_page(book, chapters), wait_until="load")
            cover = tab.pdf(**PRINT_OPTIONS)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(cover)))
    for (title, data), (_, start) in zip(printed, chapters):
        writer.append(PdfReader(io.BytesIO(data)))
        writer.add_outline_item(title=title, page_number=start - 1)
    writer.add_metadata({"/Title": book, "/Creator": "scripts/build_pdf.py (Chromium, pypdf)"})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "wb") as handle:
        writer.write(handle)
    shutil.copyfile(args.out, root / PDF_NAME)
    size = args.out.stat().st_size / 2**20
    print(
        f"build_pdf: {len(pages)} pages of the book, {len(writer.pages)} PDF pages, "
        f"{size:.1f} MiB -> {args.out} (and {root / PDF_NAME}) in "
        f"{time.perf_counter() - started:.0f} s"
    )
    if blocked:
        print(f"build_pdf: blocked off-site requests: {sorted(set(blocked))[:5]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
