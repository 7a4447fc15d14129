//! `IMap`: the lazy, bounded iterator behind `imap` and `imap_unordered`.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Poll, Waker};
use std::time::Duration;

use multiproc_process::{FunctionRef, Portable};

use crate::chunk::{
    Chunk, Outcome, Positions, Sink, Split, chunk_timeout, decode_outputs, encode_chunk,
};
use crate::error::PoolError;
use crate::progress::Progress;
use crate::run::Run;
use crate::scheduler::Shared;
use crate::wire::Bytes;

/// The lazy iterator returned by [`Pool::imap`](crate::Pool::imap) and
/// [`Pool::imap_unordered`](crate::Pool::imap_unordered): one `Result` per input item.
///
/// It pulls items from its input only as results are consumed: at most a window of tasks
/// (see [`Options::buffersize`](crate::Options::buffersize)) is submitted and not yet
/// yielded, so an endless input runs in constant memory. Dropping it early (`break`)
/// discards the tasks not yet started; those already running finish and are thrown away.
/// Used in a child forked from the pool's process, it yields one
/// [`PoolError::WrongProcess`] where it would wait, and ends.
///
/// ```
/// use multiproc_pool::Pool;
/// fn square(x: u64) -> u64 { x * x }
/// let pool = Pool::new(2)?;
/// // An endless input: only what is consumed (plus the window) is ever computed.
/// let firsts: Vec<u64> = pool.imap(square, 0..).take(5).map(Result::unwrap).collect();
/// assert_eq!(firsts, [0, 1, 4, 9, 16]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[doc(alias = "multiprocessing.pool.IMapIterator")]
pub struct IMap<'a, R> {
    shared: &'a Shared,
    stream: Arc<Stream<R>>,
    source: Box<dyn ChunkSource + Send + 'a>,
    func: FunctionRef,
    split: Option<Split>,
    timeout: Option<Duration>,
    /// Items taken from the input so far (every one gets a result).
    submitted: usize,
    yielded: usize,
    /// The most items submitted and not yet yielded.
    window: usize,
    input_done: bool,
    /// Used in a forked child: the one error was yielded, the iterator is over.
    wrong_process: bool,
    /// The number of items, when the input said so exactly.
    len: Option<usize>,
    /// Results taken from the stream and not yet yielded, in yield order: the reader locks
    /// the stream once for all the results ready, not once per result.
    taken: VecDeque<Result<R, PoolError>>,
    /// Runs taken from the stream, to decode once its lock is released (kept for its
    /// allocation).
    runs: Vec<Run<R>>,
}

/// Produces the encoded chunks of an input, one at a time.
pub(crate) trait ChunkSource {
    fn next_chunk(&mut self, start: usize, sink: &dyn Sink) -> Option<(Bytes, Positions)>;
}

pub(crate) struct IterSource<I> {
    pub(crate) iter: I,
    pub(crate) chunksize: usize,
}

impl<I, Args> ChunkSource for IterSource<I>
where
    I: Iterator<Item = Args>,
    Args: Portable,
{
    fn next_chunk(&mut self, start: usize, sink: &dyn Sink) -> Option<(Bytes, Positions)> {
        let items: Vec<Args> = self.iter.by_ref().take(self.chunksize).collect();
        if items.is_empty() {
            return None;
        }
        Some(encode_chunk(start, &items, sink))
    }
}

/// Results waiting to be yielded.
pub(crate) struct Stream<R> {
    state: Mutex<StreamState<R>>,
    changed: Condvar,
    cancelled: AtomicBool,
    ordered: bool,
    pub(crate) progress: Progress,
}

struct StreamState<R> {
    /// Ordered: runs of results of consecutive positions, by their first position. The
    /// reader takes whole runs, from `base` (the next position to yield) on: one lock and
    /// one hand-over per chunk, not per result.
    runs: BTreeMap<usize, Run<R>>,
    base: usize,
    /// Unordered: runs of results as they arrived.
    arrived: VecDeque<Run<R>>,
    /// The task that awaits the next result (see the `Stream` impl).
    waker: Option<Waker>,
    /// Threads blocked in `next` on `changed`: a store wakes them only if there are any
    /// (a condvar's notify is a system call even when nobody waits).
    sleepers: usize,
}

