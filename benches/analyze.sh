#!/usr/bin/env bash
# End-to-end timing of the main job: `marrowgate analyze` on 4 sites x 1 M
# events, beside a plain read of the same files (`inspect --stats`) and
# `cat`, in one run. Speed claims are the ratios printed here.
#
# usage: benches/analyze.sh [WORKDIR]   (default /tmp/marrowgate-analyze-bench)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-/tmp/marrowgate-analyze-bench}"
events="${EVENTS:-1000000}"
cargo build --release --manifest-path "$here/Cargo.toml" -q
mg="$here/target/release/marrowgate"
case="$work/case"
mkdir -p "$case"
i=0
for spec in "left-iliac --necrosis 0.9 --blasts 0.01" "right-iliac --blasts 0.35" \
            "sternum --blasts 0.06 --hematogones 0.08 --hemodilution 0.2" "tibia --blasts 0.0005 --hematogones 0.2"; do
  set -- $spec
  name=$1; shift
  i=$((i + 1))
  [ -f "$case/$name.fcs" ] || "$mg" simulate "$case/$name.fcs" --events "$events" --seed "$((900 + i))" "$@" >/dev/null
  rm -f "$case/$name.fcs.truth.csv"
done

. "$here/benches/lib.sh"

files=("$case"/*.fcs)
cat_s=$(median sh -c "cat ${files[*]} > /dev/null")
read_s=$(median "$mg" inspect --stats "${files[@]}")
one_s=$(median "$mg" analyze --site "one=${files[0]}")
all_s=$(median "$mg" analyze "$case")
out_s=$(median "$mg" analyze "$case" --out "$work/out")
echo "sites: ${#files[@]} x $events events, $(nproc) cores"
printf '| cat | inspect --stats | analyze 1 site | analyze 4 sites | analyze 4 sites --out | analyze / inspect | analyze / cat |\n'
printf '| --- | --- | --- | --- | --- | --- | --- |\n'
awk -v c="$cat_s" -v r="$read_s" -v o="$one_s" -v a="$all_s" -v w="$out_s" 'BEGIN{
  printf "| %.3f s | %.3f s | %.3f s | %.3f s | %.3f s | %.1fx | %.1fx |\n", c, r, o, a, w, a / r, a / c }'
"$mg" analyze "$case" | tail -n 3
