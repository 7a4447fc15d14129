//! [`Tasks`]: the pool's task methods with [`Options`] for one call.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use multiproc_process::{FunctionRef, Portable, Target};

use crate::async_result::{ApplySink, AsyncResult, Cell, MapSink};
use crate::callbacks::Callbacks;
use crate::chunk::{Chunk, Sink, Split, auto_chunksize, chunk_timeout, encode_chunk, split_inputs};
use crate::error::PoolError;
use crate::get_wake::GetWake;
use crate::imap::{IMap, IterSource, Stream};
use crate::options::Options;
use crate::progress::{Choice, Progress};
use crate::scheduler::{RunState, Shared};

/// A group of encoded chunks is handed to the scheduler once it holds this many bytes of
/// arguments (small chunks go in large groups: each submission refills the workers, and
/// refilling them a few chunks at a time costs a message and a wake-up each).
const SUBMIT_BYTES: usize = 16 * 1024;

/// A pool with [`Options`](crate::Options) for the next call: made by [`Pool::with`](crate::Pool::with), [`Pool::chunksize`](crate::Pool::chunksize)
/// and [`Pool::timeout`](crate::Pool::timeout); it has the same task methods as [`Pool`](crate::Pool).
///
/// ```
/// use multiproc_pool::Pool;
/// fn square(x: u64) -> u64 { x * x }
/// let pool = Pool::new(2)?;
/// assert_eq!(pool.chunksize(3).map(square, 0..5)?, [0, 1, 4, 9, 16]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// `Tasks` is `Clone`, not `Copy`: with the `progress` feature it may hold a progress bar.
#[derive(Clone)]
pub struct Tasks<'p> {
    shared: &'p Arc<Shared>,
    options: Options,
    /// A bar or style of the caller's (the `progress` feature); else `options.progress_bar`.
    progress: Choice,
}