impl<R: Portable> StreamState<R> {
    /// Keeps the results of the positions from `start` on, minus any already yielded (a
    /// position cannot come again).
    fn insert_run(&mut self, start: usize, mut run: Run<R>) {
        let yielded = self.base.saturating_sub(start).min(run.len());
        if yielded > 0 {
            run = run.without_first(yielded);
        }
        if run.len() > 0 {
            self.runs.insert(start + yielded, run);
        }
    }

    /// The run of results from `base` on, if it is in. Runs that start below `base` (results
    /// delivered twice, in pieces that overlap) are settled first: what of one reaches past
    /// `base` becomes the run there, unless one starts there already, and the rest is
    /// dropped; so every position that was delivered at all is found.
    fn take_at_base(&mut self) -> Option<Run<R>> {
        while let Some((&start, _)) = self.runs.range(..self.base).next() {
            let Some(run) = self.runs.remove(&start) else {
                break;
            };
            if start + run.len() > self.base && !self.runs.contains_key(&self.base) {
                let rest = run.without_first(self.base - start);
                self.runs.insert(self.base, rest);
            }
        }
        self.runs.remove(&self.base)
    }

    /// Whether the run from `base` on is in (settling overlaps as [`take_at_base`] does).
    ///
    /// [`take_at_base`]: StreamState::take_at_base
    fn ready_at_base(&mut self) -> bool {
        if self.runs.contains_key(&self.base) {
            return true;
        }
        if self.runs.range(..self.base).next().is_none() {
            return false;
        }
        match self.take_at_base() {
            Some(run) => {
                self.runs.insert(self.base, run);
                true
            }
            None => false,
        }
    }
}

impl<R: Portable> Stream<R> {
    pub(crate) fn new(ordered: bool, progress: Progress) -> Arc<Stream<R>> {
        Arc::new(Stream {
            state: Mutex::new(StreamState {
                runs: BTreeMap::new(),
                base: 0,
                arrived: VecDeque::new(),
                waker: None,
                sleepers: 0,
            }),
            changed: Condvar::new(),
            cancelled: AtomicBool::new(false),
            ordered,
            progress,
        })
    }

    fn lock(&self) -> MutexGuard<'_, StreamState<R>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn store(&self, results: impl IntoIterator<Item = (usize, Result<R, PoolError>)>) {
        if self.cancelled.load(Ordering::Relaxed) {
            return;
        }
        let mut state = self.lock();
        let mut added = 0;
        for (position, result) in results {
            added += 1;
            self.keep(&mut state, position, Run::Decoded(vec![result]));
        }
        self.stored(state, added);
    }

    /// Stores the results of the consecutive positions from `start` on, as one run.
    fn store_run(&self, start: usize, run: Run<R>) {
        let mut state = self.lock();
        let added = run.len();
        self.keep(&mut state, start, run);
        self.stored(state, added);
    }

    /// Keeps a run: by position in order, at the end of the arrivals otherwise.
    fn keep(&self, state: &mut StreamState<R>, start: usize, run: Run<R>) {
        if self.ordered {
            state.insert_run(start, run);
        } else {
            state.arrived.push_back(run);
        }
    }

    /// After a store: wakes the reader if it can go on, and counts the results.
    fn stored(&self, mut state: MutexGuard<'_, StreamState<R>>, added: usize) {
        // In order, only the next position lets the reader go on: results further ahead
        // (another worker's chunk) are kept without waking it. Every position gets its
        // result or its error, so the wake-up for the next one always comes.
        let ready = !self.ordered || state.ready_at_base();
        let waker = if ready { state.waker.take() } else { None };
        let sleepers = ready && state.sleepers > 0;
        drop(state);
        self.progress.add(added);
        if sleepers {
            self.changed.notify_all();
        }
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Moves every run that can be yielded now, in yield order, to the end of `into`.
    fn take_ready(&self, state: &mut StreamState<R>, into: &mut Vec<Run<R>>) {
        if self.ordered {
            while let Some(run) = state.take_at_base() {
                state.base += run.len();
                into.push(run);
            }
        } else {
            into.extend(state.arrived.drain(..));
        }
    }
}

