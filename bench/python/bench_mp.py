#!/usr/bin/env python3
"""CPython's multiprocessing side of the multiproc benchmark.

Implements the same scenarios, with the same names and sizes, as the Rust harness in
bench/src (see bench/src/scenario.rs). Standard library only.

    python3 bench/python/bench_mp.py --scenario process/start_join_fork --n 100 --repeats 7
    python3 bench/python/bench_mp.py --all --quick      # every scenario, one JSON line each

Each sample is the raw figure the harness expects: seconds for n operations, except
pool/cpu_bound_speedup (the speed-up itself) and pool/worker_rss (bytes).
"""

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from array import array
from multiprocessing import shared_memory

PLATFORM_METHOD = mp.get_start_method(allow_none=False)
LABEL = "CPython %d.%d.%d multiprocessing" % sys.version_info[:3]

# "none", "same" (every process on CPU 0) or "cross" (parent on CPU 0, echo child on CPU 1).
PINNING = "none"


class Unavailable(Exception):
    """The scenario has no counterpart in CPython's multiprocessing."""


# ---------------------------------------------------------------- task functions


def noop():
    pass


def square(x):
    return x * x


def busy(iterations):
    acc = 0
    for i in range(iterations):
        acc = (acc + i * i) ^ (acc >> 7)
    return acc


def calibrate_busy(target_seconds):
    iterations = 10_000
    while True:
        start = time.perf_counter()
        busy(iterations)
        elapsed = time.perf_counter() - start
        if elapsed >= 0.02:
            return max(1, round(iterations * target_seconds / elapsed))
        iterations *= 2


def self_rss_bytes():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def self_pss_bytes():
    with open("/proc/self/smaps_rollup") as rollup:
        for line in rollup:
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    return 0


def worker_rss(_task):
    return os.getpid(), self_rss_bytes()


def worker_pss(_task):
    return os.getpid(), self_pss_bytes()


GATE_OPEN = 100


def locked_increments(value, gate, count):
    # Start together with the other child, as on the Rust side.
    with gate.get_lock():
        gate.value += 1
    while gate.value < GATE_OPEN:
        pass
    for _ in range(count):
        with value.get_lock():
            value.value += 1


def put_items(queue, n):
    for i in range(n):
        queue.put(i)


def put_mib_items(queue, n):
    payload = bytes(1 << 20)
    for _ in range(n):
        queue.put(payload)


def send_items(conn, n):
    for i in range(n):
        conn.send(i)
    conn.close()


def send_mib_messages(conn, n):
    payload = bytes(1 << 20)
    for _ in range(n):
        conn.send_bytes(payload)
    conn.close()


def echo(conn, cross_cpu):
    if cross_cpu:
        os.sched_setaffinity(0, {1})
    while True:
        message = conn.recv()
        if message is None:
            return
        conn.send(message)


# ------------------------------------------------ natural paths (typed items)


