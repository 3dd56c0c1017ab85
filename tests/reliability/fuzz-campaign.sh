#!/usr/bin/env bash
# fuzz-campaign.sh — the long fuzz run behind tests/RELIABILITY.md: each libFuzzer target for SECONDS (default
# 2700), one after another, niced, from its committed seeds into build/fuzz/corpus-<target>. Writes each target's
# libFuzzer log to build/reliability/fuzz-<target>.log and one line per target (seconds, executions, corpus, crash
# or clean) to build/reliability/fuzz-campaign.tsv. A crash stops only its target: the input is in build/fuzz/.
#   tests/reliability/fuzz-campaign.sh [SECONDS] [TARGET...]
set -u
cd "$(dirname "$0")/../.."
seconds=${1:-2700}
shift || true
targets=${*:-gguf tokenizer pipeline decode windows}
make -s fuzz >/dev/null || exit 1
mkdir -p build/reliability
for t in $targets; do
  case $t in gguf|pipeline) len=32768 ;; windows) len=1504 ;; *) len=4096 ;; esac
  mkdir -p "build/fuzz/corpus-$t"
  start=$(date +%s)
  nice -n 19 "build/fuzz/fuzz_$t" -max_total_time="$seconds" -max_len=$len -print_final_stats=1 -artifact_prefix=build/fuzz/ \
    "build/fuzz/corpus-$t" "tests/fixtures/fuzz-corpus/$t" > "build/reliability/fuzz-$t.log" 2>&1
  rc=$?
  end=$(date +%s)
  runs=$(awk '/stat::number_of_executed_units/ {print $2}' "build/reliability/fuzz-$t.log")
  corpus=$(ls "build/fuzz/corpus-$t" | wc -l)
  outcome=$([ $rc -eq 0 ] && echo clean || echo "crash (exit $rc): $(grep -m1 -E 'ERROR|SUMMARY|REQUIRE' "build/reliability/fuzz-$t.log")")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$(date -u -d @"$start" +%FT%TZ)" "$((end - start))" "$runs" "$corpus" "$outcome" \
    >> build/reliability/fuzz-campaign.tsv
done