impl<R: Portable> Sink for Stream<R> {
    fn chunk_done(&self, positions: &Positions, outcome: Outcome) {
        if self.cancelled.load(Ordering::Relaxed) {
            return;
        }
        match outcome {
            // Every position of the chunk travelled: the reader decodes its bytes (see
            // `Run`).
            Ok(output) if positions.skipped.is_empty() => {
                let count = positions.count();
                let start = positions.start;
                self.store_run(
                    start,
                    Run::Encoded {
                        output,
                        start,
                        count,
                    },
                );
            }
            outcome => self.store(decode_outputs::<R>(positions, outcome)),
        }
    }

    fn task_failed(&self, position: usize, error: PoolError) {
        self.store([(position, Err(error.at(position)))]);
    }

    fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }
}

impl<'a, R: Portable> IMap<'a, R> {
    pub(crate) fn new(
        shared: &'a Shared,
        stream: Arc<Stream<R>>,
        source: Box<dyn ChunkSource + Send + 'a>,
        func: FunctionRef,
        split: Option<Split>,
        timeout: Option<Duration>,
        window: usize,
    ) -> IMap<'a, R> {
        let len = stream.progress.total();
        IMap {
            shared,
            stream,
            source,
            func,
            split,
            timeout,
            submitted: 0,
            yielded: 0,
            window,
            input_done: false,
            wrong_process: false,
            len,
            taken: VecDeque::new(),
            runs: Vec::new(),
        }
    }

    /// An iterator that yields `error` once and ends: the call was refused.
    pub(crate) fn refused(shared: &'a Shared, func: FunctionRef, error: PoolError) -> IMap<'a, R> {
        let stream = Stream::new(true, Progress::new(Some(1), false));
        stream.task_failed(0, error);
        let source = Box::new(IterSource {
            iter: std::iter::empty::<()>(),
            chunksize: 1,
        });
        let mut imap = IMap::new(shared, stream, source, func, None, None, 1);
        imap.submitted = 1;
        imap.input_done = true;
        imap.len = Some(1);
        imap
    }

    /// Whether to read more input: once the tasks submitted and not yet yielded are down to
    /// half the window. Refilling only then sends chunks to the workers in batches (one
    /// lock, one message per worker, for several chunks) instead of one chunk each time a
    /// result is consumed, which cost about 6 µs per chunk.
    fn wants_input(&self) -> bool {
        !self.input_done && self.submitted - self.yielded <= self.window / 2
    }

    /// Pulls input until the window is full, and submits it, when [`wants_input`] says so.
    ///
    /// [`wants_input`]: IMap::wants_input
    fn top_up(&mut self) {
        if !self.wants_input() {
            return;
        }
        let mut chunks = Vec::new();
        while !self.input_done && self.submitted - self.yielded < self.window {
            let sink: Arc<dyn Sink> = self.stream.clone();
            match self.source.next_chunk(self.submitted, &*sink) {
                Some((input, positions)) => {
                    self.submitted += positions.len;
                    if positions.count() == 0 {
                        continue;
                    }
                    let timeout = chunk_timeout(self.timeout, positions.count());
                    chunks.push(Chunk::new(
                        self.func, input, positions, timeout, sink, self.split,
                    ));
                }
                None => {
                    self.input_done = true;
                    self.stream.progress.set_total(self.submitted);
                }
            }
        }
        if chunks.is_empty() {
            return;
        }
        if let Err((refused, error)) = self.shared.submit(chunks) {
            // The pool was closed or terminated: report these, and stop reading the input.
            self.input_done = true;
            self.stream.progress.set_total(self.submitted);
            for chunk in refused {
                chunk.fail(error.clone());
            }
        }
    }

    /// Tasks finished so far (failed ones included).
    ///
    /// ```
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// let mut squares = pool.chunksize(1).imap(square, 0..4);
    /// assert_eq!(squares.next(), Some(Ok(0)));
    /// assert!(squares.completed() >= 1);
    /// assert_eq!(squares.by_ref().count(), 3);
    /// assert_eq!(squares.completed(), 4);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn completed(&self) -> usize {
        self.stream.progress.completed()
    }

    /// The number of tasks, once the input is exhausted.
    ///
    /// ```
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// let mut squares = pool.imap(square, 0..4);
    /// assert_eq!(squares.by_ref().count(), 4);
    /// assert_eq!(squares.total(), Some(4)); // known once the input is exhausted
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn total(&self) -> Option<usize> {
        self.stream.progress.total()
    }
}

