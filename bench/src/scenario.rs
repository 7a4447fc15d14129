//! The scenarios: names (stable), what they measure, sizes, targets, and which function
//! implements each for our code and for the floor. The Python script implements the same
//! names.

use crate::measure::{Outcome, Params, Pinning};
use crate::ours::typed::{self, Sample};
use crate::{floor, ours};

/// One implementation of a scenario.
pub(crate) type ImplFn = fn(&Params) -> Outcome;

/// Whether a smaller or a larger figure is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Better {
    /// Times, memory.
    Lower,
    /// Rates, bandwidth, speed-ups.
    Higher,
}

/// How a raw sample (see each variant) becomes the figure shown, and in what unit.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Metric {
    /// Sample: seconds for `n` operations. Shown: time per operation, seconds × `scale`.
    PerOp {
        /// `"ms"`, `"µs"`, `"ns"`.
        unit: &'static str,
        /// 1e3, 1e6, 1e9.
        scale: f64,
    },
    /// Sample: seconds for `n` operations. Shown: operations per second ÷ `scale`.
    Rate {
        /// e.g. `"M ops/s"`.
        unit: &'static str,
        /// e.g. 1e6.
        scale: f64,
    },
    /// Sample: seconds for `n` operations of `bytes_per_op` bytes. Shown: GB/s (10^9).
    Bandwidth {
        /// Bytes moved by one operation.
        bytes_per_op: f64,
    },
    /// Sample: the figure itself, divided by `scale` for display.
    Direct {
        /// e.g. `"×"`, `"MiB"`.
        unit: &'static str,
        /// e.g. 1 or 2^20.
        scale: f64,
        /// Whether lower or higher is better.
        better: Better,
    },
}

impl Metric {
    /// The display unit.
    pub(crate) fn unit(&self) -> &'static str {
        match *self {
            Metric::PerOp { unit, .. } | Metric::Rate { unit, .. } => unit,
            Metric::Bandwidth { .. } => "GB/s",
            Metric::Direct { unit, .. } => unit,
        }
    }

    /// Whether lower or higher figures are better.
    pub(crate) fn better(&self) -> Better {
        match *self {
            Metric::PerOp { .. } => Better::Lower,
            Metric::Rate { .. } | Metric::Bandwidth { .. } => Better::Higher,
            Metric::Direct { better, .. } => better,
        }
    }

    /// A raw sample as the displayed figure, for a run of `n` operations.
    pub(crate) fn convert(&self, sample: f64, n: u64) -> f64 {
        let n = n as f64;
        match *self {
            Metric::PerOp { scale, .. } => sample / n * scale,
            Metric::Rate { scale, .. } => n / sample / scale,
            Metric::Bandwidth { bytes_per_op } => n * bytes_per_op / sample / 1e9,
            Metric::Direct { scale, .. } => sample / scale,
        }
    }
}

/// What a target compares our median with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reference {
    /// Ratio of our median to CPython's.
    Python,
    /// Ratio of our median to the floor's.
    Floor,
    /// Our median itself, in the scenario's unit.
    Absolute,
}

/// A performance target from DESIGN.md or the crate issues.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target {
    /// The compared figure must be at most this.
    AtMost(Reference, f64),
    /// The compared figure must be at least this.
    AtLeast(Reference, f64),
}

impl Target {
    /// The target as written in the table, e.g. `≤ 1.5× floor`.
    pub(crate) fn describe(&self, unit: &str) -> String {
        let (sign, reference, bound) = match *self {
            Target::AtMost(reference, bound) => ("≤", reference, bound),
            Target::AtLeast(reference, bound) => ("≥", reference, bound),
        };
        match reference {
            Reference::Python => format!("{sign} {bound}× CPython"),
            Reference::Floor => format!("{sign} {bound}× floor"),
            Reference::Absolute => format!("{sign} {bound} {unit}"),
        }
    }

    /// Whether `figure` (a ratio or an absolute median, per the reference) meets it.
    pub(crate) fn met_by(&self, figure: f64) -> bool {
        match *self {
            Target::AtMost(_, bound) => figure <= bound,
            Target::AtLeast(_, bound) => figure >= bound,
        }
    }

    /// What the target compares with.
    pub(crate) fn reference(&self) -> Reference {
        match *self {
            Target::AtMost(reference, _) | Target::AtLeast(reference, _) => reference,
        }
    }
}

/// The floor of a scenario: what it is and the function that measures it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Floor {
    /// Shown in the implementation column.
    pub(crate) label: &'static str,
    /// The measurement.
    pub(crate) run: ImplFn,
}

