//! Claims: a word of shared memory per worker that says which of the chunks sent to it the
//! worker has started.
//!
//! Every chunk sent to a worker carries a sequence number (0, 1, 2... per worker). The
//! worker starts chunk `seq` only by moving the `cursor` word from `seq` to `seq + 1`; the
//! pool takes chunks back that the worker has not started ([`Claims::take_back`]) by moving
//! the cursor past them. Whoever moves the cursor first owns the chunk, so a chunk runs on
//! exactly one worker: an idle worker need never wait behind a busy one's queue.
//!
//! The worker writes the word too, so the pool reads it as hostile input: a worker that lies
//! can only make itself look corrupt (an answer for a chunk taken back is refused, see
//! `scheduler::booking`), or have its own chunks run again elsewhere.

use multiproc_shared::RawValue;
use serde::{Deserialize, Serialize};

/// The claim word of one worker; the pool and the worker each hold a handle.
#[derive(Serialize, Deserialize)]
pub(crate) struct Claims {
    /// The sequence number of the next chunk the worker may start.
    cursor: RawValue<u64>,
}

impl Claims {
    /// A fresh claim word: no chunk started.
    pub(crate) fn new() -> std::io::Result<Claims> {
        let cursor = RawValue::new(0_u64).map_err(std::io::Error::other)?;
        Ok(Claims { cursor })
    }

    /// Another handle on the same word.
    pub(crate) fn handle(&self) -> Claims {
        Claims {
            cursor: self.cursor.clone(),
        }
    }

    /// Worker side: starts chunk `seq`; `false` if the pool took it back.
    pub(crate) fn start(&self, seq: u64) -> bool {
        self.cursor
            .compare_exchange(seq, seq.wrapping_add(1))
            .is_ok()
    }

    /// Pool side: how many chunks the worker has started (or had taken back): chunks with a
    /// lower sequence number are not the pool's to take any more.
    pub(crate) fn started(&self) -> u64 {
        self.cursor.load()
    }

    /// Pool side: takes back the chunks from the next one the worker would start up to (not
    /// including) `until`. Returns the first sequence number taken back (the chunks from it
    /// to `until` are the pool's again), or `None` if the worker has started them all.
    pub(crate) fn take_back(&self, until: u64) -> Option<u64> {
        let mut next = self.cursor.load();
        // The worker moves the cursor by one per chunk it starts: a few tries are plenty.
        for _ in 0..8 {
            if next >= until {
                return None;
            }
            match self.cursor.compare_exchange(next, until) {
                Ok(_) => return Some(next),
                Err(moved) => next = moved,
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_is_started_or_taken_back_never_both() {
        let pool = Claims::new().unwrap();
        let worker = pool.handle();
        assert!(worker.start(0));
        // Chunks 1, 2 and 3 were sent; the pool takes 1 and 2 back.
        assert_eq!(pool.take_back(3), Some(1));
        assert!(!worker.start(1), "taken back");
        assert!(!worker.start(2), "taken back");
        assert!(worker.start(3));
        assert_eq!(pool.started(), 4);
        assert_eq!(pool.take_back(4), None, "nothing left to take");
    }
}