impl<R: Portable> IMap<'_, R> {
    /// The next result: blocks for it when `waker` is `None`; otherwise keeps the waker for
    /// the thread that stores the next result and returns `Pending`.
    fn next_result(&mut self, waker: Option<&Waker>) -> Poll<Option<Result<R, PoolError>>> {
        if self.wrong_process {
            return Poll::Ready(None);
        }
        loop {
            self.top_up();
            if let Some(item) = self.taken.pop_front() {
                self.yielded += 1;
                return Poll::Ready(Some(item));
            }
            let mut state = self.stream.lock();
            loop {
                self.stream.take_ready(&mut state, &mut self.runs);
                if !self.runs.is_empty() {
                    drop(state);
                    // Decoded here, outside the lock, by the thread that uses the results.
                    for run in self.runs.drain(..) {
                        run.decode_into(&mut self.taken);
                    }
                    break;
                }
                if self.input_done && self.yielded >= self.submitted {
                    return Poll::Ready(None);
                }
                if self.wants_input() {
                    break;
                }
                if let Err(wrong) = self.shared.check_process() {
                    // A forked child: the results are due in another process.
                    self.wrong_process = true;
                    return Poll::Ready(Some(Err(wrong)));
                }
                match waker {
                    Some(waker) => {
                        match &mut state.waker {
                            Some(kept) if kept.will_wake(waker) => {}
                            kept => *kept = Some(waker.clone()),
                        }
                        return Poll::Pending;
                    }
                    None => {
                        state.sleepers += 1;
                        state = self
                            .stream
                            .changed
                            .wait(state)
                            .unwrap_or_else(|p| p.into_inner());
                        state.sleepers -= 1;
                    }
                }
            }
        }
    }

    /// The results not yet yielded, when the number is known: the input said how long it
    /// is, or it is exhausted.
    fn remaining(&self) -> Option<usize> {
        if self.wrong_process {
            return Some(0);
        }
        if self.input_done {
            return Some(self.submitted.saturating_sub(self.yielded));
        }
        self.len.map(|len| len.saturating_sub(self.yielded))
    }
}

impl<R: Portable> Iterator for IMap<'_, R> {
    type Item = Result<R, PoolError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_result(None) {
            Poll::Ready(item) => item,
            // Without a waker it blocks until it has an answer.
            Poll::Pending => None,
        }
    }

    /// Exact when the input's length is known (its own `size_hint` is exact, as for a
    /// range, a `Vec` or a slice), or once it is exhausted; `(0, None)` otherwise.
    ///
    /// ```
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// let mut results = pool.imap(square, 0..10);
    /// assert_eq!(results.size_hint(), (10, Some(10)));
    /// results.next();
    /// assert_eq!(results.size_hint(), (9, Some(9)));
    /// assert_eq!(pool.imap(square, (0..).take_while(|x| *x < 5)).size_hint(), (0, None));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn size_hint(&self) -> (usize, Option<usize>) {
        match self.remaining() {
            Some(n) => (n, Some(n)),
            None => (0, None),
        }
    }
}

