#!/usr/bin/env bash
# multiproc-mpi beside mpi4py.futures and a raw MPI ping-pong, in one run, on loopback.
#
#   crates/multiproc-mpi/bench/run.sh            # from the workspace root
#
# Settings (environment): RANKS (4), REPS (5), TASKS (100000, the map at auto chunksize),
# TASKS_C1 (100000, the map at chunksize 1), TRIPS (1000 submit round trips), PINGS (10000),
# WINDOW (8), YIELDS ("0 1": each figure is measured with --mca mpi_yield_when_idle 0 and 1).
# Needs OpenMPI (mpirun) and mpi4py built against it (pip install mpi4py).
# Prints a Markdown table: medians over REPS maps (over TRIPS/PINGS for the latencies), with
# [min-max], and the ratios the crate's targets are stated in.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
RANKS=${RANKS:-4} REPS=${REPS:-5} TASKS=${TASKS:-100000} TASKS_C1=${TASKS_C1:-100000}
TRIPS=${TRIPS:-1000} PINGS=${PINGS:-10000} WINDOW=${WINDOW:-8} YIELDS=${YIELDS:-"0 1"}
servers=$((RANKS - 1))
# multiproc-mpi's automatic chunk size for TASKS items: about four chunks per rank's window.
auto=$(( (TASKS + 4 * servers * WINDOW - 1) / (4 * servers * WINDOW) ))

if [ -n "${BENCH:-}" ]; then
    bench=$BENCH
else
    (cd "$root" && cargo build --release -q -p multiproc-mpi --features mpi --example mpi_bench)
    bench="$root/target/release/examples/mpi_bench"
fi
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT

run() { # yield source command...
    local yield=$1 source=$2
    shift 2
    mpirun --allow-run-as-root --oversubscribe -n "$RANKS" --mca btl self,tcp \
        --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo \
        --mca mpi_yield_when_idle "$yield" "$@" </dev/null |
        awk -v y="$yield" -v s="$source" -F'\t' '$1 == "RESULT" { print y "\t" s "\t" $2 "\t" $3 "\t" $4 "\t" $5 "\t" $6 }' >>"$raw"
}

for yield in $YIELDS; do
    run "$yield" floor "$bench" pingpong "$PINGS"
    run "$yield" isolated "$bench" pool isolated "$REPS" "$TASKS" "$TASKS_C1" "$TRIPS" "$WINDOW"
    run "$yield" in-rank "$bench" pool in-rank "$REPS" "$TASKS" "$TASKS_C1" "$TRIPS" "$WINDOW"
    (cd "$here" && run "$yield" mpi4py python3 -m mpi4py.futures mpi4py_bench.py \
        "$REPS" "$TASKS" "$TASKS_C1" "$TRIPS" "$auto")
done

echo "$RANKS ranks on loopback TCP, $(nproc) CPUs; map: $TASKS tasks at auto chunksize (mpi4py: $auto),"
echo "$TASKS_C1 at chunksize 1, median [min-max] of $REPS; round trips: median [min-max] of $TRIPS; ping-pong of $PINGS."
echo "multiproc-mpi window $WINDOW; OpenMPI $(mpirun --version | awk 'NR==1 {print $NF}'), mpi4py $(python3 -c 'import mpi4py; print(mpi4py.__version__)')."
echo
awk -F'\t' -v order="$YIELDS" '
function show(v, unit) {
    if (unit == "tasks/s") {
        if (v >= 1e6) return sprintf("%.2f M", v / 1e6)
        if (v >= 1e3) return sprintf("%.1f k", v / 1e3)
        return sprintf("%.0f", v)
    }
    if (v >= 1000) return sprintf("%.2f ms", v / 1000)
    return sprintf("%.1f µs", v)
}
function cell(y, s, f) {
    k = y SUBSEP s SUBSEP f
    if (!(k in med)) return "-"
    return show(med[k], unit[k]) " [" show(lo[k], unit[k]) "-" show(hi[k], unit[k]) "]"
}
function ratio(y, a, b, f, c,   ka, kb) {
    ka = y SUBSEP a SUBSEP f; kb = y SUBSEP b SUBSEP c
    if (!(ka in med) || !(kb in med) || med[kb] == 0) return "-"
    return sprintf("%.2f×", med[ka] / med[kb])
}
{
    k = $1 SUBSEP $2 SUBSEP $3
    med[k] = $4; lo[k] = $5; hi[k] = $6; unit[k] = $7
}
END {
    print "| yield | figure | multiproc-mpi isolated | multiproc-mpi in-rank | mpi4py.futures | isolated / mpi4py | in-rank / mpi4py |"
    print "|---|---|---|---|---|---|---|"
    n = split("map auto|map chunksize 1|submit round trip", figures, "|")
    m = split(order, ys, " ")
    for (j = 1; j <= m; j++) {
        y = ys[j]
        for (i = 1; i <= n; i++) {
            f = figures[i]
            print "| " y " | " f " | " cell(y, "isolated", f) " | " cell(y, "in-rank", f) " | " cell(y, "mpi4py", f) " | " ratio(y, "isolated", "mpi4py", f, f) " | " ratio(y, "in-rank", "mpi4py", f, f) " |"
        }
        print "| " y " | 8-byte MPI ping-pong (floor) | " cell(y, "floor", "ping-pong 8 B") " | | | | |"
        print "| " y " | round trip / ping-pong | " ratio(y, "isolated", "floor", "submit round trip", "ping-pong 8 B") " | " ratio(y, "in-rank", "floor", "submit round trip", "ping-pong 8 B") " | " ratio(y, "mpi4py", "floor", "submit round trip", "ping-pong 8 B") " | | |"
    }
}' "$raw"
