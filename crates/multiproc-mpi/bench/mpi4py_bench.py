"""mpi4py.futures beside multiproc-mpi: the same figures as examples/mpi_bench.rs.

    mpirun -n 4 python3 -m mpi4py.futures mpi4py_bench.py REPS TASKS TASKS_C1 TRIPS AUTO_CHUNK

Rank 0 prints RESULT<TAB>name<TAB>median<TAB>min<TAB>max<TAB>unit lines. mpi4py's map has no
automatic chunk size (its default is 1), so the "auto" row uses AUTO_CHUNK, the chunk size
that multiproc-mpi's automatic rule picks for the same input.
"""
import sys
import time

from mpi4py.futures import MPIPoolExecutor


def identity(x):
    return x


def report(name, samples, unit):
    samples = sorted(samples)
    median = samples[len(samples) // 2]
    print(f"RESULT\t{name}\t{median:.3f}\t{samples[0]:.3f}\t{samples[-1]:.3f}\t{unit}", flush=True)


def main():
    reps, tasks, tasks_c1, trips, auto_chunk = (int(a) for a in sys.argv[1:6])
    with MPIPoolExecutor() as executor:
        list(executor.map(identity, range(10_000), chunksize=auto_chunk))
        list(executor.map(identity, range(200)))
        rates = []
        for _ in range(reps):
            start = time.perf_counter()
            n = len(list(executor.map(identity, range(tasks), chunksize=auto_chunk)))
            rates.append(n / (time.perf_counter() - start))
        report("map auto", rates, "tasks/s")
        rates = []
        for _ in range(reps):
            start = time.perf_counter()
            n = len(list(executor.map(identity, range(tasks_c1), chunksize=1)))
            rates.append(n / (time.perf_counter() - start))
        report("map chunksize 1", rates, "tasks/s")
        times = []
        for i in range(trips):
            start = time.perf_counter()
            assert executor.submit(identity, i).result() == i
            times.append((time.perf_counter() - start) * 1e6)
        report("submit round trip", times, "us")


if __name__ == "__main__":
    main()
