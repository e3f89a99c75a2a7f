#!/usr/bin/env bash
# Install MathJax 3 into book/_static/mathjax so the book renders math without a CDN.
#
# The tarball comes from the npm registry (`npm pack`, no node_modules), is checked against a
# pinned SHA-512, and only the files the book loads are kept. Third-party code is installed at
# build time, never committed (book/_static/mathjax/ is in .gitignore).
set -euo pipefail

VERSION=3.2.2
# `integrity` of mathjax@3.2.2 as published on registry.npmjs.org.
INTEGRITY="sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw=="
DEST=book/_static/mathjax

cd "$(dirname "$0")/.."
command -v npm >/dev/null || {
  echo "install_mathjax: npm not found; install Node.js (>= 18) so MathJax can be installed" >&2
  exit 1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "mathjax@$VERSION" >/dev/null)
tarball="$work/mathjax-$VERSION.tgz"
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 | tr -d '\n')"
if [[ "$actual" != "$INTEGRITY" ]]; then
  echo "install_mathjax: checksum mismatch for mathjax-$VERSION.tgz" >&2
  echo "  expected $INTEGRITY" >&2
  echo "  actual   $actual" >&2
  exit 1
fi

tar -xzf "$tarball" -C "$work"
rm -rf "$DEST"
mkdir -p "$DEST"
# The combined tex-mml-chtml component (Sphinx's default) plus what it loads on demand:
# TeX extensions, CHTML fonts, the menu and accessibility code. Other bundles are skipped.
cp "$work/package/es5/tex-mml-chtml.js" "$DEST/"
cp -r "$work/package/es5/"{input,output,ui,a11y,sre,adaptors} "$DEST/"
cp "$work/package/LICENSE" "$DEST/"
echo "MathJax $VERSION installed in $DEST"
