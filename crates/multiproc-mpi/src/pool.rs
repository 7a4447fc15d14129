//! `MpiPool`: the Pool family with rank 0 scheduling and the other ranks serving.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use multiproc_pool::PoolError;
use multiproc_process::{FunctionRef, Portable, Target};

use crate::dispatcher::{self, Command};
use crate::error::MpiError;
use crate::handle::MpiResult;
use crate::job::Job;
use crate::launch;
use crate::result::{abandoned, all, single};
use crate::wire::Items;

/// A process pool whose workers are the other ranks of an MPI job, like mpi4py's
/// `MPIPoolExecutor` with the names of Python's `multiprocessing.Pool`.
///
/// Start the program with `mpirun -n N`. On rank 0, [`MpiPool::new`] returns the pool; on
/// every other rank it never returns: that rank serves tasks, pool after pool, until rank 0's
/// program ends, and then exits with status 0. On each serving rank, tasks run in a local
/// multiproc [`Pool`](multiproc_pool::Pool) (one worker per core by default), so a task that
/// crashes fails alone with its signal, and the rank and the job go on.
///
/// ```no_run
/// use multiproc_mpi::MpiPool;
/// fn square(x: u64) -> u64 { x * x }
///
/// let pool = MpiPool::new()?;
/// assert_eq!(pool.map(square, 0..10)?, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[doc(alias = "mpi4py.futures.MPIPoolExecutor")]
pub struct MpiPool {
    id: u64,
    group: u32,
    servers: usize,
    chunksize: Option<usize>,
    window: usize,
    isolated: bool,
}

impl fmt::Debug for MpiPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MpiPool")
            .field("id", &self.id)
            .field("spawned", &(self.group != dispatcher::WORLD))
            .field("servers", &self.servers)
            .field("chunksize", &self.chunksize)
            .finish()
    }
}

/// How to make an [`MpiPool`].
///
/// ```no_run
/// let pool = multiproc_mpi::MpiPool::builder()
///     .processes_per_rank(2)
///     .chunksize(16)
///     .build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct MpiPoolBuilder {
    spawn: Option<usize>,
    processes: Option<usize>,
    isolated: bool,
    chunksize: Option<usize>,
    window: usize,
}

/// Chunks in flight per rank unless [`MpiPoolBuilder::window`] says otherwise: at chunksize 1
/// on 3 loopback ranks, 8 gave 1.3-1.5× the tasks/s of 2 (see the crate's README).
const DEFAULT_WINDOW: usize = 8;

static NEXT_POOL: AtomicU64 = AtomicU64::new(0);

impl MpiPoolBuilder {
    /// Serve with `count` new worker processes that `MPI_Comm_spawn` starts for this pool
    /// (running this same binary), instead of the job's other ranks; see [`MpiPool::spawn`].
    ///
    /// ```no_run
    /// let pool = multiproc_mpi::MpiPool::builder().spawn(2).in_rank().build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn spawn(mut self, count: usize) -> Self {
        self.spawn = Some(count.max(1));
        self
    }

    /// Local worker processes on each serving rank (default: that node's usable cores).
    ///
    /// ```no_run
    /// let pool = multiproc_mpi::MpiPool::builder().processes_per_rank(4).build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn processes_per_rank(mut self, processes: usize) -> Self {
        self.processes = Some(processes.max(1));
        self
    }

    /// Run tasks in the serving ranks' own threads instead of local worker processes: no
    /// extra hop, but a task that crashes ends the MPI job (OpenMPI 4 has no fault
    /// tolerance).
    ///
    /// ```no_run
    /// let pool = multiproc_mpi::MpiPool::builder().in_rank().build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn in_rank(mut self) -> Self {
        self.isolated = false;
        self
    }

    /// Items per chunk sent to a rank (default: automatic, from the input's length).
    ///
    /// ```no_run
    /// let pool = multiproc_mpi::MpiPool::builder().chunksize(64).build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn chunksize(mut self, chunksize: usize) -> Self {
        self.chunksize = Some(chunksize.max(1));
        self
    }

    /// Chunks in flight on each rank at once (default 8): the bound on rank 0's outstanding
    /// work per rank. A larger window hides more of the round trip behind work, at the cost
    /// of more results held on rank 0 by an `imap` that is not consumed.
    ///
    /// ```no_run
    /// let pool = multiproc_mpi::MpiPool::builder().window(4).build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn window(mut self, window: usize) -> Self {
        self.window = window.max(1);
        self
    }

    /// Starts MPI if needed and returns the pool on rank 0. On every other rank this call
    /// never returns: see [`MpiPool`].
    ///
    /// ```no_run
    /// let pool = multiproc_mpi::MpiPool::builder().build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build(self) -> Result<MpiPool, MpiError> {
        let ranks = launch::rank_zero_or_serve()?;
        let (group, servers) = match self.spawn {
            Some(count) => (dispatcher::spawn(count)?, count),
            None => (dispatcher::WORLD, ranks),
        };
        if servers == 0 {
            return Err(MpiError::NoServers);
        }
        let id = NEXT_POOL.fetch_add(1, Ordering::Relaxed);
        dispatcher::send(Command::Open {
            group,
            pool: id,
            processes: self.processes,
            isolated: self.isolated,
        })?;
        Ok(MpiPool {
            id,
            group,
            servers,
            chunksize: self.chunksize,
            window: self.window,
            isolated: self.isolated,
        })
    }
}

