#!/usr/bin/env bash
# Regenerates the figures shown in the README from sample_data:
# the analysis figures, and a headless-browser screenshot of report.html.
# needs: chromium (apt-get install chromium) for the screenshot only.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mktemp -d)"
cargo run --release --manifest-path "$here/Cargo.toml" -q -- analyze "$here/sample_data/case-bmn" --out "$out" >/dev/null
cp "$out/plots/comparison.png" "$out/plots/cd19_cd10_sites.png" "$here/docs/"
cp "$out/plots/02-right-iliac.gating.png" "$here/docs/right-iliac.gating.png"
chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars \
  --screenshot="$here/docs/report-screenshot.png" --window-size=1600,2600 "file://$out/report.html" 2>/dev/null
rm -rf "$out"
