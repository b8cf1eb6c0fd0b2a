#!/usr/bin/env bash
# Timing of one bivariate plot of 10 M events (`marrowgate plot`, whole
# process: read, compensate, transform, bin, draw, encode PNG) beside a full
# read of the same file (`inspect --stats`), in one run.
#
# usage: benches/plot.sh [WORKDIR]   (default /tmp/marrowgate-plot-bench)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-/tmp/marrowgate-plot-bench}"
events="${EVENTS:-10000000}"
mkdir -p "$work"
cargo build --release --manifest-path "$here/Cargo.toml" -q
mg="$here/target/release/marrowgate"
f="$work/p$events.fcs"
[ -f "$f" ] || "$mg" simulate "$f" --events "$events" --seed 7 --blasts 0.05 >/dev/null
rm -f "$f.truth.csv"
. "$here/benches/lib.sh"
read_s=$(median "$mg" inspect --stats "$f")
png_s=$(median "$mg" plot "$f" --x CD19 --y CD10 --out "$work/p.png")
svg_s=$(median "$mg" plot "$f" --x CD19 --y CD10 --out "$work/p.svg")
echo "$events events, $(nproc) cores"
printf '| inspect --stats | plot PNG | plot SVG | PNG / inspect |\n| --- | --- | --- | --- |\n'
awk -v r="$read_s" -v p="$png_s" -v s="$svg_s" 'BEGIN{printf "| %.3f s | %.3f s | %.3f s | %.1fx |\n", r, p, s, p / r}'