impl MpiPool {
    /// The pool with default settings; see [`MpiPool`].
    ///
    /// ```no_run
    /// let pool = multiproc_mpi::MpiPool::new()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new() -> Result<MpiPool, MpiError> {
        MpiPool::builder().build()
    }

    /// A pool served by `count` workers that `MPI_Comm_spawn` starts now, for a program not
    /// started by `mpirun` (or started by `mpirun -n 1`), like mpi4py's `MPIPoolExecutor` with
    /// `max_workers`.
    ///
    /// The workers run this same binary, and never its `main`: a constructor recognises them
    /// before `main` and makes them serve. They adopt this process's function-identity key,
    /// serve this pool only, and end when it is dropped (the drop waits until they have
    /// disconnected). In a singleton, OpenMPI starts its daemon (`orted`) to carry out the
    /// spawn; it ends when this program ends MPI.
    ///
    /// ```no_run
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_mpi::MpiPool::spawn(2)?; // ./app, no mpirun needed
    /// assert_eq!(pool.map(square, 0..4)?, [0, 1, 4, 9]);
    /// drop(pool); // the two workers end here
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "mpi4py.futures.MPIPoolExecutor")]
    pub fn spawn(count: usize) -> Result<MpiPool, MpiError> {
        MpiPool::builder().spawn(count).build()
    }

    /// A builder for a pool with other settings.
    ///
    /// ```no_run
    /// let pool = multiproc_mpi::MpiPool::builder().in_rank().build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder() -> MpiPoolBuilder {
        MpiPoolBuilder {
            spawn: None,
            processes: None,
            isolated: true,
            chunksize: None,
            window: DEFAULT_WINDOW,
        }
    }

    /// The serving ranks (the job's size minus rank 0).
    ///
    /// ```no_run
    /// let pool = multiproc_mpi::MpiPool::new()?;
    /// assert!(pool.servers() >= 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn servers(&self) -> usize {
        self.servers
    }

    pub(crate) fn chunk_for(&self, len: Option<usize>) -> usize {
        if let Some(chunksize) = self.chunksize {
            return chunksize;
        }
        // CPython's rule: about four chunks per worker, here per serving rank's window.
        match len {
            Some(len) => len.div_ceil(4 * self.servers * self.window).max(1),
            None => 1,
        }
    }

    /// Encodes `items` as tasks of `function` and sends them as one chunk of `job`: for an
    /// in-rank pool as one batch, which the rank runs with one call of the function; for an
    /// isolated pool item by item, which the rank runs each in a local worker.
    pub(crate) fn send_chunk<Args: Portable>(
        &self,
        function: FunctionRef,
        items: Vec<Args>,
        job: &Arc<Job>,
    ) -> Result<(), PoolError> {
        let count = items.len();
        let encode_error = |e: postcard::Error| PoolError::Transfer {
            detail: format!("cannot encode the task's arguments: {e}"),
        };
        let items = if self.isolated {
            let mut each = Vec::with_capacity(count);
            for args in items {
                // A one-element Vec: its length, then the tuple.
                each.push(postcard::to_extend(&args, vec![1u8]).map_err(encode_error)?);
            }
            Items::Each(each)
        } else {
            Items::Batch(postcard::to_stdvec(&items).map_err(encode_error)?)
        };
        let first = job.reserve(count);
        dispatcher::send(Command::Chunk {
            group: self.group,
            pool: self.id,
            function,
            items,
            count,
            job: Arc::clone(job),
            first,
            window: self.window,
        })
        .map_err(|_| abandoned())
    }

    /// Sends every item of `items` as chunks of `job`.
    fn send_all<Args: Portable>(
        &self,
        function: FunctionRef,
        items: Vec<Args>,
        job: &Arc<Job>,
    ) -> Result<(), PoolError> {
        let chunksize = self.chunk_for(Some(items.len()));
        let mut items = items.into_iter();
        loop {
            let chunk: Vec<Args> = items.by_ref().take(chunksize).collect();
            if chunk.is_empty() {
                return Ok(());
            }
            self.send_chunk(function, chunk, job)?;
        }
    }

    /// Runs `f` once with `args` on a serving rank and waits for its result, like
    /// `Pool.apply`.
    ///
    /// ```no_run
    /// fn add(a: i32, b: i32) -> i32 { a + b }
    /// let pool = multiproc_mpi::MpiPool::new()?;
    /// assert_eq!(pool.apply(add, (2, 3))?, 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "multiprocessing.pool.Pool.apply")]
    pub fn apply<F, Args>(&self, f: F, args: Args) -> Result<F::Output, PoolError>
    where
        F: Target<Args>,
        Args: Portable,
        F::Output: Portable,
    {
        self.apply_async(f, args)?.get()
    }

    /// Sends `f(args)` to a serving rank and returns at once with a handle on its result,
    /// like `Pool.apply_async`.
    ///
    /// ```no_run
    /// fn add(a: i32, b: i32) -> i32 { a + b }
    /// let pool = multiproc_mpi::MpiPool::new()?;
    /// let pending = pool.apply_async(add, (2, 3))?;
    /// assert_eq!(pending.get()?, 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "multiprocessing.pool.Pool.apply_async")]
    #[doc(alias = "submit")]
    pub fn apply_async<F, Args>(&self, f: F, args: Args) -> Result<MpiResult<F::Output>, PoolError>
    where
        F: Target<Args>,
        Args: Portable,
        F::Output: Portable,
    {
        let job = Arc::new(Job::expecting(1));
        self.send_chunk(FunctionRef::new::<F, Args>(f), vec![args], &job)?;
        Ok(MpiResult::new(job, 1, single::<F::Output>))
    }

    /// `concurrent.futures`' name for [`apply_async`](Self::apply_async).
    ///
    /// ```no_run
    /// fn add(a: i32, b: i32) -> i32 { a + b }
    /// let pool = multiproc_mpi::MpiPool::new()?;
    /// assert_eq!(pool.submit(add, (2, 3))?.get()?, 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "concurrent.futures.Executor.submit")]
    pub fn submit<F, Args>(&self, f: F, args: Args) -> Result<MpiResult<F::Output>, PoolError>
    where
        F: Target<Args>,
        Args: Portable,
        F::Output: Portable,
    {
        self.apply_async(f, args)
    }

    /// Applies `f` to every item, spread over the serving ranks, and returns the results in
    /// order, like `Pool.map`. The first failed item's error is returned.
    ///
    /// ```no_run
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_mpi::MpiPool::new()?;
    /// assert_eq!(pool.map(square, 0..4)?, [0, 1, 4, 9]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "multiprocessing.pool.Pool.map")]
    pub fn map<F, A, I>(&self, f: F, iterable: I) -> Result<Vec<F::Output>, PoolError>
    where
        F: Target<(A,)>,
        A: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = A>,
    {
        self.starmap(f, iterable.into_iter().map(|a| (a,)))
    }

    /// Like [`map`](Self::map) for a function of several arguments: each item is a tuple,
    /// like `Pool.starmap`.
    ///
    /// ```no_run
    /// fn add(a: i32, b: i32) -> i32 { a + b }
    /// let pool = multiproc_mpi::MpiPool::new()?;
    /// assert_eq!(pool.starmap(add, [(1, 2), (3, 4)])?, [3, 7]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "multiprocessing.pool.Pool.starmap")]
    pub fn starmap<F, Args, I>(&self, f: F, iterable: I) -> Result<Vec<F::Output>, PoolError>
    where
        F: Target<Args>,
        Args: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = Args>,
    {
        let items: Vec<Args> = iterable.into_iter().collect();
        let total = items.len();
        let job = Arc::new(Job::expecting(total));
        self.send_all(FunctionRef::new::<F, Args>(f), items, &job)?;
        let state = job
            .wait_until(None, |state| state.finished())
            .ok_or_else(abandoned)?;
        all(&state, total)
    }

    /// Sends `f` of every item to the ranks and returns at once with a handle on all the
    /// results, like `Pool.map_async`; add a [`callback`](MpiResult::callback) to hear of
    /// them without waiting.
    ///
    /// ```no_run
    /// use std::sync::mpsc;
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_mpi::MpiPool::new()?;
    /// let (tx, rx) = mpsc::channel();
    /// let pending = pool
    ///     .map_async(square, 0..4)?
    ///     .callback(move |all: &Vec<u64>| tx.send(all.iter().sum::<u64>()).unwrap());
    /// assert_eq!(rx.recv()?, 14);
    /// assert_eq!(pending.get()?, [0, 1, 4, 9]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "multiprocessing.pool.Pool.map_async")]
    pub fn map_async<F, A, I>(
        &self,
        f: F,
        iterable: I,
    ) -> Result<MpiResult<Vec<F::Output>>, PoolError>
    where
        F: Target<(A,)>,
        A: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = A>,
    {
        self.starmap_async(f, iterable.into_iter().map(|a| (a,)))
    }

    /// Like [`map_async`](Self::map_async) for a function of several arguments, like
    /// `Pool.starmap_async`.
    ///
    /// ```no_run
    /// fn add(a: i32, b: i32) -> i32 { a + b }
    /// let pool = multiproc_mpi::MpiPool::new()?;
    /// assert_eq!(pool.starmap_async(add, [(1, 2), (3, 4)])?.get()?, [3, 7]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "multiprocessing.pool.Pool.starmap_async")]
    pub fn starmap_async<F, Args, I>(
        &self,
        f: F,
        iterable: I,
    ) -> Result<MpiResult<Vec<F::Output>>, PoolError>
    where
        F: Target<Args>,
        Args: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = Args>,
    {
        let items: Vec<Args> = iterable.into_iter().collect();
        let total = items.len();
        let job = Arc::new(Job::expecting(total));
        self.send_all(FunctionRef::new::<F, Args>(f), items, &job)?;
        Ok(MpiResult::new(job, total, all::<F::Output>))
    }

    pub(crate) fn in_flight_bound(&self) -> usize {
        self.servers * self.window
    }
}

impl Drop for MpiPool {
    fn drop(&mut self) {
        if self.group == dispatcher::WORLD {
            let _ = dispatcher::send(Command::Close {
                group: self.group,
                pool: self.id,
                done: None,
            });
            return;
        }
        // Spawned workers end with their pool: wait until they have.
        let (done, ended) = std::sync::mpsc::channel();
        if dispatcher::send(Command::Close {
            group: self.group,
            pool: self.id,
            done: Some(done),
        })
        .is_ok()
        {
            let _ = ended.recv();
        }
    }
}