/// One benchmark scenario.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scenario {
    /// Stable name, `crate/what`; the Python script uses the same.
    pub(crate) name: &'static str,
    /// What one operation is.
    pub(crate) what: &'static str,
    /// How samples become figures.
    pub(crate) metric: Metric,
    /// Operations per sample in a full run.
    pub(crate) n_full: u64,
    /// Operations per sample with `--quick`.
    pub(crate) n_quick: u64,
    /// Where the processes run.
    pub(crate) pinning: Pinning,
    /// Our implementation (it may say "not yet available").
    pub(crate) ours: ImplFn,
    /// Whether the Python script implements it.
    pub(crate) python: bool,
    /// The raw OS floor (or rayon, for the pool).
    pub(crate) floor: Option<Floor>,
    /// Targets for our median; all must hold.
    pub(crate) targets: &'static [Target],
}

const MS: Metric = Metric::PerOp {
    unit: "ms",
    scale: 1e3,
};
const US: Metric = Metric::PerOp {
    unit: "µs",
    scale: 1e6,
};
const NS: Metric = Metric::PerOp {
    unit: "ns",
    scale: 1e9,
};
const M_OPS: Metric = Metric::Rate {
    unit: "M ops/s",
    scale: 1e6,
};
const K_ITEMS: Metric = Metric::Rate {
    unit: "k items/s",
    scale: 1e3,
};
const K_OPS: Metric = Metric::Rate {
    unit: "k ops/s",
    scale: 1e3,
};
const K_TASKS: Metric = Metric::Rate {
    unit: "k tasks/s",
    scale: 1e3,
};
const MIB_MESSAGES: Metric = Metric::Bandwidth {
    bytes_per_op: 1_048_576.0,
};

const FORK_FLOOR: Floor = Floor {
    label: "floor: fork+waitpid",
    run: floor::fork_waitpid,
};
const SMALL_MESSAGE_FLOOR: Floor = Floor {
    label: "floor: socketpair, 1 write + 1 read per 8 B message",
    run: floor::socket_small_messages,
};
const MIB_FLOOR: Floor = Floor {
    label: "floor: socketpair stream, 1 MiB messages",
    run: floor::socket_1mib_messages,
};
const PING_PONG_FLOOR: Floor = Floor {
    label: "floor: pipe ping-pong",
    run: floor::pipe_ping_pong,
};

const KIB_FLOOR: Floor = Floor {
    label: "floor: socketpair stream, 4 KiB messages",
    run: floor::socket_messages::<4096>,
};
const STRUCT_FLOOR: Floor = Floor {
    label: "floor: socketpair stream, 32 B messages",
    run: floor::socket_messages::<32>,
};
const KIB_MESSAGES: Metric = Metric::Bandwidth {
    bytes_per_op: 4096.0,
};
const NOT_SLOWER: &[Target] = &[Target::AtLeast(Reference::Python, 1.0)];
const QUEUE_TARGETS: &[Target] = &[Target::AtLeast(Reference::Python, 10.0)];

/// A channel scenario on a natural path: a fork-started child sends `n` items, the parent
/// receives them (start and join included), beside CPython and the socketpair floor.
const fn natural(
    name: &'static str,
    what: &'static str,
    size: usize,
    ours: ImplFn,
    targets: &'static [Target],
) -> Scenario {
    let (metric, n_full, n_quick, floor) = match size {
        0..=64 => (
            K_ITEMS,
            100_000,
            10_000,
            if size <= 8 {
                SMALL_MESSAGE_FLOOR
            } else {
                STRUCT_FLOOR
            },
        ),
        4096 => (KIB_MESSAGES, 20_000, 2000, KIB_FLOOR),
        _ => (MIB_MESSAGES, 200, 20, MIB_FLOOR),
    };
    Scenario {
        name,
        what,
        metric,
        n_full,
        n_quick,
        pinning: Pinning::Unpinned,
        ours,
        python: true,
        floor: Some(floor),
        targets,
    }
}

const KIB: usize = 4096;
const MIB: usize = 1 << 20;

