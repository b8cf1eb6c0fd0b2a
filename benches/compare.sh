#!/usr/bin/env bash
# Side-by-side timing of marrowgate and the Python readers on the same files,
# in one run. Speed claims are the ratios printed here, never absolute times.
#
# usage: benches/compare.sh [WORKDIR]   (default /tmp/marrowgate-bench)
# needs: ../shared/bench (make_marrow_fcs.py, py_anchor.py) and a Python venv
# with flowkit, fcsparser (see ../shared/bench/README.md); VENV=path/to/venv.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-/tmp/marrowgate-bench}"
venv="${VENV:-$work/venv}"
shared="$here/../shared/bench"
mkdir -p "$work"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q flowkit six pandas
  "$venv/bin/pip" install -q --no-deps fcsparser
fi
cargo build --release --manifest-path "$here/Cargo.toml" -q
mg="$here/target/release/marrowgate"
for n in 1 10; do
  [ -f "$work/m$n.fcs" ] || "$venv/bin/python" "$shared/make_marrow_fcs.py" "$work/m$n.fcs" "${n}000000"
done

. "$here/benches/lib.sh"

for n in 1 10; do
  f="$work/m$n.fcs"
  bytes=$(stat -c %s "$f")
  cat_s=$(median sh -c "cat '$f' > /dev/null")
  mg_s=$(median "$mg" inspect --stats "$f")
  mg_apply_s=$(median "$mg" apply "$f" --gating-ml "$shared/bench_gates.xml")
  mg_gated=$("$mg" apply "$f" --gating-ml "$shared/bench_gates.xml" --json | grep -A2 '"cd19_cd10"' | grep '"events"' | tr -dc 0-9)
  py=$("$venv/bin/python" "$shared/py_anchor.py" "$f" 3)
  fcsparser_s=$(echo "$py" | grep read_fcsparser | sed 's/.*"seconds": \([0-9.]*\).*/\1/')
  flowio_s=$(echo "$py" | grep read_flowio | sed 's/.*"seconds": \([0-9.]*\).*/\1/')
  printf '%s M events (%s bytes)\n' "$n" "$bytes"
  printf '  cat > /dev/null           %8.3f s  %8.0f MB/s\n' "$cat_s" "$(awk "BEGIN{print $bytes/$cat_s/1e6}")"
  printf '  marrowgate inspect --stats %7.3f s  %8.0f MB/s (whole process)\n' "$mg_s" "$(awk "BEGIN{print $bytes/$mg_s/1e6}")"
  printf '  fcsparser read (in process) %6.3f s  %8.0f MB/s\n' "$fcsparser_s" "$(awk "BEGIN{print $bytes/$fcsparser_s/1e6}")"
  printf '  flowio read (in process)   %7.3f s  %8.0f MB/s\n' "$flowio_s" "$(awk "BEGIN{print $bytes/$flowio_s/1e6}")"
  flowkit_s=$(echo "$py" | grep pipeline_flowkit | sed 's/.*"seconds": \([0-9.]*\).*/\1/')
  numpy_s=$(echo "$py" | grep pipeline_numpy | sed 's/.*"seconds": \([0-9.]*\).*/\1/')
  flowkit_gated=$(echo "$py" | grep pipeline_flowkit | sed 's/.*"gated_events": \([0-9]*\).*/\1/')
  printf '  marrowgate apply bench_gates.xml %6.3f s (whole process), cd19_cd10 = %s events\n' "$mg_apply_s" "$mg_gated"
  printf '  FlowKit pipeline (in process) %7.3f s, cd19_cd10 = %s events\n' "$flowkit_s" "$flowkit_gated"
  printf '  numpy pipeline (in process)   %7.3f s\n' "$numpy_s"
  printf '  ratios: FlowKit / marrowgate apply = %.1fx, numpy / marrowgate apply = %.1fx\n' \
    "$(awk "BEGIN{print $flowkit_s/$mg_apply_s}")" "$(awk "BEGIN{print $numpy_s/$mg_apply_s}")"
  printf '  ratios: fcsparser / marrowgate = %.2fx, flowio / marrowgate = %.2fx, marrowgate / cat = %.2fx\n' \
    "$(awk "BEGIN{print $fcsparser_s/$mg_s}")" "$(awk "BEGIN{print $flowio_s/$mg_s}")" "$(awk "BEGIN{print $mg_s/$cat_s}")"
done
