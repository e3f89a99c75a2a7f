#!/usr/bin/env python3
"""Open the built book in headless Chromium and fail on what a reader would see broken.

    python scripts/check_site.py [--html _build/html] [--screenshots _build/screenshots]

Serves ``_build/html`` on localhost (``http.server`` in a thread), then opens the landing page
(``index.html``, which redirects to the book's root page) and every page listed in ``_toc.yml``
- the notebook chapters and the prose chapters - in Debian's ``chromium``, driven by Playwright
for Python (the wheel bundles its driver; no browser is downloaded). Every request that does not
go to the local server is aborted, so a page that needs the network fails here rather than for a
reader offline. A page fails on

* a console error or an uncaught JavaScript exception;
* a request that failed, was blocked (not localhost) or answered with HTTP status >= 400;
* an image that did not load (``<img>`` with ``naturalWidth`` 0);
* an unrendered formula: MathJax not loaded or not finished on a page with math, a formula
  element without MathJax output, a MathJax error (``mjx-merror``), or raw TeX left in the text
  (``$$``, ``\\(``, ``\\[``, ``\\begin{``, ``$\\command...$``) outside code blocks;
* an image without alt text (none, empty, or only its file name);
* a link to another page of the site that does not resolve (the whole-book PDF is checked only
  once ``make pdf`` has written it);
* on the landing page, at 1280 px and at a 390 px phone width: a text table wider than its column
  (clipped or scrolled sideways), or a page wider than the screen.

Every page is opened in the light and in the dark colour mode. A full-page PNG of each page in
each mode is written to ``_build/screenshots/`` (named after the page, e.g.
``notebooks-02_accuracy.png`` and ``notebooks-02_accuracy-dark.png``), and the landing page at
phone width as ``index-390.png`` and ``index-390-dark.png``. Exit status 0 when every page
passes, 1 when any fails (each problem is printed with its page), 2 when the check itself cannot
run (no build, no browser).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import shutil
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Requests the browser makes on its own, not the page: their failure is not the page's.
IGNORED_PATHS = {"/favicon.ico"}

# Run in the page once it has loaded: force lazy images to load and wait for every image.
LOAD_IMAGES_JS = """
async () => {
  const images = Array.from(document.images);
  for (const img of images) { if (img.loading === 'lazy') img.loading = 'eager'; }
  await Promise.all(images.map(img => img.complete ? null :
    new Promise(done => {
      img.addEventListener('load', done); img.addEventListener('error', done);
    })));
  return images.length;
}
"""

BROKEN_IMAGES_JS = """
() => Array.from(document.images)
  .filter(img => !(img.complete && img.naturalWidth > 0))
  .map(img => img.currentSrc || img.src || img.outerHTML.slice(0, 120))