impl fmt::Debug for Tasks<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tasks")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<'p> Tasks<'p> {
    pub(crate) fn new(shared: &'p Arc<Shared>, options: Options) -> Tasks<'p> {
        Tasks {
            shared,
            options,
            progress: Choice::default(),
        }
    }

    /// The bar these tasks draw: the caller's, or the default one if
    /// [`Options::progress_bar`] asked for it.
    // Without the `progress` feature `Choice` has only `Hidden`, so the second arm is dead.
    #[cfg_attr(not(feature = "progress"), allow(unreachable_patterns))]
    fn progress_choice(&self) -> Choice {
        match self.progress {
            Choice::Hidden => Choice::from(self.options.progress_bar),
            ref chosen => chosen.clone(),
        }
    }

    /// Draw the default progress bar with a style of your own while this `map`, `starmap`,
    /// `imap` or `imap_unordered` runs (the `progress` feature); see
    /// [`Options::progress_bar`] for what the bar counts.
    ///
    /// ```
    /// use indicatif::ProgressStyle;
    /// fn double(x: u64) -> u64 { 2 * x }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// let style = ProgressStyle::with_template("{msg} {bar:40} {pos}/{len}")?;
    /// let doubled: Vec<u64> =
    ///     pool.chunksize(1).progress_style(style).imap(double, 0..10).collect::<Result<_, _>>()?;
    /// assert_eq!(doubled[9], 18);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "progress")]
    #[cfg_attr(docsrs, doc(cfg(feature = "progress")))]
    pub fn progress_style(mut self, style: indicatif::ProgressStyle) -> Tasks<'p> {
        self.progress = Choice::Style(style);
        self
    }

    /// Drive a progress bar of your own while this `map`, `starmap`, `imap` or
    /// `imap_unordered` runs (the `progress` feature; `apply` has no bar): one in a
    /// `MultiProgress`, one with a message or a draw target of your choice. The pool sets its
    /// length to the number of tasks (for an `imap`, once the input is exhausted), advances
    /// it by one per task whose result arrived (a chunk's tasks arrive together), and
    /// finishes it at the end; your style and message stay. A bar already advanced starts
    /// from its position.
    ///
    /// ```
    /// use indicatif::{ProgressBar, ProgressDrawTarget};
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    /// let squares: Vec<u64> = pool
    ///     .chunksize(1)
    ///     .progress(bar.clone())
    ///     .imap_unordered(square, 0..20)
    ///     .collect::<Result<_, _>>()?;
    /// assert_eq!(squares.len(), 20);
    /// assert_eq!((bar.position(), bar.length()), (20, Some(20)));
    /// assert!(bar.is_finished());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "progress")]
    #[cfg_attr(docsrs, doc(cfg(feature = "progress")))]
    pub fn progress(mut self, bar: indicatif::ProgressBar) -> Tasks<'p> {
        self.progress = Choice::Bar(bar);
        self
    }

    fn shared(&self) -> &'p Shared {
        self.shared
    }

    /// Why the call cannot run: an option out of range (Python's `ValueError`), or a pool of
    /// another process.
    fn check(&self) -> Result<(), PoolError> {
        let invalid = |detail: &str| PoolError::InvalidArgument {
            detail: detail.to_owned(),
        };
        if self.options.chunksize == Some(0) {
            return Err(invalid("chunksize must be at least 1"));
        }
        if self.options.buffersize == Some(0) {
            return Err(invalid("buffersize must be at least 1"));
        }
        self.shared().check_process()
    }

    fn callbacks(&self) -> Arc<Callbacks> {
        self.shared().callbacks.clone()
    }

    fn get_wake(&self) -> Option<GetWake> {
        Some(self.shared().get_wake.clone())
    }

    fn timeout_for(&self, tasks: usize) -> Option<Duration> {
        chunk_timeout(self.options.timeout, tasks)
    }

    /// Encodes `items` in chunks and submits them; failures go to `sink`.
    fn submit_all<Args: Portable>(&self, func: FunctionRef, items: Vec<Args>, sink: Arc<dyn Sink>) {
        let chunksize = self
            .options
            .chunksize
            .unwrap_or_else(|| auto_chunksize(items.len(), self.shared.processes));
        // Chunks are submitted in groups as they are encoded, so that the workers start on
        // the first ones while the rest are encoded.
        let mut group = Vec::new();
        let mut group_bytes = 0;
        let mut start = 0;
        for batch in items.chunks(chunksize.max(1)) {
            let (input, positions) = encode_chunk(start, batch, &*sink);
            start += positions.len;
            if positions.count() > 0 {
                let timeout = self.timeout_for(positions.count());
                group_bytes += input.0.len();
                let split = Some(split_inputs::<Args> as Split);
                group.push(Chunk::new(
                    func,
                    input,
                    positions,
                    timeout,
                    sink.clone(),
                    split,
                ));
                if group_bytes >= SUBMIT_BYTES {
                    self.submit_group(std::mem::take(&mut group));
                    group_bytes = 0;
                }
            }
        }
        if !group.is_empty() {
            self.submit_group(group);
        }
    }

    fn submit_group(&self, chunks: Vec<Chunk>) {
        if let Err((refused, error)) = self.shared().submit(chunks) {
            for chunk in refused {
                chunk.fail(error.clone());
            }
        }
    }

    /// [`Pool::apply`](crate::Pool::apply) with these options.
    ///
    /// ```
    /// use std::time::Duration;
    /// fn add(a: u64, b: u64) -> u64 { a + b }
    /// let pool = multiproc_pool::Pool::new(1)?;
    /// assert_eq!(pool.timeout(Duration::from_secs(30)).apply(add, (2, 3))?, 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn apply<F, Args>(&self, f: F, args: Args) -> Result<F::Output, PoolError>
    where
        F: Target<Args>,
        Args: Portable,
        F::Output: Portable,
    {
        self.apply_async(f, args).get()
    }

    /// [`Pool::apply_async`](crate::Pool::apply_async) with these options.
    ///
    /// ```
    /// use std::time::Duration;
    /// fn add(a: u64, b: u64) -> u64 { a + b }
    /// let pool = multiproc_pool::Pool::new(1)?;
    /// let sum = pool.timeout(Duration::from_secs(30)).apply_async(add, (2, 3));
    /// assert_eq!(sum.get()?, 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn apply_async<F, Args>(&self, f: F, args: Args) -> AsyncResult<F::Output>
    where
        F: Target<Args>,
        Args: Portable,
        F::Output: Portable,
    {
        let cell = Cell::new(
            Progress::new(Some(1), false),
            self.callbacks(),
            self.get_wake(),
        );
        if let Err(refused) = self.check() {
            cell.progress.add(1);
            cell.set(Err(refused));
            return AsyncResult::from_cell(cell);
        }
        let sink: Arc<dyn Sink> = Arc::new(ApplySink { cell: cell.clone() });
        self.submit_all(FunctionRef::new::<F, Args>(f), vec![args], sink.clone());
        AsyncResult::submitted(cell, self.shared, sink)
    }

    /// [`Pool::map`](crate::Pool::map) with these options.
    ///
    /// ```
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// assert_eq!(pool.chunksize(1).map(square, 0..4)?, [0, 1, 4, 9]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn map<F, A, I>(&self, f: F, iterable: I) -> Result<Vec<F::Output>, PoolError>
    where
        F: Target<(A,)>,
        A: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = A>,
    {
        self.map_async(f, iterable).get()
    }

    /// [`Pool::map_async`](crate::Pool::map_async) with these options.
    ///
    /// ```
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// let squares = pool.chunksize(1).map_async(square, 0..4);
    /// assert_eq!(squares.total(), 4);
    /// assert_eq!(squares.get()?, [0, 1, 4, 9]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn map_async<F, A, I>(&self, f: F, iterable: I) -> AsyncResult<Vec<F::Output>>
    where
        F: Target<(A,)>,
        A: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = A>,
    {
        self.starmap_async(f, iterable.into_iter().map(|a| (a,)))
    }

    /// [`Pool::starmap`](crate::Pool::starmap) with these options.
    ///
    /// ```
    /// fn add(a: u64, b: u64) -> u64 { a + b }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// assert_eq!(pool.chunksize(1).starmap(add, [(1, 2), (3, 4)])?, [3, 7]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn starmap<F, Args, I>(&self, f: F, iterable: I) -> Result<Vec<F::Output>, PoolError>
    where
        F: Target<Args>,
        Args: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = Args>,
    {
        self.starmap_async(f, iterable).get()
    }

    /// [`Pool::starmap_async`](crate::Pool::starmap_async) with these options.
    ///
    /// ```
    /// fn add(a: u64, b: u64) -> u64 { a + b }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// let sums = pool.chunksize(1).starmap_async(add, [(1, 2), (3, 4)]);
    /// assert_eq!(sums.get()?, [3, 7]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn starmap_async<F, Args, I>(&self, f: F, iterable: I) -> AsyncResult<Vec<F::Output>>
    where
        F: Target<Args>,
        Args: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = Args>,
    {
        if let Err(refused) = self.check() {
            let cell = Cell::new(
                Progress::new(Some(0), false),
                self.callbacks(),
                self.get_wake(),
            );
            cell.set(Err(refused));
            return AsyncResult::from_cell(cell);
        }
        let items: Vec<Args> = iterable.into_iter().collect();
        let progress = Progress::new(Some(items.len()), self.progress_choice());
        let cell = Cell::new(progress, self.callbacks(), self.get_wake());
        if items.is_empty() {
            cell.set(Ok(Vec::new()));
            return AsyncResult::from_cell(cell);
        }
        let sink: Arc<dyn Sink> = Arc::new(MapSink::new(items.len(), cell.clone()));
        self.submit_all(FunctionRef::new::<F, Args>(f), items, sink.clone());
        AsyncResult::submitted(cell, self.shared, sink)
    }

    /// [`Pool::imap`](crate::Pool::imap) with these options.
    ///
    /// ```
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// let squares: Vec<u64> = pool.chunksize(2).imap(square, 0..5).collect::<Result<_, _>>()?;
    /// assert_eq!(squares, [0, 1, 4, 9, 16]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn imap<F, A, I>(&self, f: F, iterable: I) -> IMap<'p, F::Output>
    where
        F: Target<(A,)>,
        A: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = A>,
        I::IntoIter: Send + 'p,
    {
        self.lazy(
            true,
            FunctionRef::new::<F, (A,)>(f),
            iterable.into_iter().map(|a| (a,)),
        )
    }

    /// [`Pool::imap_unordered`](crate::Pool::imap_unordered) with these options.
    ///
    /// ```
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// let mut squares: Vec<u64> =
    ///     pool.chunksize(2).imap_unordered(square, 0..5).collect::<Result<_, _>>()?;
    /// squares.sort();
    /// assert_eq!(squares, [0, 1, 4, 9, 16]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn imap_unordered<F, A, I>(&self, f: F, iterable: I) -> IMap<'p, F::Output>
    where
        F: Target<(A,)>,
        A: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = A>,
        I::IntoIter: Send + 'p,
    {
        self.lazy(
            false,
            FunctionRef::new::<F, (A,)>(f),
            iterable.into_iter().map(|a| (a,)),
        )
    }

    fn lazy<R, Args, It>(&self, ordered: bool, func: FunctionRef, iter: It) -> IMap<'p, R>
    where
        R: Portable,
        Args: Portable,
        It: Iterator<Item = Args> + Send + 'p,
    {
        let shared = self.shared();
        let refused = self.check().err().or_else(|| {
            let core = shared.core();
            (core.state != RunState::Running).then(|| core.refusal())
        });
        if let Some(refused) = refused {
            // Yields this one error and ends.
            return IMap::refused(shared, func, refused);
        }
        let exact = match iter.size_hint() {
            (lower, Some(upper)) if lower == upper => Some(lower),
            _ => None,
        };
        let processes = self.shared.processes;
        // CPython's default for imap: one task per chunk, so that results stream and a
        // worker's death costs one item.
        let chunksize = self.options.chunksize.unwrap_or(1);
        let window = self
            .options
            .buffersize
            .unwrap_or(16 * processes)
            .saturating_mul(chunksize);
        let stream = Stream::new(ordered, Progress::new(exact, self.progress_choice()));
        let source = Box::new(IterSource { iter, chunksize });
        let split = Some(split_inputs::<Args> as Split);
        IMap::new(
            shared,
            stream,
            source,
            func,
            split,
            self.options.timeout,
            window,
        )
    }
}
