//! `PoolBuilder`: the number of workers, their initializer, their task limit and their start
//! method, checked before the pool starts.

use std::fmt;
use std::sync::Mutex;

use multiproc_process::{
    Context, Limits, Portable, StartMethod, Target, get_context, get_start_method,
    process_cpu_count,
};

use crate::error::PoolError;
use crate::pool::Pool;
use crate::scheduler::{MakeWorker, WorkerSpec};
use crate::worker::{WorkerConfig, init_then_run};

/// Configures and starts a [`Pool`]: Python's `Pool(processes, initializer, initargs,
/// maxtasksperchild, context)`.
///
/// ```
/// use multiproc_pool::Pool;
/// use multiproc_process::StartMethod;
/// fn square(x: u64) -> u64 { x * x }
/// let pool = Pool::builder()
///     .processes(2)
///     .maxtasksperchild(100)
///     .start_method(StartMethod::Spawn)
///     .build()?;
/// assert_eq!(pool.map(square, [3, 4])?, [9, 16]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Default)]
pub struct PoolBuilder {
    processes: Option<usize>,
    initializer: Option<MakeWorker>,
    max_tasks: Option<u64>,
    method: Option<StartMethod>,
    max_result_size: Option<usize>,
    limits: Limits,
}

impl fmt::Debug for PoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolBuilder")
            .field("processes", &self.processes)
            .field("initializer", &self.initializer.is_some())
            .field("maxtasksperchild", &self.max_tasks)
            .field("start_method", &self.method)
            .field("max_result_size", &self.max_result_size)
            .field("limits", &self.limits)
            .finish()
    }
}