/// Every scenario, in table order.
pub(crate) const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "process/start_join_fork",
        what: "start + join of a no-op child, fork start method",
        metric: MS,
        n_full: 100,
        n_quick: 20,
        pinning: Pinning::Unpinned,
        ours: ours::process::start_join_fork,
        python: true,
        floor: Some(FORK_FLOOR),
        targets: &[Target::AtMost(Reference::Floor, 1.5)],
    },
    Scenario {
        name: "process/start_join_spawn",
        what: "start + join of a no-op child, spawn start method",
        metric: MS,
        n_full: 20,
        n_quick: 4,
        pinning: Pinning::Unpinned,
        ours: ours::process::start_join_spawn,
        python: true,
        floor: Some(Floor {
            label: "floor: re-exec /proc/self/exe (std Command)",
            run: floor::reexec,
        }),
        targets: &[Target::AtMost(Reference::Floor, 1.5)],
    },
    Scenario {
        name: "process/start_join_forkserver",
        what: "start + join of a no-op child, forkserver start method (server already up)",
        metric: MS,
        n_full: 50,
        n_quick: 10,
        pinning: Pinning::Unpinned,
        ours: ours::process::start_join_forkserver,
        python: true,
        floor: Some(FORK_FLOOR),
        targets: &[Target::AtMost(Reference::Floor, 2.0)],
    },
    Scenario {
        name: "shared/value_locked_increments",
        what: "locked += 1 on one shared integer, 2 processes, n/2 each",
        metric: M_OPS,
        n_full: 1_000_000,
        n_quick: 100_000,
        pinning: Pinning::Unpinned,
        ours: ours::shared::value_locked_increments,
        python: true,
        floor: Some(Floor {
            label: "floor: PROCESS_SHARED pthread mutex, MAP_SHARED",
            run: floor::pthread_mutex_increments,
        }),
        targets: &[
            Target::AtLeast(Reference::Floor, 1.0),
            Target::AtLeast(Reference::Python, 15.0),
        ],
    },
    Scenario {
        name: "shared/lock_uncontended",
        what: "acquire + release of an uncontended Lock",
        metric: NS,
        n_full: 1_000_000,
        n_quick: 100_000,
        pinning: Pinning::Unpinned,
        ours: ours::shared::lock_uncontended,
        python: true,
        floor: Some(Floor {
            label: "floor: PROCESS_SHARED pthread mutex lock+unlock",
            run: floor::pthread_mutex_uncontended,
        }),
        targets: &[],
    },
    Scenario {
        name: "shared/atomic_fetch_add",
        what: "fetch_add(1) on one shared integer, 2 processes, n/2 each",
        metric: M_OPS,
        n_full: 20_000_000,
        n_quick: 2_000_000,
        pinning: Pinning::Unpinned,
        ours: ours::shared::atomic_fetch_add,
        python: true,
        floor: Some(Floor {
            label: "floor: AtomicU64 in MAP_SHARED memory",
            run: floor::atomic_fetch_add,
        }),
        targets: &[],
    },
    Scenario {
        name: "shared/array_fill_sum",
        what: "fill n f64 with 0,1,2,… then sum them (bytes written + read)",
        metric: Metric::Bandwidth { bytes_per_op: 16.0 },
        n_full: 10_000_000,
        n_quick: 1_000_000,
        pinning: Pinning::Unpinned,
        ours: ours::shared::array_fill_sum,
        python: true,
        floor: Some(Floor {
            label: "floor: private Vec<f64>",
            run: floor::vec_fill_sum,
        }),
        targets: &[Target::AtLeast(Reference::Floor, 0.9)],
    },
    Scenario {
        name: "shared/shared_memory_cycle",
        what: "named shared memory of 4 KiB: create, attach, close both, unlink",
        metric: US,
        n_full: 1000,
        n_quick: 100,
        pinning: Pinning::Unpinned,
        ours: ours::shared::shared_memory_cycle,
        python: true,
        floor: Some(Floor {
            label: "floor: shm_open+ftruncate+mmap ×2, munmap, shm_unlink",
            run: floor::posix_shm_cycle,
        }),
        // Issue #15's target; the system calls alone take about half of CPython's time, so
        // the design's older "0.1x CPython" cannot be met by any implementation.
        targets: &[Target::AtMost(Reference::Floor, 1.2)],
    },
    Scenario {
        name: "channel/queue_small_items",
        what: "Queue: a child puts n u64, the parent gets them (child start+join included)",
        metric: K_ITEMS,
        n_full: 100_000,
        n_quick: 10_000,
        pinning: Pinning::Unpinned,
        ours: ours::channel::queue_small_items,
        python: true,
        floor: Some(SMALL_MESSAGE_FLOOR),
        targets: &[Target::AtLeast(Reference::Python, 10.0)],
    },
    Scenario {
        name: "channel/queue_1mib_items",
        what: "Queue: a child puts n items of 1 MiB, the parent gets them",
        metric: MIB_MESSAGES,
        n_full: 200,
        n_quick: 20,
        pinning: Pinning::Unpinned,
        ours: ours::channel::queue_1mib_items,
        python: true,
        floor: Some(MIB_FLOOR),
        targets: &[Target::AtLeast(Reference::Python, 10.0)],
    },
    Scenario {
        name: "channel/pipe_small_messages",
        what: "Pipe: a child sends n u64, the parent receives them",
        metric: K_ITEMS,
        n_full: 100_000,
        n_quick: 10_000,
        pinning: Pinning::Unpinned,
        ours: ours::channel::pipe_small_messages,
        python: true,
        floor: Some(SMALL_MESSAGE_FLOOR),
        targets: &[Target::AtLeast(Reference::Floor, 0.7)],
    },
    Scenario {
        name: "channel/round_trip",
        what: "round trip of a small message to an echoing child, unpinned (the scheduler \
               puts the two on one CPU or on both, so the figure can be bimodal)",
        metric: US,
        n_full: 10_000,
        n_quick: 2000,
        pinning: Pinning::Unpinned,
        ours: ours::channel::round_trip,
        python: true,
        floor: Some(PING_PONG_FLOOR),
        targets: &[Target::AtMost(Reference::Floor, 1.3)],
    },
    Scenario {
        name: "channel/round_trip_same_cpu",
        what: "as channel/round_trip, every process pinned to CPU 0",
        metric: US,
        n_full: 10_000,
        n_quick: 2000,
        pinning: Pinning::SameCpu,
        ours: ours::channel::round_trip,
        python: true,
        floor: Some(PING_PONG_FLOOR),
        targets: &[Target::AtMost(Reference::Floor, 1.3)],
    },
    Scenario {
        name: "channel/round_trip_cross_cpu",
        what: "as channel/round_trip, the parent pinned to CPU 0 and the echoing child to CPU 1",
        metric: US,
        n_full: 10_000,
        n_quick: 2000,
        pinning: Pinning::CrossCpu,
        ours: ours::channel::round_trip,
        python: true,
        floor: Some(PING_PONG_FLOOR),
        targets: &[Target::AtMost(Reference::Floor, 1.3)],
    },
    natural(
        "channel/pipe_vec_u8_8b",
        "Pipe<Vec<u8>>: a child sends n items of 8 bytes, the parent recvs them",
        8,
        typed::pipe::<Vec<u8>, 8>,
        NOT_SLOWER,
    ),
    natural(
        "channel/pipe_vec_u8_4k",
        "Pipe<Vec<u8>>: a child sends n items of 4 KiB, the parent recvs them",
        KIB,
        typed::pipe::<Vec<u8>, KIB>,
        NOT_SLOWER,
    ),
    natural(
        "channel/pipe_vec_u8_1m",
        "Pipe<Vec<u8>>: a child sends n items of 1 MiB, the parent recvs them",
        MIB,
        typed::pipe::<Vec<u8>, MIB>,
        &[
            Target::AtLeast(Reference::Python, 3.0),
            Target::AtLeast(Reference::Floor, 0.5),
        ],
    ),
    natural(
        "channel/pipe_string_8b",
        "Pipe<String>: a child sends n strings of 8 bytes, the parent recvs them",
        8,
        typed::pipe::<String, 8>,
        NOT_SLOWER,
    ),
    natural(
        "channel/pipe_string_4k",
        "Pipe<String>: a child sends n strings of 4 KiB, the parent recvs them",
        KIB,
        typed::pipe::<String, KIB>,
        NOT_SLOWER,
    ),
    natural(
        "channel/pipe_string_1m",
        "Pipe<String>: a child sends n strings of 1 MiB, the parent recvs them",
        MIB,
        typed::pipe::<String, MIB>,
        NOT_SLOWER,
    ),
    natural(
        "channel/pipe_vec_f64_8b",
        "Pipe<Vec<f64>>: a child sends n vectors of one f64, the parent recvs them \
         (CPython: a list of floats)",
        8,
        typed::pipe::<Vec<f64>, 8>,
        NOT_SLOWER,
    ),
    natural(
        "channel/pipe_vec_f64_4k",
        "Pipe<Vec<f64>>: a child sends n vectors of 512 f64, the parent recvs them",
        KIB,
        typed::pipe::<Vec<f64>, KIB>,
        NOT_SLOWER,
    ),
    natural(
        "channel/pipe_vec_f64_1m",
        "Pipe<Vec<f64>>: a child sends n vectors of 131072 f64, the parent recvs them",
        MIB,
        typed::pipe::<Vec<f64>, MIB>,
        NOT_SLOWER,
    ),
    natural(
        "channel/pipe_struct",
        "Pipe<struct of 5 fields>: a child sends n, the parent recvs them (CPython: a tuple)",
        32,
        typed::pipe::<Sample, 32>,
        NOT_SLOWER,
    ),
    natural(
        "channel/queue_vec_u8_8b",
        "Queue<Vec<u8>>: a child puts n items of 8 bytes, the parent gets them",
        8,
        typed::queue::<Vec<u8>, 8>,
        QUEUE_TARGETS,
    ),
    natural(
        "channel/queue_vec_u8_4k",
        "Queue<Vec<u8>>: a child puts n items of 4 KiB, the parent gets them",
        KIB,
        typed::queue::<Vec<u8>, KIB>,
        QUEUE_TARGETS,
    ),
    Scenario {
        name: "channel/queue_vec_u8_4k_shared_floor",
        what: "the Queue<Vec<u8>> 4 KiB row again, against the floor of shared memory: \
               a lock-free ring for one producer and one consumer, both spinning",
        metric: KIB_MESSAGES,
        n_full: 20_000,
        n_quick: 2000,
        pinning: Pinning::Unpinned,
        ours: typed::queue::<Vec<u8>, KIB>,
        python: false,
        floor: Some(Floor {
            label: "floor: one-producer one-consumer ring in MAP_SHARED memory, spinning",
            run: floor::shared_slots_4k,
        }),
        targets: &[],
    },
    natural(
        "channel/queue_vec_u8_1m",
        "Queue<Vec<u8>>: a child puts n items of 1 MiB, the parent gets them",
        MIB,
        typed::queue::<Vec<u8>, MIB>,
        QUEUE_TARGETS,
    ),
    natural(
        "channel/queue_string_8b",
        "Queue<String>: a child puts n strings of 8 bytes, the parent gets them",
        8,
        typed::queue::<String, 8>,
        NOT_SLOWER,
    ),
    natural(
        "channel/queue_string_4k",
        "Queue<String>: a child puts n strings of 4 KiB, the parent gets them",
        KIB,
        typed::queue::<String, KIB>,
        NOT_SLOWER,
    ),
    natural(
        "channel/queue_string_1m",
        "Queue<String>: a child puts n strings of 1 MiB, the parent gets them",
        MIB,
        typed::queue::<String, MIB>,
        NOT_SLOWER,
    ),
    natural(
        "channel/queue_vec_f64_8b",
        "Queue<Vec<f64>>: a child puts n vectors of one f64, the parent gets them",
        8,
        typed::queue::<Vec<f64>, 8>,
        NOT_SLOWER,
    ),
    natural(
        "channel/queue_vec_f64_4k",
        "Queue<Vec<f64>>: a child puts n vectors of 512 f64, the parent gets them",
        KIB,
        typed::queue::<Vec<f64>, KIB>,
        NOT_SLOWER,
    ),
    natural(
        "channel/queue_vec_f64_1m",
        "Queue<Vec<f64>>: a child puts n vectors of 131072 f64, the parent gets them",
        MIB,
        typed::queue::<Vec<f64>, MIB>,
        NOT_SLOWER,
    ),
    natural(
        "channel/queue_struct",
        "Queue<struct of 5 fields>: a child puts n, the parent gets them (CPython: a tuple)",
        32,
        typed::queue::<Sample, 32>,
        NOT_SLOWER,
    ),
    natural(
        "channel/recv_bytes_fresh_8b",
        "send_bytes/recv_bytes of 8 bytes, a fresh Vec per receive",
        8,
        typed::recv_bytes_fresh::<8>,
        &[Target::AtLeast(Reference::Floor, 1.0)],
    ),
    natural(
        "channel/recv_bytes_fresh_1m",
        "send_bytes/recv_bytes of 1 MiB, a fresh Vec per receive",
        MIB,
        typed::recv_bytes_fresh::<MIB>,
        &[Target::AtLeast(Reference::Floor, 0.7)],
    ),
    Scenario {
        name: "channel/queue_1mib_bytes",
        what: "Queue, byte path: a child put_bytes n items of 1 MiB, the parent get_bytes them",
        metric: MIB_MESSAGES,
        n_full: 200,
        n_quick: 20,
        pinning: Pinning::Unpinned,
        ours: ours::channel::queue_1mib_bytes,
        python: true,
        floor: Some(MIB_FLOOR),
        targets: &[Target::AtLeast(Reference::Python, 10.0)],
    },
    Scenario {
        name: "channel/segment_copy_4k",
        what: "Segment::write_at then read_at of the same 4 KiB, the queue ring's copy alone (one process)",
        metric: KIB_MESSAGES,
        n_full: 200_000,
        n_quick: 20_000,
        pinning: Pinning::Unpinned,
        ours: ours::channel::segment_copy_4k,
        python: false,
        floor: None,
        targets: &[],
    },
    Scenario {
        name: "channel/pipe_1mib_messages",
        what: "Pipe: a child sends n byte messages of 1 MiB, the parent receives them",
        metric: MIB_MESSAGES,
        n_full: 1000,
        n_quick: 100,
        pinning: Pinning::Unpinned,
        ours: ours::channel::pipe_1mib_messages,
        python: true,
        floor: Some(MIB_FLOOR),
        targets: &[Target::AtLeast(Reference::Floor, 0.7)],
    },
    Scenario {
        name: "shared/array_fill_child",
        what: "a fork-started child fills a fresh Array<f64> of n with 0,1,2,… in a plain \
               loop (first-touch page faults included); start+join included",
        metric: Metric::Bandwidth { bytes_per_op: 8.0 },
        n_full: 10_000_000,
        n_quick: 1_000_000,
        pinning: Pinning::Unpinned,
        ours: ours::shared::array_fill_by_child,
        python: true,
        floor: Some(Floor {
            label: "floor: fresh memfd MAP_SHARED, filled by a forked child",
            run: floor::memfd_fill_by_child,
        }),
        targets: &[Target::AtLeast(Reference::Floor, 0.9)],
    },
    Scenario {
        name: "pool/map_auto_chunksize",
        what: "map of square over 0..n, automatic chunksize, 2 workers",
        metric: K_TASKS,
        n_full: 100_000,
        n_quick: 10_000,
        pinning: Pinning::Unpinned,
        ours: ours::pool::map_auto_chunksize,
        python: true,
        floor: Some(Floor {
            label: "rayon, 2 threads (in-process limit)",
            run: floor::rayon_map,
        }),
        targets: &[Target::AtLeast(Reference::Python, 10.0)],
    },
    Scenario {
        name: "pool/map_chunksize_1",
        what: "map of square over 0..n, chunksize 1, 2 workers",
        metric: K_TASKS,
        n_full: 10_000,
        n_quick: 2000,
        pinning: Pinning::Unpinned,
        ours: ours::pool::map_chunksize_1,
        python: true,
        floor: Some(Floor {
            label: "rayon, 2 threads, with_max_len(1)",
            run: floor::rayon_map_chunk1,
        }),
        targets: &[Target::AtLeast(Reference::Python, 10.0)],
    },
    Scenario {
        name: "pool/apply_async_round_trip",
        what: "apply_async(square, (i,)).get(), one at a time, unpinned (2 CPUs)",
        metric: US,
        n_full: 2000,
        n_quick: 300,
        pinning: Pinning::Unpinned,
        ours: ours::pool::apply_async_round_trip,
        python: true,
        floor: Some(PING_PONG_FLOOR),
        targets: &[Target::AtMost(Reference::Floor, 1.3)],
    },
    Scenario {
        name: "pool/apply_async_round_trip_same_cpu",
        what: "as pool/apply_async_round_trip, every process pinned to CPU 0",
        metric: US,
        n_full: 2000,
        n_quick: 300,
        pinning: Pinning::SameCpu,
        ours: ours::pool::apply_async_round_trip,
        python: true,
        floor: Some(PING_PONG_FLOOR),
        targets: &[Target::AtMost(Reference::Floor, 1.3)],
    },
    Scenario {
        name: "pool/short_task_behind_long",
        what: "apply_async(square, (i,)).get(), one at a time, while the other worker of 2 runs \
               a task that lasts until the n short ones are done (head-of-line blocking)",
        metric: US,
        n_full: 1000,
        n_quick: 100,
        pinning: Pinning::Unpinned,
        ours: ours::pool::short_task_behind_long,
        python: true,
        floor: Some(PING_PONG_FLOOR),
        targets: &[Target::AtMost(Reference::Floor, 1.3)],
    },
    Scenario {
        name: "pool/await_round_trip",
        what: "pool.submit(square, (i,)).await on a current-thread tokio runtime, one at a \
               time, beside the blocking apply_async(..).get()",
        metric: US,
        n_full: 2000,
        n_quick: 300,
        pinning: Pinning::Unpinned,
        ours: ours::pool::await_round_trip,
        python: false,
        floor: Some(Floor {
            label: "blocking apply_async(..).get()",
            run: ours::pool::apply_async_round_trip,
        }),
        targets: &[Target::AtMost(Reference::Floor, 1.2)],
    },
    Scenario {
        name: "pool/await_vs_spawn_blocking",
        what: "pool.submit(square, (i,)).await, one at a time, beside tokio's \
               spawn_blocking(move || square(i)).await in this process",
        metric: US,
        n_full: 2000,
        n_quick: 300,
        pinning: Pinning::Unpinned,
        ours: ours::pool::await_round_trip,
        python: false,
        floor: Some(Floor {
            label: "tokio spawn_blocking (in-process, no isolation)",
            run: ours::pool::spawn_blocking_round_trip,
        }),
        targets: &[],
    },
    Scenario {
        name: "pool/cpu_bound_speedup",
        what: "n CPU-bound tasks of ~10 ms on 2 workers: sequential time ÷ pool time",
        metric: Metric::Direct {
            unit: "× speed-up",
            scale: 1.0,
            better: Better::Higher,
        },
        n_full: 40,
        n_quick: 10,
        pinning: Pinning::Unpinned,
        ours: ours::pool::cpu_bound_speedup,
        python: true,
        floor: Some(Floor {
            label: "rayon, 2 threads",
            run: floor::rayon_cpu_bound,
        }),
        targets: &[Target::AtLeast(Reference::Absolute, 1.9)],
    },
    Scenario {
        name: "pool/create",
        what: "create a pool of 2, map 2 trivial tasks, close + join",
        metric: MS,
        n_full: 10,
        n_quick: 3,
        pinning: Pinning::Unpinned,
        ours: ours::pool::pool_create,
        python: true,
        floor: Some(Floor {
            label: "rayon, 2 threads",
            run: floor::rayon_pool_create,
        }),
        targets: &[],
    },
    Scenario {
        name: "pool/worker_rss",
        what: "resident set size of one idle pool worker (mean over the workers)",
        metric: Metric::Direct {
            unit: "MiB",
            scale: 1_048_576.0,
            better: Better::Lower,
        },
        n_full: 1,
        n_quick: 1,
        pinning: Pinning::Unpinned,
        ours: ours::pool::worker_rss,
        python: true,
        floor: Some(Floor {
            label: "floor: fresh process of this binary",
            run: floor::idle_process_rss,
        }),
        targets: &[Target::AtMost(Reference::Absolute, 5.0)],
    },
    Scenario {
        name: "pool/worker_pss",
        what: "proportional set size of one idle pool worker: pages shared with other \
               processes count by their share (mean over the workers)",
        metric: Metric::Direct {
            unit: "MiB",
            scale: 1_048_576.0,
            better: Better::Lower,
        },
        n_full: 1,
        n_quick: 1,
        pinning: Pinning::Unpinned,
        ours: ours::pool::worker_pss,
        python: true,
        floor: Some(Floor {
            label: "floor: fresh process of this binary",
            run: floor::idle_process_pss,
        }),
        targets: &[],
    },
    Scenario {
        name: "manager/dict_set",
        what: "d[i % 1000] = i on a manager's dict, one client, one call at a time",
        metric: US,
        n_full: 20_000,
        n_quick: 2000,
        pinning: Pinning::Unpinned,
        ours: ours::manager::dict_set,
        python: true,
        floor: Some(PING_PONG_FLOOR),
        targets: &[
            Target::AtMost(Reference::Python, 0.2),
            Target::AtMost(Reference::Floor, 1.5),
        ],
    },
    Scenario {
        name: "manager/dict_get",
        what: "d[i % 1000] on a manager's dict, one client, one call at a time",
        metric: US,
        n_full: 20_000,
        n_quick: 2000,
        pinning: Pinning::Unpinned,
        ours: ours::manager::dict_get,
        python: true,
        floor: Some(PING_PONG_FLOOR),
        targets: &[
            Target::AtMost(Reference::Python, 0.2),
            Target::AtMost(Reference::Floor, 1.5),
        ],
    },
    Scenario {
        name: "manager/list_push",
        what: "l.append(i) on a manager's list, one client, one call at a time",
        metric: US,
        n_full: 20_000,
        n_quick: 2000,
        pinning: Pinning::Unpinned,
        ours: ours::manager::list_push,
        python: true,
        floor: Some(PING_PONG_FLOOR),
        targets: &[
            Target::AtMost(Reference::Python, 0.2),
            Target::AtMost(Reference::Floor, 1.5),
        ],
    },
    Scenario {
        name: "manager/dict_set_1_client",
        what: "d[i % 1000] = i on a manager's dict from 1 pool worker at once, n in all (total rate)",
        metric: K_OPS,
        n_full: 40_000,
        n_quick: 4000,
        pinning: Pinning::Unpinned,
        ours: ours::manager::dict_set_1_client,
        python: true,
        floor: None,
        targets: &[Target::AtLeast(Reference::Python, 5.0)],
    },
    Scenario {
        name: "manager/dict_set_2_clients",
        what: "d[i % 1000] = i on a manager's dict from 2 pool workers at once, n in all (total rate)",
        metric: K_OPS,
        n_full: 40_000,
        n_quick: 4000,
        pinning: Pinning::Unpinned,
        ours: ours::manager::dict_set_2_clients,
        python: true,
        floor: None,
        targets: &[Target::AtLeast(Reference::Python, 5.0)],
    },
    Scenario {
        name: "manager/dict_set_4_clients",
        what: "d[i % 1000] = i on a manager's dict from 4 pool workers at once, n in all (total rate)",
        metric: K_OPS,
        n_full: 40_000,
        n_quick: 4000,
        pinning: Pinning::Unpinned,
        ours: ours::manager::dict_set_4_clients,
        python: true,
        floor: None,
        targets: &[Target::AtLeast(Reference::Python, 5.0)],
    },
    imap(
        "pool/imap_auto_chunksize",
        "imap of square over 0..n, default chunksize (1 on both sides: CPython's imap \
         default), every result consumed in order, 2 workers",
        ours::pool::imap_auto_chunksize,
        1,
        NOT_SLOWER,
    ),
    imap(
        "pool/imap_chunksize_1",
        "imap of square over 0..n, chunksize 1, every result consumed in order, 2 workers",
        ours::pool::imap_chunksize_1,
        1,
        NOT_SLOWER,
    ),
    imap(
        "pool/imap_chunksize_64",
        "imap of square over 0..n, chunksize 64, every result consumed in order, 2 workers",
        ours::pool::imap_chunksize_64,
        64,
        &[Target::AtLeast(Reference::Python, 10.0)],
    ),
    imap(
        "pool/imap_unordered_auto_chunksize",
        "imap_unordered of square over 0..n, default chunksize (1 on both sides: CPython's \
         default), every result consumed, 2 workers",
        ours::pool::imap_unordered_auto_chunksize,
        1,
        NOT_SLOWER,
    ),
    imap(
        "pool/imap_unordered_chunksize_1",
        "imap_unordered of square over 0..n, chunksize 1, every result consumed, 2 workers",
        ours::pool::imap_unordered_chunksize_1,
        1,
        NOT_SLOWER,
    ),
    imap(
        "pool/imap_unordered_chunksize_64",
        "imap_unordered of square over 0..n, chunksize 64, every result consumed, 2 workers",
        ours::pool::imap_unordered_chunksize_64,
        64,
        NOT_SLOWER,
    ),
    case_study(
        "cases/parallel_files",
        "examples/parallel_files: count a generated corpus of n files (the example's is \
         360), in this process ÷ with pool.map on 2 workers (pool start included)",
        360,
        60,
        ours::cases::parallel_files,
    ),
    case_study(
        "cases/parallel_training",
        "examples/parallel_training: train its grid of 18 perceptrons for n/2 and n epochs \
         (300: the example's grid; 60: its --quick grid), in this process ÷ with pool.map on \
         2 workers (pool start included)",
        300,
        60,
        ours::cases::parallel_training,
    ),
    case_study(
        "cases/web_crawl",
        "examples/web_crawl: crawl its generated site (220 URLs, n ms latency per request), in \
         this process ÷ with 8 worker processes over a JoinableQueue (start and join included)",
        5,
        1,
        ours::cases::web_crawl,
    ),
];