def make_payload(kind, size):
    if kind == "bytes":
        return bytes([7]) * size
    if kind == "str":
        return "x" * size
    if kind == "floats":
        return [i * 0.5 for i in range(max(size // 8, 1))]
    return (42, 1.5, -2.25, 7, True)  # the small struct


def send_typed(conn, n, kind, size):
    item = make_payload(kind, size)
    for _ in range(n):
        conn.send(item)
    conn.close()


def put_typed(queue, n, kind, size):
    item = make_payload(kind, size)
    for _ in range(n):
        queue.put(item)


def send_byte_messages(conn, n, size):
    payload = bytes([7]) * size
    for _ in range(n):
        conn.send_bytes(payload)
    conn.close()


def fill_array(array):
    with array.get_lock():
        values = array.get_obj()
        for i in range(len(values)):
            values[i] = i


# ---------------------------------------------------------------- helpers


def timed(repeats, body):
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        body()
        samples.append(time.perf_counter() - start)
    return samples


def check(ok, what):
    if not ok:
        raise RuntimeError(what)


# ---------------------------------------------------------------- process


def start_join(method):
    def run(n, repeats):
        ctx = mp.get_context(method)

        def once():
            p = ctx.Process(target=noop)
            p.start()
            p.join()
            check(p.exitcode == 0, "exit code %s" % p.exitcode)

        once()  # brings the forkserver up; warms the others

        def body():
            for _ in range(n):
                once()

        return timed(repeats, body), "%s (%s)" % (LABEL, method)

    return run


# ---------------------------------------------------------------- shared


def value_locked_increments(n, repeats):
    ctx = mp.get_context("fork")
    per_process = n // 2
    samples = []
    for _ in range(repeats):
        value = ctx.Value("q", 0)
        gate = ctx.Value("q", 0)
        workers = [
            ctx.Process(target=locked_increments, args=(value, gate, per_process)) for _ in range(2)
        ]
        for w in workers:
            w.start()
        while gate.value < 2:
            time.sleep(0)
        start = time.perf_counter()
        gate.value = GATE_OPEN
        for w in workers:
            w.join()
        samples.append(time.perf_counter() - start)
        check(value.value == 2 * per_process, "counter %d" % value.value)
    return samples, LABEL + " (fork), Value('q') + get_lock()"


def lock_uncontended(n, repeats):
    lock = mp.get_context("fork").Lock()

    def body():
        for _ in range(n):
            lock.acquire()
            lock.release()

    return timed(repeats, body), LABEL + " Lock"


def atomic_fetch_add(n, repeats):
    raise Unavailable("multiprocessing has no atomic integer (Value += 1 needs its lock)")


def array_fill_sum(n, repeats):
    shared = mp.get_context("fork").Array("d", n)
    expected = n * (n - 1) / 2

    def body():
        with shared.get_lock():
            raw = shared.get_obj()
            view = memoryview(raw).cast("B").cast("d")
            # Fastest standard-library path: no Python-level loop for the fill.
            view[:] = array("d", range(n))
            total = sum(view)
        check(total == expected, "sum %r" % total)

    body()  # touch every page before timing, as the Rust side does
    return timed(repeats, body), LABEL + " Array('d'), memoryview fill + sum()"


def shared_memory_cycle(n, repeats):
    counter = [0]

    def once():
        counter[0] += 1
        name = "mpbench-py-%d-%d" % (os.getpid(), counter[0])
        created = shared_memory.SharedMemory(name=name, create=True, size=4096)
        attached = shared_memory.SharedMemory(name=name)
        attached.close()
        created.close()
        created.unlink()

    once()  # starts the resource tracker

    def body():
        for _ in range(n):
            once()

    return timed(repeats, body), LABEL + " shared_memory.SharedMemory"


# ---------------------------------------------------------------- channel


def queue_small_items(n, repeats):
    ctx = mp.get_context("fork")

    def body():
        queue = ctx.Queue()
        child = ctx.Process(target=put_items, args=(queue, n))
        child.start()
        total = 0
        for _ in range(n):
            total += queue.get()
        child.join()
        check(total == n * (n - 1) // 2, "checksum %d" % total)

    return timed(repeats, body), LABEL + " (fork) Queue"


def queue_1mib_items(n, repeats):
    ctx = mp.get_context("fork")

    def body():
        queue = ctx.Queue()
        child = ctx.Process(target=put_mib_items, args=(queue, n))
        child.start()
        for _ in range(n):
            item = queue.get()
        check(len(item) == 1 << 20, "item size %d" % len(item))
        child.join()

    return timed(repeats, body), LABEL + " (fork) Queue"


def pipe_small_messages(n, repeats):
    ctx = mp.get_context("fork")

    def body():
        reader, writer = ctx.Pipe(duplex=False)
        child = ctx.Process(target=send_items, args=(writer, n))
        child.start()
        writer.close()
        total = 0
        for _ in range(n):
            total += reader.recv()
        child.join()
        reader.close()
        check(total == n * (n - 1) // 2, "checksum %d" % total)

    return timed(repeats, body), LABEL + " (fork) Pipe send/recv"


def pipe_1mib_messages(n, repeats):
    ctx = mp.get_context("fork")

    def body():
        reader, writer = ctx.Pipe(duplex=False)
        child = ctx.Process(target=send_mib_messages, args=(writer, n))
        child.start()
        writer.close()
        for _ in range(n):
            message = reader.recv_bytes()
        check(len(message) == 1 << 20, "message size %d" % len(message))
        child.join()
        reader.close()

    return timed(repeats, body), LABEL + " (fork) Pipe send_bytes/recv_bytes"


def round_trip(n, repeats):
    ctx = mp.get_context("fork")
    ours, theirs = ctx.Pipe()
    child = ctx.Process(target=echo, args=(theirs, PINNING == "cross"))
    child.start()

    def exchange(count):
        for i in range(count):
            ours.send(i)
            check(ours.recv() == i, "wrong echo")

    exchange(100)
    samples = timed(repeats, lambda: exchange(n))
    ours.send(None)
    child.join()
    return samples, LABEL + " (fork) duplex Pipe"


# ---------------------------------------------------------------- pool


def map_auto_chunksize(n, repeats):
    with mp.Pool(2) as pool:
        pool.map(square, range(100))

        def body():
            result = pool.map(square, range(n))
            check(len(result) == n, "lost results")

        return timed(repeats, body), "%s (%s) Pool(2).map" % (LABEL, PLATFORM_METHOD)


def map_chunksize_1(n, repeats):
    with mp.Pool(2) as pool:
        pool.map(square, range(100), chunksize=1)

        def body():
            result = pool.map(square, range(n), chunksize=1)
            check(len(result) == n, "lost results")

        return timed(repeats, body), "%s (%s) Pool(2).map" % (LABEL, PLATFORM_METHOD)


def imap_squares(ordered, chunksize):
    """imap/imap_unordered of square over range(n); chunksize None: CPython's default (1)."""

    def run(n, repeats):
        kwargs = {} if chunksize is None else {"chunksize": chunksize}
        with mp.Pool(2) as pool:
            pool.map(square, range(100))
            method = pool.imap if ordered else pool.imap_unordered
            expected = [square(x) for x in range(n)]

            # The check runs in C (list comparison, sort), so it adds little to CPython's time.
            def body():
                results = list(method(square, range(n), **kwargs))
                if not ordered:
                    results.sort()
                check(results == expected, "wrong, repeated or lost results")

            name = "imap" if ordered else "imap_unordered"
            return timed(repeats, body), "%s (%s) Pool(2).%s" % (LABEL, PLATFORM_METHOD, name)

    return run


def apply_async_round_trip(n, repeats):
    with mp.Pool(2) as pool:

        def exchange(count):
            for i in range(count):
                check(pool.apply_async(square, (i,)).get() == i * i, "wrong result")

        exchange(100)
        samples = timed(repeats, lambda: exchange(n))
        return samples, "%s (%s) Pool(2).apply_async" % (LABEL, PLATFORM_METHOD)


_EVENTS = None


def _keep_events(started, release):
    global _EVENTS
    _EVENTS = (started, release)


def long_task():
    started, release = _EVENTS
    started.set()
    return release.wait(60)


def short_task_behind_long(n, repeats):
    started, release = mp.Event(), mp.Event()
    with mp.Pool(2, initializer=_keep_events, initargs=(started, release)) as pool:
        pool.map(square, range(100))
        samples = []
        for _ in range(repeats):
            started.clear()
            release.clear()
            long = pool.apply_async(long_task)
            check(started.wait(60), "the long task never started")
            start = time.perf_counter()
            for i in range(n):
                check(pool.apply_async(square, (i,)).get(60) == i * i, "wrong result")
            samples.append(time.perf_counter() - start)
            release.set()
            check(long.get(60), "the long task was not released")
        return samples, "%s (%s) Pool(2).apply_async beside a long task" % (
            LABEL,
            PLATFORM_METHOD,
        )


def cpu_bound_speedup(n, repeats):
    iterations = calibrate_busy(0.010)
    tasks = [iterations] * n
    samples = []
    with mp.Pool(2) as pool:
        pool.map(square, range(10))
        for _ in range(repeats):
            # Sequential before and after, averaged, as on the Rust side (CPU speed drifts).
            start = time.perf_counter()
            sequential = [busy(k) for k in tasks]
            before = time.perf_counter() - start
            start = time.perf_counter()
            parallel = pool.map(busy, tasks, chunksize=1)
            parallel_time = time.perf_counter() - start
            start = time.perf_counter()
            [busy(k) for k in tasks]
            sequential_time = (before + time.perf_counter() - start) / 2
            check(sequential == parallel, "results differ")
            samples.append(sequential_time / parallel_time)
    return samples, "%s (%s) Pool(2).map" % (LABEL, PLATFORM_METHOD)


def pool_create(n, repeats):
    def body():
        for _ in range(n):
            pool = mp.Pool(2)
            check(pool.map(square, range(2)) == [0, 1], "wrong squares")
            pool.close()
            pool.join()

    return timed(repeats, body), "%s (%s) Pool(2)" % (LABEL, PLATFORM_METHOD)


def worker_memory(task):
    def run(n, repeats):
        samples = []
        for _ in range(repeats):
            with mp.Pool(2) as pool:
                answers = pool.map(task, range(8), chunksize=1)
            by_worker = dict(answers)
            samples.append(sum(by_worker.values()) / len(by_worker))
        return samples, "%s (%s) Pool(2) worker" % (LABEL, PLATFORM_METHOD)

    return run


# ---------------------------------------------------------------- manager


def manager_dict_set(n, repeats):
    with mp.Manager() as manager:
        d = manager.dict({i: i for i in range(1000)})

        def body():
            for i in range(n):
                d[i % 1000] = i

        samples = timed(repeats, body)
        return samples, "%s Manager().dict() set" % LABEL


def manager_dict_get(n, repeats):
    with mp.Manager() as manager:
        d = manager.dict({i: i for i in range(1000)})

        def body():
            for i in range(n):
                check(d[i % 1000] is not None, "missing key")

        samples = timed(repeats, body)
        return samples, "%s Manager().dict() get" % LABEL


def manager_list_push(n, repeats):
    with mp.Manager() as manager:
        lst = manager.list([0])

        def body():
            for i in range(n):
                lst.append(i)

        samples = timed(repeats, body)
        check(len(lst) == 1 + n * repeats, "lost appends")
        return samples, "%s Manager().list() append" % LABEL


def _set_many(args):
    d, first, count = args
    for i in range(first, first + count):
        d[i % 1000] = i
    return count


def manager_dict_set_clients(clients):
    def run(n, repeats):
        with mp.Manager() as manager:
            d = manager.dict({i: i for i in range(1000)})
            with mp.Pool(clients) as pool:
                # Every worker connects to the manager before timing.
                pool.map(_set_many, [(d, 0, 1)] * clients, chunksize=1)
                per_client = n // clients

                def body():
                    done = pool.map(
                        _set_many,
                        [(d, c * per_client, per_client) for c in range(clients)],
                        chunksize=1,
                    )
                    check(sum(done) == per_client * clients, "lost sets")

                samples = timed(repeats, body)
        return samples, "%s Manager().dict() set, Pool(%d) clients" % (LABEL, clients)

    return run


def typed_pipe(kind, size):
    def run(n, repeats):
        ctx = mp.get_context("fork")
        expected = make_payload(kind, size)

        def body():
            reader, writer = ctx.Pipe(duplex=False)
            child = ctx.Process(target=send_typed, args=(writer, n, kind, size))
            child.start()
            writer.close()
            for _ in range(n):
                item = reader.recv()
            check(len(item) == len(expected), "item of %d" % len(item))
            child.join()
            reader.close()

        return timed(repeats, body), LABEL + " (fork) Pipe send/recv of " + kind

    return run


def typed_queue(kind, size):
    def run(n, repeats):
        ctx = mp.get_context("fork")
        expected = make_payload(kind, size)

        def body():
            queue = ctx.Queue()
            child = ctx.Process(target=put_typed, args=(queue, n, kind, size))
            child.start()
            for _ in range(n):
                item = queue.get()
            check(len(item) == len(expected), "item of %d" % len(item))
            child.join()

        return timed(repeats, body), LABEL + " (fork) Queue put/get of " + kind

    return run


def recv_bytes_fresh(size):
    def run(n, repeats):
        ctx = mp.get_context("fork")

        def body():
            reader, writer = ctx.Pipe(duplex=False)
            child = ctx.Process(target=send_byte_messages, args=(writer, n, size))
            child.start()
            writer.close()
            for _ in range(n):
                message = reader.recv_bytes()
            check(len(message) == size, "message size %d" % len(message))
            child.join()
            reader.close()

        return timed(repeats, body), LABEL + " (fork) Pipe send_bytes/recv_bytes"

    return run


def array_fill_child(n, repeats):
    ctx = mp.get_context("fork")

    def body():
        array = ctx.Array("d", n)
        child = ctx.Process(target=fill_array, args=(array,))
        child.start()
        child.join()
        check(array[n - 1] == n - 1, "last value %r" % array[n - 1])

    return timed(repeats, body), LABEL + " (fork) Array('d') filled by a child"


SCENARIOS = {
    "process/start_join_fork": start_join("fork"),
    "process/start_join_spawn": start_join("spawn"),
    "process/start_join_forkserver": start_join("forkserver"),
    "shared/value_locked_increments": value_locked_increments,
    "shared/lock_uncontended": lock_uncontended,
    "shared/atomic_fetch_add": atomic_fetch_add,
    "shared/array_fill_sum": array_fill_sum,
    "shared/shared_memory_cycle": shared_memory_cycle,
    "channel/queue_small_items": queue_small_items,
    "channel/queue_1mib_items": queue_1mib_items,
    # CPython's queue carries bytes objects either way: the same measurement.
    "channel/queue_1mib_bytes": queue_1mib_items,
    "channel/pipe_small_messages": pipe_small_messages,
    "channel/pipe_1mib_messages": pipe_1mib_messages,
    "channel/round_trip": round_trip,
    "channel/round_trip_same_cpu": round_trip,
    "channel/round_trip_cross_cpu": round_trip,
    "channel/pipe_vec_u8_8b": typed_pipe("bytes", 8),
    "channel/pipe_vec_u8_4k": typed_pipe("bytes", 4096),
    "channel/pipe_vec_u8_1m": typed_pipe("bytes", 1048576),
    "channel/pipe_string_8b": typed_pipe("str", 8),
    "channel/pipe_string_4k": typed_pipe("str", 4096),
    "channel/pipe_string_1m": typed_pipe("str", 1048576),
    "channel/pipe_vec_f64_8b": typed_pipe("floats", 8),
    "channel/pipe_vec_f64_4k": typed_pipe("floats", 4096),
    "channel/pipe_vec_f64_1m": typed_pipe("floats", 1048576),
    "channel/pipe_struct": typed_pipe("struct", 32),
    "channel/queue_vec_u8_8b": typed_queue("bytes", 8),
    "channel/queue_vec_u8_4k": typed_queue("bytes", 4096),
    "channel/queue_vec_u8_1m": typed_queue("bytes", 1048576),
    "channel/queue_string_8b": typed_queue("str", 8),
    "channel/queue_string_4k": typed_queue("str", 4096),
    "channel/queue_string_1m": typed_queue("str", 1048576),
    "channel/queue_vec_f64_8b": typed_queue("floats", 8),
    "channel/queue_vec_f64_4k": typed_queue("floats", 4096),
    "channel/queue_vec_f64_1m": typed_queue("floats", 1048576),
    "channel/queue_struct": typed_queue("struct", 32),
    "channel/recv_bytes_fresh_8b": recv_bytes_fresh(8),
    "channel/recv_bytes_fresh_1m": recv_bytes_fresh(1 << 20),
    "shared/array_fill_child": array_fill_child,
    "pool/map_auto_chunksize": map_auto_chunksize,
    "pool/map_chunksize_1": map_chunksize_1,
    "pool/apply_async_round_trip": apply_async_round_trip,
    "pool/apply_async_round_trip_same_cpu": apply_async_round_trip,
    "pool/short_task_behind_long": short_task_behind_long,
    "pool/cpu_bound_speedup": cpu_bound_speedup,
    "pool/create": pool_create,
    "pool/worker_rss": worker_memory(worker_rss),
    "pool/worker_pss": worker_memory(worker_pss),
    "manager/dict_set": manager_dict_set,
    "manager/dict_get": manager_dict_get,
    "manager/list_push": manager_list_push,
    "manager/dict_set_1_client": manager_dict_set_clients(1),
    "manager/dict_set_2_clients": manager_dict_set_clients(2),
    "manager/dict_set_4_clients": manager_dict_set_clients(4),
    "pool/imap_auto_chunksize": imap_squares(True, None),
    "pool/imap_chunksize_1": imap_squares(True, 1),
    "pool/imap_chunksize_64": imap_squares(True, 64),
    "pool/imap_unordered_auto_chunksize": imap_squares(False, None),
    "pool/imap_unordered_chunksize_1": imap_squares(False, 1),
    "pool/imap_unordered_chunksize_64": imap_squares(False, 64),
}

# Sizes for --all; the harness passes its own (bench/src/scenario.rs is the reference).
QUICK_SIZES = {
    "process/start_join_fork": 20,
    "process/start_join_spawn": 4,
    "process/start_join_forkserver": 10,
    "shared/value_locked_increments": 100_000,
    "shared/lock_uncontended": 100_000,
    "shared/atomic_fetch_add": 2_000_000,
    "shared/array_fill_sum": 1_000_000,
    "shared/shared_memory_cycle": 100,
    "channel/queue_small_items": 10_000,
    "channel/queue_1mib_items": 20,
    "channel/queue_1mib_bytes": 20,
    "channel/pipe_small_messages": 10_000,
    "channel/pipe_1mib_messages": 100,
    "channel/round_trip": 2000,
    "channel/round_trip_same_cpu": 2000,
    "channel/round_trip_cross_cpu": 2000,
    "channel/pipe_vec_u8_8b": 10_000,
    "channel/pipe_vec_u8_4k": 2_000,
    "channel/pipe_vec_u8_1m": 20,
    "channel/pipe_string_8b": 10_000,
    "channel/pipe_string_4k": 2_000,
    "channel/pipe_string_1m": 20,
    "channel/pipe_vec_f64_8b": 10_000,
    "channel/pipe_vec_f64_4k": 2_000,
    "channel/pipe_vec_f64_1m": 20,
    "channel/pipe_struct": 10_000,
    "channel/queue_vec_u8_8b": 10_000,
    "channel/queue_vec_u8_4k": 2_000,
    "channel/queue_vec_u8_1m": 20,
    "channel/queue_string_8b": 10_000,
    "channel/queue_string_4k": 2_000,
    "channel/queue_string_1m": 20,
    "channel/queue_vec_f64_8b": 10_000,
    "channel/queue_vec_f64_4k": 2_000,
    "channel/queue_vec_f64_1m": 20,
    "channel/queue_struct": 10_000,
    "channel/recv_bytes_fresh_8b": 10_000,
    "channel/recv_bytes_fresh_1m": 20,
    "shared/array_fill_child": 1_000_000,
    "pool/map_auto_chunksize": 10_000,
    "pool/map_chunksize_1": 2000,
    "pool/apply_async_round_trip": 300,
    "pool/apply_async_round_trip_same_cpu": 300,
    "pool/short_task_behind_long": 100,
    "pool/cpu_bound_speedup": 10,
    "pool/create": 3,
    "pool/worker_rss": 1,
    "pool/worker_pss": 1,
    "manager/dict_set": 2000,
    "manager/dict_get": 2000,
    "manager/list_push": 2000,
    "manager/dict_set_1_client": 4000,
    "manager/dict_set_2_clients": 4000,
    "manager/dict_set_4_clients": 4000,
    "pool/imap_auto_chunksize": 2000,
    "pool/imap_chunksize_1": 2000,
    "pool/imap_chunksize_64": 10_000,
    "pool/imap_unordered_auto_chunksize": 2000,
    "pool/imap_unordered_chunksize_1": 2000,
    "pool/imap_unordered_chunksize_64": 10_000,
}


def run(name, n, repeats, pinning):
    global PINNING
    PINNING = pinning
    if pinning in ("same", "cross"):
        os.sched_setaffinity(0, {0})  # children inherit it
    try:
        samples, label = SCENARIOS[name](n, repeats)
        return {"scenario": name, "samples": samples, "label": label}
    except Unavailable as why:
        return {"scenario": name, "unavailable": str(why), "label": LABEL}
    except Exception as err:  # reported in the table, not raised
        return {"scenario": name, "error": "%s: %s" % (type(err).__name__, err), "label": LABEL}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--all", action="store_true", help="every scenario (quick sizes)")
    parser.add_argument("--quick", action="store_true", help="with --all: 3 repeats")
    parser.add_argument("--n", type=int)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--pin",
        choices=["none", "same", "cross"],
        default="none",
        help="same: every process on CPU 0; cross: parent on CPU 0, echo child on CPU 1",
    )
    parser.add_argument("--out", help="write the JSON result here instead of stdout")
    args = parser.parse_args()
    if args.all:
        repeats = 3 if args.quick else args.repeats
        for name in SCENARIOS:
            pid = os.fork()
            if pid == 0:  # one process per scenario, as the harness does
                pinning = "same" if name.endswith("_same_cpu") else "none"
                if name.endswith("_cross_cpu"):
                    pinning = "cross"
                print(json.dumps(run(name, QUICK_SIZES[name], repeats, pinning)), flush=True)
                os._exit(0)
            os.waitpid(pid, 0)
        return
    if args.scenario is None or args.n is None:
        parser.error("--scenario and --n are required (or --all)")
    line = json.dumps(run(args.scenario, args.n, args.repeats, args.pin))
    if args.out:
        with open(args.out, "w") as out:
            out.write(line + "\n")
    else:
        print(line)


if __name__ == "__main__":
    main()