/// [`IMap`] as a `futures_core::Stream` (the `stream` feature), made by
/// [`IMap::into_stream`]: a type of its own, so that `StreamExt` and `Iterator` methods
/// never clash.
///
/// ```
/// use futures::StreamExt;
/// use multiproc_pool::{IMapStream, Pool};
/// fn square(x: u64) -> u64 { x * x }
/// let pool = Pool::new(2)?;
/// let mut stream: IMapStream<'_, u64> = pool.imap_unordered(square, [4]).into_stream();
/// assert_eq!(futures::executor::block_on(stream.next()), Some(Ok(16)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "stream")]
#[derive(Debug)]
pub struct IMapStream<'a, R> {
    inner: IMap<'a, R>,
}

#[cfg(feature = "stream")]
impl<'a, R: Portable> IMap<'a, R> {
    /// The same results, in the same order, as a `futures_core::Stream` for async code,
    /// without blocking a thread. Polling reads the input (the bounded window is kept) and
    /// leaves the task's waker with the pool, whose result thread wakes it when the next
    /// result arrives. It is `Send` like the iterator.
    ///
    /// ```
    /// use futures::StreamExt;
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// let stream = pool.imap(square, 0..5).into_stream();
    /// let squares: Vec<u64> = futures::executor::block_on(stream.map(|r| r.unwrap()).collect());
    /// assert_eq!(squares, [0, 1, 4, 9, 16]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_stream(self) -> IMapStream<'a, R> {
        IMapStream { inner: self }
    }
}

// Nothing in it is pinned structurally: `poll_next` only ever uses it through `&mut`.
#[cfg(feature = "stream")]
impl<R> Unpin for IMapStream<'_, R> {}

#[cfg(feature = "stream")]
impl<R: Portable> futures_core::Stream for IMapStream<'_, R> {
    type Item = Result<R, PoolError>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<Option<Self::Item>> {
        self.get_mut().inner.next_result(Some(cx.waker()))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<R> Drop for IMap<'_, R> {
    fn drop(&mut self) {
        self.stream.cancelled.store(true, Ordering::Relaxed);
    }
}

impl<R> fmt::Debug for IMap<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IMap")
            .field("ordered", &self.stream.ordered)
            .field("submitted", &self.submitted)
            .field("yielded", &self.yielded)
            .field("window", &self.window)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(values: std::ops::Range<u32>) -> Run<u32> {
        Run::Decoded(values.map(Ok).collect())
    }

    fn state() -> StreamState<u32> {
        StreamState {
            runs: BTreeMap::new(),
            base: 0,
            arrived: VecDeque::new(),
            waker: None,
            sleepers: 0,
        }
    }

    /// Takes every run in order from `base` on and returns the values, as the reader does.
    fn drain(state: &mut StreamState<u32>) -> Vec<u32> {
        let mut out = VecDeque::new();
        while let Some(run) = state.take_at_base() {
            state.base += run.len();
            run.decode_into(&mut out);
        }
        out.into_iter().map(|r| r.unwrap()).collect()
    }

    #[test]
    fn overlapping_runs_yield_every_position_once_in_order() {
        let mut state = state();
        state.insert_run(0, run(0..4));
        state.insert_run(2, run(2..6));
        assert!(state.ready_at_base());
        assert_eq!(drain(&mut state), [0, 1, 2, 3, 4, 5]);
        assert_eq!(state.base, 6);
        assert!(state.runs.is_empty());
    }

    #[test]
    fn a_run_inside_another_or_already_yielded_is_dropped() {
        let mut state = state();
        state.insert_run(0, run(0..6));
        state.insert_run(1, run(1..2));
        assert_eq!(drain(&mut state), [0, 1, 2, 3, 4, 5]);
        state.insert_run(3, run(3..5));
        assert!(
            state.runs.is_empty(),
            "positions yielded already are not kept"
        );
        assert!(!state.ready_at_base());
        state.insert_run(6, run(6..7));
        assert_eq!(drain(&mut state), [6]);
    }

    #[test]
    fn a_gap_waits_for_its_position() {
        let mut state = state();
        state.insert_run(2, run(2..4));
        assert!(!state.ready_at_base());
        assert_eq!(drain(&mut state), Vec::<u32>::new());
        state.insert_run(0, run(0..2));
        assert_eq!(drain(&mut state), [0, 1, 2, 3]);
    }
}