impl PoolBuilder {
    /// The number of worker processes; by default [`process_cpu_count`] (the CPUs this process
    /// may use), as in Python 3.13.
    ///
    /// ```
    /// let pool = multiproc_pool::Pool::builder().processes(2).build()?;
    /// assert_eq!(pool.worker_pids().len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn processes(mut self, processes: usize) -> Self {
        self.processes = Some(processes);
        self
    }

    /// A function every worker runs once, with `args`, before its first task (Python's
    /// `initializer` and `initargs`): to set up per-process state such as a global, a logger
    /// or a connection, that the tasks of that worker then see.
    ///
    /// If it panics, the tasks sent to that worker fail with [`PoolError::Initializer`](crate::PoolError::Initializer), and
    /// the next worker is started after a pause that doubles with each failure in a row
    /// (from 50 ms up to 5 s), so that an initializer that always fails does not make the
    /// pool start processes in a tight loop (CPython's does). After 5 workers in a row whose
    /// initializer failed, with no result in between, the pool stops: every pending and
    /// later task fails with [`PoolError::Initializer`](crate::PoolError::Initializer), which carries the panic's message.
    ///
    /// ```
    /// use multiproc_pool::{Pool, PoolError};
    /// fn broken_setup() { panic!("no database") }
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = Pool::builder().processes(2).initializer(broken_setup, ()).build()?;
    /// let failed = pool.map(square, 0..10).unwrap_err();
    /// assert!(matches!(&failed, PoolError::Initializer(p) if p.message == "no database"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// An initializer made [`fallible`](crate::fallible) fails the same way when it returns
    /// `Err`, the message being the error's chain (and the location `None`).
    ///
    /// ```
    /// use multiproc_pool::{Pool, PoolError, fallible};
    /// fn connect() -> Result<(), String> { Err("no database".to_owned()) }
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = Pool::builder().processes(1).initializer(fallible(connect), ()).build()?;
    /// let failed = pool.map(square, 0..10).unwrap_err();
    /// assert!(matches!(&failed, PoolError::Initializer(p) if p.message == "no database"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// The arguments travel to each worker as ordinary process arguments (inside an
    /// ipc-channel message), so they may hold channel and shared-memory handles (an
    /// `IpcSender`, a `multiproc` `Queue` or `Value`): that is how to give every worker such a
    /// handle, as in Python (task arguments are plain serde data, see [`Pool`]). They are
    /// cloned once per worker started.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use multiproc_pool::Pool;
    /// static OFFSET: AtomicU64 = AtomicU64::new(0);
    /// fn init(offset: u64) { OFFSET.store(offset, Ordering::Relaxed) }
    /// fn shifted(x: u64) -> u64 { x + OFFSET.load(Ordering::Relaxed) }
    /// let pool = Pool::builder().processes(2).initializer(init, (100,)).build()?;
    /// assert_eq!(pool.map(shifted, [1, 2])?, [101, 102]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn initializer<F, Args>(mut self, f: F, args: Args) -> Self
    where
        F: Target<Args, Output = ()>,
        Args: Portable + Clone,
    {
        let args = Mutex::new(args);
        self.initializer = Some(Box::new(move |method, tasks, results, config| {
            // Captures only `f`, a zero-sized function item: still a valid process target.
            let entry = move |tasks, results, config, args: Args| {
                init_then_run(f, args, tasks, results, config)
            };
            let args = args.lock().unwrap_or_else(|p| p.into_inner()).clone();
            get_context(method).process(entry, (tasks, results, config, args))
        }));
        self
    }

    /// Replace each worker after it has run this many chunks (Python's `maxtasksperchild`),
    /// to bound what a leaking task can accumulate. 0 makes [`build`](PoolBuilder::build)
    /// fail, as Python raises `ValueError`.
    ///
    /// ```
    /// let refused = multiproc_pool::Pool::builder().maxtasksperchild(0).build();
    /// assert!(refused.unwrap_err().to_string().contains("maxtasksperchild"));
    /// ```
    pub fn maxtasksperchild(mut self, tasks: u64) -> Self {
        self.max_tasks = Some(tasks);
        self
    }

    /// The start method of the workers; by default the program's
    /// ([`get_start_method`]).
    ///
    /// ```
    /// use multiproc_pool::{Pool, StartMethod};
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = Pool::builder().processes(1).start_method(StartMethod::Fork).build()?;
    /// assert_eq!(pool.apply(square, (5,))?, 25);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn start_method(mut self, method: StartMethod) -> Self {
        self.method = Some(method);
        self
    }

    /// The largest message a worker may send back on its result channel, in bytes
    /// ([`DEFAULT_MAX_RESULT_SIZE`](crate::DEFAULT_MAX_RESULT_SIZE), 1 GiB, unless set). A
    /// chunk's results travel as one message. A larger one, or a forged header that claims
    /// more (say 2^62 bytes), is dropped unread: never an allocation of the claimed size.
    /// The worker that sent it is no longer trusted: it is killed and replaced, and its tasks
    /// in flight fail with [`PoolError::CorruptResults`](crate::PoolError::CorruptResults)
    /// naming the sizes.
    ///
    /// ```
    /// use multiproc_pool::{Pool, PoolError};
    /// fn big(n: usize) -> Vec<u8> { vec![1; n] }
    /// let pool = Pool::builder().processes(1).max_result_size(1 << 20).build()?;
    /// assert_eq!(pool.apply(big, (1000,))?.len(), 1000);
    /// let refused = pool.apply(big, (4 << 20,)).unwrap_err();
    /// assert!(matches!(refused, PoolError::CorruptResults { .. }), "{refused}");
    /// assert!(refused.to_string().contains("larger than the maximum"), "{refused}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn max_result_size(mut self, bytes: usize) -> Self {
        self.max_result_size = Some(bytes);
        self
    }

    /// Resource limits for every worker (see [`Limits`]), set by the worker on itself before
    /// its initializer and its first task: a memory cap, a CPU time cap, a `nice` value.
    ///
    /// A task that hits one fails alone with [`PoolError::LimitExceeded`](crate::PoolError::LimitExceeded),
    /// which names the limit; its worker is replaced and the pool goes on. The CPU time cap
    /// counts per chunk (one task, unless `chunksize` groups several): the worker gives each
    /// chunk that much CPU time from where it starts. The memory cap (`RLIMIT_DATA`) counts
    /// what the worker holds, tasks and all, at any moment. cgroup v2's `memory.max` is not
    /// used (it needs a delegated cgroup subtree per worker, which most programs lack).
    ///
    /// ```
    /// use std::time::Duration;
    /// use multiproc_pool::{Pool, PoolError};
    /// use multiproc_process::{LimitExceeded, Limits};
    /// fn spin_or_square(x: u64) -> u64 {
    ///     if x == 0 { loop { std::hint::black_box(x); } }
    ///     x * x
    /// }
    /// let limits = Limits::new().cpu_time(Duration::from_secs(1)).nice(10);
    /// let pool = Pool::builder().processes(1).limits(limits).build()?;
    /// let err = pool.apply(spin_or_square, (0,)).unwrap_err();
    /// assert!(matches!(err, PoolError::LimitExceeded { limit: LimitExceeded::CpuTime { .. }, .. }));
    /// assert_eq!(pool.apply(spin_or_square, (3,))?, 9);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Python's `context=`: the start method of `context`.
    ///
    /// ```
    /// use multiproc_pool::{Pool, StartMethod};
    /// let context = multiproc_process::get_context(StartMethod::Spawn);
    /// let pool = Pool::builder().processes(1).context(context).build()?;
    /// assert_eq!(pool.start_method(), StartMethod::Spawn);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn context(self, context: Context) -> Self {
        self.start_method(context.start_method())
    }

    /// Starts the workers. Fails if a worker cannot be started (the initializer's arguments
    /// that cannot be serialized included), or if `processes` is 0.
    ///
    /// ```
    /// use multiproc_pool::Pool;
    /// assert!(Pool::builder().processes(0).build().is_err());
    /// let pool = Pool::builder().processes(1).maxtasksperchild(10).build()?;
    /// assert_eq!(pool.processes(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build(self) -> Result<Pool, PoolError> {
        let processes = self.processes.unwrap_or_else(process_cpu_count);
        if self.max_tasks == Some(0) {
            return Err(PoolError::InvalidArgument {
                detail: "maxtasksperchild must be at least 1".into(),
            });
        }
        if processes == 0 {
            return Err(PoolError::InvalidArgument {
                detail: "a pool needs at least one process".into(),
            });
        }
        let spec = WorkerSpec {
            method: self.method.unwrap_or_else(get_start_method),
            config: WorkerConfig {
                max_tasks: self.max_tasks,
                cpu_per_chunk: self.limits.cpu_time_limit(),
            },
            make: self.initializer,
            max_result_size: self
                .max_result_size
                .unwrap_or(crate::DEFAULT_MAX_RESULT_SIZE),
            limits: self.limits,
        };
        Pool::launch(spec, processes, self.max_tasks)
    }
}

impl Pool {
    /// A builder for a pool with an initializer, `maxtasksperchild` or a start method.
    ///
    /// ```
    /// use multiproc_pool::{Pool, StartMethod};
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = Pool::builder().processes(2).start_method(StartMethod::Forkserver).build()?;
    /// assert_eq!(pool.map(square, 0..3)?, [0, 1, 4]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder() -> PoolBuilder {
        PoolBuilder::default()
    }
}