"""

# Wait for MathJax to finish its first typesetting pass; report what it left undone.
MATH_JS = """
async (timeoutMs) => {
  const formulas = Array.from(document.querySelectorAll('.math, .tex2jax_process'));
  const result = {formulas: formulas.length, loaded: false, finished: false, untypeset: [],
                  errors: [], version: null};
  if (formulas.length === 0) return result;
  // Called after the load event, when MathJax's (deferred) script has run if it could load:
  // a few seconds' grace, not the whole timeout, before calling it missing.
  const loadDeadline = Date.now() + Math.min(timeoutMs, 5000);
  while (!(window.MathJax && window.MathJax.startup && window.MathJax.startup.promise)) {
    if (Date.now() > loadDeadline) return result;
    await new Promise(r => setTimeout(r, 100));
  }
  const deadline = Date.now() + timeoutMs;
  result.loaded = true;
  result.version = window.MathJax.version || null;
  const timeout = new Promise(
    r => setTimeout(() => r('timeout'), Math.max(0, deadline - Date.now())));
  const done = await Promise.race([window.MathJax.startup.promise.then(() => 'done'), timeout]);
  result.finished = done === 'done';
  for (const el of formulas) {
    if (!el.querySelector('mjx-container') && el.textContent.trim()) {
      result.untypeset.push(el.textContent.trim().slice(0, 80));
    }
  }
  for (const err of document.querySelectorAll('mjx-merror')) {
    const message = err.getAttribute('data-mjx-error') || err.textContent;
    result.errors.push(message.trim().slice(0, 120));
  }
  return result;
}
"""

# Raw TeX delimiters left in the reader-visible text (code, pre and MathJax output excluded).
RAW_TEX_JS = r"""
() => {
  const skip = 'PRE, CODE, SCRIPT, STYLE, TEXTAREA, MJX-CONTAINER, MJX-ASSISTIVE-MML, .highlight';
  const root = document.querySelector('main') || document.body;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const patterns = [/\$\$/, /\\\(/, /\\\[/, /\\begin\{/, /\$[^$\n]{0,80}\\[A-Za-z]+[^$\n]{0,80}\$/];
  const hits = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest(skip)) continue;
    const text = node.textContent;
    for (const re of patterns) {
      const m = text.match(re);
      if (m) {
        const at = Math.max(0, m.index - 30);
        hits.push(text.slice(at, m.index + m[0].length + 30).replace(/\s+/g, ' ').trim());
        break;
      }
    }
  }
  return hits.slice(0, 5);
}
"""


# Images without a description: no alt, an empty one, or the file name that Sphinx writes when
# none was given (an alt that ends like an image path).
ALT_JS = r"""
() => Array.from(document.querySelectorAll('main img, article img'))
  .filter(img => {
    const alt = (img.getAttribute('alt') || '').trim();
    return !alt || /\.(png|svg|jpe?g|gif|webp)$/i.test(alt);
  })
  .map(img => img.getAttribute('src') || img.outerHTML.slice(0, 120))
"""

# Links of the page's content to other files of the site (no fragments, no off-site addresses).
LINKS_JS = """
() => Array.from(document.querySelectorAll('a[href]'))
  .map(a => a.href.split('#')[0])
  .filter(href => href.startsWith(location.origin))
"""

# Text tables wider than their own box (clipped or scrolled sideways) or than the screen, and
# whether the page itself scrolls sideways.
OVERFLOW_JS = """
() => {
  const out = {page: document.documentElement.scrollWidth > window.innerWidth + 1, tables: []};
  for (const t of document.querySelectorAll('main table, article table')) {
    const box = t.getBoundingClientRect();
    if (t.scrollWidth > t.clientWidth + 1 || box.right > window.innerWidth + 1) {
      const text = t.innerText.slice(0, 60).replace(/\\s+/g, ' ');
      out.tables.push((t.className || 'table') + ': ' + text);
    }
  }
  return out;
}
"""

PHONE = {"width": 390, "height": 844}


@dataclass
class PageReport:
    path: str  # relative to the html root, e.g. "notebooks/02_accuracy.html"
    problems: list[str] = field(default_factory=list)
    formulas: int = 0
    images: int = 0
    screenshot: Path | None = None
    final_url: str = ""

    def fail(self, message: str) -> None:
        if message not in self.problems:
            self.problems.append(message)


def toc_pages(toc: Path) -> list[str]:
    """Every file of ``_toc.yml`` in reading order (root first), as built-HTML paths."""
    import yaml

    tree = yaml.safe_load(toc.read_text(encoding="utf-8"))
    files: list[str] = [tree["root"]]

    def walk(node) -> None:
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key, []) or []:
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk({k: v for k, v in tree.items() if k in ("parts", "chapters", "sections")})
    seen: dict[str, None] = {}
    for f in files:
        stem = os.path.splitext(f)[0] if f.endswith((".md", ".ipynb")) else f
        seen.setdefault(stem + ".html", None)
    return list(seen)


def is_notebook(page: str, root: Path) -> bool:
    return (root / (page[: -len(".html")] + ".ipynb")).is_file()


def screenshot_name(page: str) -> str:
    return page[: -len(".html")].replace("/", "-") + ".png"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def find_chromium(given: str | None) -> str | None:
    for candidate in (
        given,
        os.environ.get("CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def offline_router(origin: str, blocked: list[str]):
    """A route handler that lets requests to ``origin`` through and aborts (and lists) the rest."""

    def route(route, request) -> None:
        if urlsplit(request.url).netloc == origin:
            route.continue_()
        else:
            blocked.append(request.url)
            route.abort("blockedbyclient")

    return route


def check_page(
    context,
    base: str,
    page: str,
    report: PageReport,
    shots: Path | None,
    timeout_s: float,
    viewport_shot: Path | None = None,
    mode: str = "light",
    links: dict | None = None,
) -> None:
    origin = urlsplit(base).netloc
    tab = context.new_page()
    tab.set_default_timeout(timeout_s * 1000)
    failed_urls: set[str] = set()

    def short(url: str) -> str:
        return url[len(base) :] if url.startswith(base) else url

    def on_console(msg) -> None:
        if msg.type != "error":
            return
        where = msg.location.get("url", "") if msg.location else ""
        if where in failed_urls or urlsplit(where).path in IGNORED_PATHS:
            return  # already reported as a failed request
        text = msg.text.strip().replace("\n", " ")[:300]
        report.fail(f"console error: {text}" + (f" (at {short(where)})" if where else ""))

    def on_request_failed(request) -> None:
        failed_urls.add(request.url)
        if urlsplit(request.url).path in IGNORED_PATHS or urlsplit(request.url).netloc != origin:
            return  # off-site requests are reported as blocked, once
        report.fail(f"request failed: {short(request.url)} ({request.failure})")

    def on_response(response) -> None:
        if response.status >= 400 and urlsplit(response.url).path not in IGNORED_PATHS:
            failed_urls.add(response.url)
            report.fail(f"HTTP {response.status} for {short(response.url)}")

    tab.on("console", on_console)
    tab.on("pageerror", lambda exc: report.fail(f"uncaught JavaScript error: {exc}"))
    tab.on("requestfailed", on_request_failed)
    tab.on("response", on_response)

    try:
        tab.goto(f"{base}/{page}", wait_until="load")
        if page == "index.html":  # the redirect to the root page
            try:
                tab.wait_for_function(
                    "() => !location.pathname.endsWith('/index.html') && location.pathname !== '/'",
                    timeout=10_000,
                )
                tab.wait_for_load_state("load")
            except Exception:
                report.fail(
                    "the landing page index.html does not redirect to the book's first page"
                )
        report.final_url = short(tab.url)
        try:
            tab.wait_for_load_state("networkidle", timeout=15_000)
        except Exception:
            pass  # a page that never goes quiet is still checked
        report.images = tab.evaluate(LOAD_IMAGES_JS)
        for src in tab.evaluate(BROKEN_IMAGES_JS):
            report.fail(f"image did not load: {short(src)}")
        math = tab.evaluate(MATH_JS, int(timeout_s * 1000))
        report.formulas = math["formulas"]
        if math["formulas"]:
            if not math["loaded"]:
                report.fail(f"MathJax did not load; {math['formulas']} formula(s) left as raw TeX")
            elif not math["finished"]:
                report.fail(f"MathJax did not finish typesetting within {timeout_s:.0f} s")
            for text in math["untypeset"][:5]:
                report.fail(f"formula not typeset: {text}")
            if len(math["untypeset"]) > 5:
                report.fail(f"... and {len(math['untypeset']) - 5} more formulas not typeset")
            for text in math["errors"][:5]:
                report.fail(f"MathJax error (mjx-merror): {text}")
        for text in tab.evaluate(RAW_TEX_JS):
            report.fail(f"raw TeX in the page text: ...{text}...")
        for src in tab.evaluate(ALT_JS):
            report.fail(f"image without alt text: {short(src)}")
        if links is not None:
            for href in tab.evaluate(LINKS_JS):
                links.setdefault(href, report.path)
        if page == "index.html":  # the landing page: its tables fit the column, here and on a phone
            wide = tab.viewport_size["width"]
            overflow = tab.evaluate(OVERFLOW_JS)
            for table in overflow["tables"]:
                report.fail(f"{mode}, {wide} px: table wider than its column: {table}")
            if overflow["page"]:
                report.fail(f"{mode}, {wide} px: the page scrolls sideways")
        if viewport_shot is not None:  # the top of the page, as a reader first sees it
            viewport_shot.parent.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(viewport_shot), full_page=False, animations="disabled")
        if shots is not None:
            width = tab.viewport_size["width"]
            suffix = ("" if width == 1280 else f"-{width}") + (
                "" if mode == "light" else f"-{mode}"
            )
            report.screenshot = shots / screenshot_name(page).replace(".png", f"{suffix}.png")
            tab.screenshot(path=str(report.screenshot), full_page=True, animations="disabled")
    except Exception as exc:  # navigation timeout, crashed tab, ...
        report.fail(f"could not be checked: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    finally:
        tab.close()


def broken_link(root: Path, base: str, href: str) -> str | None:
    """Why a link to ``href`` (on the local server at ``base``) does not resolve, or None."""
    path = urlsplit(href).path.lstrip("/")
    target = root / path
    if path.endswith("hmf-book.pdf") and not target.is_file():
        return None  # written by `make pdf`, after the HTML; checked once it exists
    if target.is_dir():
        target = target / "index.html"
    return None if target.is_file() else f"link to a missing page: /{path}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--html",
        type=Path,
        default=REPO / "_build" / "html",
        help="built book to serve (default: _build/html)",
    )
    parser.add_argument(
        "--toc",
        type=Path,
        default=REPO / "_toc.yml",
        help="table of contents listing the pages (default: _toc.yml)",
    )
    parser.add_argument(
        "--screenshots",
        type=Path,
        default=REPO / "_build" / "screenshots",
        help="where to save full-page PNGs (default: _build/screenshots)",
    )
    parser.add_argument("--no-screenshots", action="store_true")
    parser.add_argument(
        "--landing-screenshot",
        type=Path,
        metavar="PNG",
        help="also save the top of the landing page (1280x800) here, e.g. "
        "book/images/landing.png for the README",
    )
    parser.add_argument("--chromium", help="browser binary (default: $CHROMIUM, /usr/bin/chromium)")
    parser.add_argument(
        "--notebooks-only",
        action="store_true",
        help="check only the landing page and the notebook pages",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=90.0,
        help="seconds to wait for a page and for MathJax (default 90)",
    )
    parser.add_argument("pages", nargs="*", help="pages to check (default: index.html + _toc.yml)")
    args = parser.parse_args(argv)

    html = args.html.resolve()
    if not (html / "index.html").is_file():
        print(
            f"check_site: no built book at {html} (index.html missing); run `make book` first",
            file=sys.stderr,
        )
        return 2
    chromium = find_chromium(args.chromium)
    if chromium is None:
        print(
            "check_site: no Chromium found (tried --chromium, $CHROMIUM, /usr/bin/chromium); "
            "install Debian's package: apt-get install -y chromium",
            file=sys.stderr,
        )
        return 2
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print(
            "check_site: Playwright for Python is missing; install it with "
            "`pip install -e '.[site]'` (or `make venv`, which installs requirements.lock)",
            file=sys.stderr,
        )
        return 2

    if args.pages:
        pages = list(dict.fromkeys(args.pages))
    else:
        listed = toc_pages(args.toc)
        if args.notebooks_only:
            listed = listed[:1] + [p for p in listed[1:] if is_notebook(p, REPO)]
        pages = ["index.html", *listed]
    shots = None if args.no_screenshots else args.screenshots
    if shots is not None:
        shutil.rmtree(shots, ignore_errors=True)
        shots.mkdir(parents=True)

    reports = [PageReport(page) for page in pages]
    for report in reports:
        if not (html / report.path).is_file():
            report.fail(f"not built: {html / report.path} does not exist")

    server, base = serve(html)
    origin = urlsplit(base).netloc
    blocked: dict[str, list[str]] = {}
    started = time.perf_counter()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=chromium, headless=True, args=CHROMIUM_ARGS
            )
            print(
                f"check_site: {browser.version} serving {html} at {base}; "
                f"{len(pages)} page(s), network off localhost blocked"
            )
            links: dict[str, str] = {}
            for report in reports:
                if report.problems:
                    continue
                views = [("light", {"width": 1280, "height": 800}, shots)]
                views.append(("dark", {"width": 1280, "height": 800}, shots))
                if report.path == "index.html":  # and on a phone, in both modes
                    views += [(mode, PHONE, shots) for mode in ("light", "dark")]
                for mode, viewport, folder in views:
                    context = browser.new_context(
                        viewport=viewport, color_scheme=mode, service_workers="block"
                    )
                    context.route(
                        "**/*", offline_router(origin, blocked.setdefault(report.path, []))
                    )
                    first = mode == "light" and viewport["width"] == 1280
                    landing = args.landing_screenshot if report.path == "index.html" else None
                    check_page(
                        context,
                        base,
                        report.path,
                        report,
                        folder,
                        args.timeout,
                        landing if first else None,
                        mode=mode,
                        links=links if first else None,
                    )
                    context.close()
                for url in dict.fromkeys(blocked[report.path]):
                    report.fail(
                        f"needs the network: request to {url} (blocked; pages must work offline)"
                    )
            for href, where in links.items():
                problem = broken_link(html, base, href)
                if problem:
                    next(r for r in reports if r.path == where).fail(problem)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()

    elapsed = time.perf_counter() - started
    failed = [r for r in reports if r.problems]
    for r in reports:
        status = "FAIL" if r.problems else "ok  "
        detail = f"{r.formulas} formula(s), {r.images} image(s)"
        if r.final_url and r.final_url.lstrip("/") != r.path:
            detail += f", redirected to {r.final_url}"
        if r.screenshot:
            detail += f" -> {os.path.relpath(r.screenshot, Path.cwd())}"
        print(f"{status} {r.path}: {detail}")
        for problem in r.problems:
            print(f"     {r.path}: {problem}")
    print(
        f"check_site: {len(reports) - len(failed)}/{len(reports)} page(s) passed in {elapsed:.0f} s"
    )
    if failed:
        print("check_site: FAILED: " + ", ".join(r.path for r in failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
