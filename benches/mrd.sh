#!/usr/bin/env bash
# MRD tubes of 10 million events (issue 13): wall time and peak memory of
# `analyze` on one 10 M-event tube and on four, whole process, beside a
# plain read of the same files (`inspect --stats`), in one run. With
# OLD=path/to/an/older/marrowgate, the older binary is timed in the same run.
# Each figure is the median of 3 runs (wall seconds, peak RSS MB).
#
# usage: benches/mrd.sh [WORKDIR]   (default /tmp/marrowgate-mrd-bench)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-/tmp/marrowgate-mrd-bench}"
events="${EVENTS:-10000000}"
cargo build --release --manifest-path "$here/Cargo.toml" -q
mg="$here/target/release/marrowgate"
mkdir -p "$work/case"
for i in 1 2 3 4; do
  f="$work/case/tube$i.fcs"
  # 0.001 % blasts (about 90 among the viable cells): the sensitivity kept.
  [ -f "$f" ] || "$mg" simulate "$f" --events "$events" --seed "$((700 + i))" --blasts 0.00001 --hematogones 0.05 >/dev/null
  rm -f "$f.truth.csv"
done

# Median of 3 runs of "wall_seconds peak_rss_mb".
measure() {
  for _ in 1 2 3; do
    /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -n 1
  done | sort -g | sed -n 2p | awk '{printf "%.2f s, %.0f MB", $1, $2 / 1024}'
}

one="$work/case/tube1.fcs"
echo "$events events per tube, $(nproc) cores"
printf '| binary | inspect --stats 1 tube | analyze 1 tube | analyze 4 tubes |\n| --- | --- | --- | --- |\n'
for bin in "$mg" ${OLD:+"$OLD"}; do
  printf '| %s | %s | %s | %s |\n' "$bin" \
    "$(measure "$bin" inspect --stats "$one")" \
    "$(measure "$bin" analyze --site "tube=$one")" \
    "$(measure "$bin" analyze "$work/case")"
done
"$mg" analyze --site "tube=$one" | sed -n 2p
