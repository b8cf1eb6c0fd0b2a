# Shared by the benchmark scripts (sourced).

# Median wall time of a command over 5 runs after a warm-up.
median() {
  "$@" >/dev/null 2>&1
  for _ in 1 2 3 4 5; do
    s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
    awk "BEGIN{print $e - $s}"
  done | sort -g | sed -n 3p
}
