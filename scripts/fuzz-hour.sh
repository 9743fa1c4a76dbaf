#!/usr/bin/env bash
# Runs cargo-fuzz targets one after another for a fixed time each (default an hour), at the
# lowest CPU priority, and keeps each run's log with libFuzzer's final statistics.
#   scripts/fuzz-hour.sh [SECONDS] CRATE:TARGET...     e.g. scripts/fuzz-hour.sh 3600 htlc:packet_decode
# Logs go to $FUZZ_LOGS (default target/fuzz-logs/CRATE-TARGET.log); the summary line of each
# (executions, exec/s, coverage, corpus, findings) is printed when its run ends.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-3600}"
shift || true
logs="${FUZZ_LOGS:-$PWD/target/fuzz-logs}"
target_dir="${FUZZ_TARGET_DIR:-$PWD/target/fuzz}"
mkdir -p "$logs"
for spec in "$@"; do
  crate="${spec%%:*}"
  target="${spec#*:}"
  log="$logs/$crate-$target.log"
  echo "$(date -u +%FT%TZ) fuzzing $crate:$target for $seconds s (log $log)"
  status=0
  (cd "$crate" && RUSTC_BOOTSTRAP=1 nice -n 19 cargo fuzz run -s none --target-dir "$target_dir" "$target" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1) > "$log" 2>&1 || status=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9]*' "$log" | tail -1 || echo "?")
  echo "$(date -u +%FT%TZ) $crate:$target exit $status executions $execs exec/s $rate last $cov"
done
