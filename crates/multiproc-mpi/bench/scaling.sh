#!/usr/bin/env bash
# How rank 0's dispatch scales with the number of ranks: the MPI pool's figures with 2, 4 and 8
# ranks (oversubscribed on a small machine), on loopback, with --mca mpi_yield_when_idle 1.
#
#   crates/multiproc-mpi/bench/scaling.sh        # from the workspace root
#
# Settings (environment): RANKS_LIST ("2 4 8"), REPS (3), TASKS (100000), TASKS_C1 (20000),
# TRIPS (300), WINDOW (8). Prints a Markdown table of medians [min-max].
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
RANKS_LIST=${RANKS_LIST:-"2 4 8"} REPS=${REPS:-3} TASKS=${TASKS:-100000}
TASKS_C1=${TASKS_C1:-20000} TRIPS=${TRIPS:-300} WINDOW=${WINDOW:-8}
(cd "$root" && cargo build --release -q -p multiproc-mpi --features mpi --example mpi_bench)
bench="$root/target/release/examples/mpi_bench"
echo "$(nproc) CPUs, loopback TCP, mpi_yield_when_idle 1; map: $TASKS tasks at auto chunksize,"
echo "$TASKS_C1 at chunksize 1 (median [min-max] of $REPS); round trip: median [min-max] of $TRIPS; window $WINDOW."
echo
echo "| ranks (serving) | mode | map auto, tasks/s | map chunksize 1, tasks/s | submit round trip, µs |"
echo "|---|---|---|---|---|"
for ranks in $RANKS_LIST; do
    for mode in isolated in-rank; do
        mpirun --allow-run-as-root --oversubscribe -n "$ranks" --mca btl self,tcp \
            --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo \
            --mca mpi_yield_when_idle 1 \
            "$bench" pool "$mode" "$REPS" "$TASKS" "$TASKS_C1" "$TRIPS" "$WINDOW" </dev/null |
            awk -F'\t' -v r="$ranks" -v m="$mode" '
                $1 == "RESULT" { v[$2] = sprintf("%.0f [%.0f-%.0f]", $3, $4, $5) }
                END { printf "| %d (%d) | %s | %s | %s | %s |\n", r, r - 1, m, v["map auto"], v["map chunksize 1"], v["submit round trip"] }'
    done
done
