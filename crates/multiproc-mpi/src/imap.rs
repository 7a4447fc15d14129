//! `MpiIMap`: the lazy results of `imap` and `imap_unordered`.

use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use multiproc_pool::PoolError;
use multiproc_process::{FunctionRef, Portable, Target};

use crate::job::Job;
use crate::pool::MpiPool;
use crate::result::{abandoned, decode_chunk};

/// The results of [`MpiPool::imap`] or [`MpiPool::imap_unordered`], as they come back.
///
/// It takes items from the input only as results are taken, keeping at most the pool's
/// window of chunks out per rank: memory stays constant whatever the input's length.
///
/// ```no_run
/// fn square(x: u64) -> u64 { x * x }
/// let pool = multiproc_mpi::MpiPool::new()?;
/// for result in pool.imap(square, 0..) .take(5) {
///     println!("{}", result?);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct MpiIMap<'p, A, I, R> {
    pool: &'p MpiPool,
    function: FunctionRef,
    input: I,
    exhausted: bool,
    ordered: bool,
    job: Arc<Job>,
    chunksize: usize,
    submitted: usize,
    yielded: usize,
    /// The typed results of the chunk being yielded.
    ready: VecDeque<Result<R, PoolError>>,
    _types: PhantomData<fn(A) -> R>,
}

impl<A, I, R> fmt::Debug for MpiIMap<'_, A, I, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MpiIMap")
            .field("ordered", &self.ordered)
            .field("submitted", &self.submitted)
            .field("yielded", &self.yielded)
            .finish()
    }
}

impl<'p, A, I, R> MpiIMap<'p, A, I, R>
where
    A: Portable,
    I: Iterator<Item = A>,
    R: Portable,
{
    pub(crate) fn new(pool: &'p MpiPool, function: FunctionRef, input: I, ordered: bool) -> Self {
        let (low, high) = input.size_hint();
        let known = (Some(low) == high).then_some(low);
        MpiIMap {
            pool,
            function,
            input,
            exhausted: false,
            ordered,
            job: Arc::new(Job::default()),
            chunksize: pool.chunk_for(known),
            submitted: 0,
            yielded: 0,
            ready: VecDeque::new(),
            _types: PhantomData,
        }
    }

    /// Sends chunks until the window is full or the input ends.
    fn refill(&mut self) -> Result<(), PoolError> {
        let bound = self.pool.in_flight_bound().saturating_mul(self.chunksize);
        while !self.exhausted && self.submitted - self.yielded < bound {
            let chunk: Vec<(A,)> = self
                .input
                .by_ref()
                .take(self.chunksize)
                .map(|a| (a,))
                .collect();
            if chunk.is_empty() {
                self.exhausted = true;
                break;
            }
            let count = chunk.len();
            self.pool.send_chunk(self.function, chunk, &self.job)?;
            self.submitted += count;
        }
        Ok(())
    }
}

impl<A, I, R> Iterator for MpiIMap<'_, A, I, R>
where
    A: Portable,
    I: Iterator<Item = A>,
    R: Portable,
{
    type Item = Result<R, PoolError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Err(e) = self.refill() {
            self.exhausted = true;
            return Some(Err(e));
        }
        if let Some(result) = self.ready.pop_front() {
            self.yielded += 1;
            return Some(result);
        }
        if self.yielded == self.submitted {
            return None;
        }
        // The next chunk: in order, the one that starts at the next index (chunks are taken
        // whole); unordered, the first to arrive.
        let next = self.yielded;
        let ordered = self.ordered;
        let taken = {
            let mut state = self.job.wait_until(None, |state| {
                state.abandoned
                    || if ordered {
                        state.chunks.contains_key(&next)
                    } else {
                        !state.arrived.is_empty()
                    }
            })?;
            let first = if ordered {
                state.arrived.retain(|&first| first != next);
                Some(next)
            } else {
                state.arrived.pop_front()
            };
            first.and_then(|first| Some((first, state.chunks.remove(&first)?)))
        };
        let Some((first, (count, outcome))) = taken else {
            self.yielded += 1;
            return Some(Err(abandoned()));
        };
        let mut results = Vec::with_capacity(count);
        decode_chunk(first, count, &outcome, &mut results);
        self.ready.extend(results);
        self.yielded += 1;
        Some(self.ready.pop_front().unwrap_or_else(|| Err(abandoned())))
    }
}

impl MpiPool {
    /// A lazy, ordered `map`: results as an iterator, with at most a window of chunks out
    /// per rank, so a long (or endless) input keeps rank 0's memory constant. Like
    /// `Pool.imap`.
    ///
    /// ```no_run
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_mpi::MpiPool::new()?;
    /// let total: u64 = pool.imap(square, 0..1000).map(Result::unwrap).sum();
    /// assert_eq!(total, (0..1000u64).map(|x| x * x).sum());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "multiprocessing.pool.Pool.imap")]
    pub fn imap<F, A, I>(&self, f: F, iterable: I) -> MpiIMap<'_, A, I::IntoIter, F::Output>
    where
        F: Target<(A,)>,
        A: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = A>,
    {
        MpiIMap::new(
            self,
            FunctionRef::new::<F, (A,)>(f),
            iterable.into_iter(),
            true,
        )
    }

    /// Like [`imap`](Self::imap), with results in the order they finish, like
    /// `Pool.imap_unordered`.
    ///
    /// ```no_run
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_mpi::MpiPool::new()?;
    /// let mut all: Vec<u64> = pool.imap_unordered(square, 0..10).map(Result::unwrap).collect();
    /// all.sort();
    /// assert_eq!(all, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "multiprocessing.pool.Pool.imap_unordered")]
    pub fn imap_unordered<F, A, I>(
        &self,
        f: F,
        iterable: I,
    ) -> MpiIMap<'_, A, I::IntoIter, F::Output>
    where
        F: Target<(A,)>,
        A: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = A>,
    {
        MpiIMap::new(
            self,
            FunctionRef::new::<F, (A,)>(f),
            iterable.into_iter(),
            false,
        )
    }
}