/// A case study of `multiproc-examples` against its own one-process baseline: a sample is
/// the speed-up of one run of the example's work. Issue #15's target for the case studies
/// on the 2-core machine when it is quiet.
const fn case_study(
    name: &'static str,
    what: &'static str,
    n_full: u64,
    n_quick: u64,
    ours: ImplFn,
) -> Scenario {
    Scenario {
        name,
        what,
        metric: Metric::Direct {
            unit: "× speed-up",
            scale: 1.0,
            better: Better::Higher,
        },
        n_full,
        n_quick,
        pinning: Pinning::Unpinned,
        ours,
        python: false,
        floor: None,
        targets: &[Target::AtLeast(Reference::Absolute, 1.7)],
    }
}

/// An imap row: `n` squares through `imap` or `imap_unordered` on a warm pool of 2, in
/// chunks of `chunksize`, beside CPython and rayon. Chunks of 1 cost a message each way per
/// item, so those rows are smaller.
const fn imap(
    name: &'static str,
    what: &'static str,
    ours: ImplFn,
    chunksize: usize,
    targets: &'static [Target],
) -> Scenario {
    let (n_full, n_quick, floor) = if chunksize == 1 {
        (
            10_000,
            2000,
            Floor {
                label: "rayon, 2 threads, with_max_len(1)",
                run: floor::rayon_map_chunk1,
            },
        )
    } else {
        (
            100_000,
            10_000,
            Floor {
                label: "rayon, 2 threads (in-process limit)",
                run: floor::rayon_map,
            },
        )
    };
    Scenario {
        name,
        what,
        metric: K_TASKS,
        n_full,
        n_quick,
        pinning: Pinning::Unpinned,
        ours,
        python: true,
        floor: Some(floor),
        targets,
    }
}

/// The scenario called `name`.
pub(crate) fn find(name: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|scenario| scenario.name == name)
}
