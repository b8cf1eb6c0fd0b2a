#!/usr/bin/env bash
# Peak memory (maximum resident set, /usr/bin/time -v) and wall time of
# `marrowgate analyze --out` on 1 x 10 M, 4 x 10 M and 1,000 x 20 k events,
# and the size of report.html. Needs GNU time (apt-get install time) and
# about 2.5 GB of disk for the inputs.
#
# usage: benches/memory.sh [WORKDIR] [MARROWGATE]   (default /tmp/marrowgate-memory-bench,
#        this checkout's release build; pass another binary to compare)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-/tmp/marrowgate-memory-bench}"
cargo build --release --manifest-path "$here/Cargo.toml" -q
mg="${2:-$here/target/release/marrowgate}"
gen="$here/target/release/marrowgate"
mkdir -p "$work/big" "$work/small"
for i in 1 2 3 4; do
  [ -f "$work/big/m$i.fcs" ] || "$gen" simulate "$work/big/m$i.fcs" --events 10000000 --seed "$i" --blasts 0.02 >/dev/null
  rm -f "$work/big/m$i.fcs.truth.csv"
done
if [ "$(ls "$work/small" | wc -l)" -lt 1000 ]; then
  for i in $(seq 1 1000); do
    "$gen" simulate "$work/small/s$(printf %04d "$i").fcs" --events 20000 --seed "$i" --blasts 0.01 >/dev/null
  done
  rm -f "$work/small"/*.truth.csv
fi
measure() {
  local label=$1; shift
  rm -rf "$work/out"
  /usr/bin/time -v "$mg" analyze "$@" --out "$work/out" 2>"$work/time.txt" >/dev/null || true
  local rss wall html
  rss=$(awk -F: '/Maximum resident/ {printf "%.2f GB", $2 / 1048576}' "$work/time.txt")
  wall=$(awk '/Elapsed \(wall clock\)/ {print $NF}' "$work/time.txt")
  html=$(du -h "$work/out/report.html" 2>/dev/null | cut -f1)
  printf '| %s | %s | %s | %s |\n' "$label" "$rss" "$wall" "$html"
}
echo "$("$mg" --version), $(nproc) cores"
printf '| case | peak memory | wall time | report.html |\n| --- | --- | --- | --- |\n'
measure "1 x 10 M events" --site "a=$work/big/m1.fcs"
measure "4 x 10 M events" --site "a=$work/big/m1.fcs" --site "b=$work/big/m2.fcs" --site "c=$work/big/m3.fcs" --site "d=$work/big/m4.fcs"
measure "1,000 x 20 k events" "$work/small"
