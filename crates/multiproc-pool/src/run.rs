//! A run of results for consecutive positions of an `imap`, as the result thread hands it
//! to the reader: decoded already, or still as the worker's bytes.
//!
//! The bytes of a chunk (about 9 per small result) are what crosses from the result thread
//! to the reader's CPU; decoded, a result is 56 bytes or more (`Result<R, PoolError>`), and
//! both copying them into place and touching them again on the other CPU cost more than
//! decoding where they are used. The reader decodes a run when it takes it, outside the
//! stream's lock.

use std::collections::VecDeque;

use multiproc_process::Portable;

use crate::chunk::{Output, decode_each};
use crate::error::PoolError;

/// Results for the positions `start..start + len()`.
pub(crate) enum Run<R> {
    Decoded(Vec<Result<R, PoolError>>),
    /// A chunk's output for `count` positions from `start`, not yet checked or decoded.
    Encoded {
        output: Output,
        start: usize,
        count: usize,
    },
}

impl<R: Portable> Run<R> {
    /// How many positions the run covers.
    pub(crate) fn len(&self) -> usize {
        match self {
            Run::Decoded(results) => results.len(),
            Run::Encoded { count, .. } => *count,
        }
    }

    /// Appends the run's results to `into`, in position order. Output that does not decode
    /// fails every position of the run with the same error (as a chunk whose output is
    /// corrupt does), and none of its values is kept.
    pub(crate) fn decode_into(self, into: &mut VecDeque<Result<R, PoolError>>) {
        match self {
            Run::Decoded(results) => into.extend(results),
            Run::Encoded {
                output,
                start,
                count,
            } => {
                let mark = into.len();
                let decoded = decode_each::<R>(&output, count, |index, result| {
                    into.push_back(result.map_err(|e| PoolError::from_call(e, start + index)));
                });
                if let Err(error) = decoded {
                    into.truncate(mark);
                    into.extend((start..start + count).map(|p| Err(error.clone().at(p))));
                }
            }
        }
    }

    /// The run without its first `n` positions (all of them if it has fewer).
    pub(crate) fn without_first(self, n: usize) -> Run<R> {
        let mut results = VecDeque::new();
        self.decode_into(&mut results);
        results.drain(..n.min(results.len()));
        Run::Decoded(results.into())
    }
}

#[cfg(test)]
mod tests {
    use multiproc_process::CallError;

    use super::*;

    fn encoded(bytes: Vec<u8>, count: usize) -> Run<u32> {
        Run::Encoded {
            output: Output { bytes, worker: 7 },
            start: 20,
            count,
        }
    }

    #[test]
    fn an_encoded_run_decodes_in_order_with_its_errors_at_their_positions() {
        let failed = CallError::Failed("no".into());
        let bytes = postcard::to_stdvec(&vec![Ok::<u32, CallError>(3), Err(failed), Ok(5)]);
        let mut out = VecDeque::new();
        encoded(bytes.unwrap(), 3).decode_into(&mut out);
        assert_eq!(out.len(), 3);
        assert_eq!(out[0], Ok(3));
        assert!(
            matches!(&out[1], Err(PoolError::Failed { index: 21, .. })),
            "{out:?}"
        );
        assert_eq!(out[2], Ok(5));
    }

    #[test]
    fn a_corrupt_run_fails_every_position_and_keeps_no_value() {
        // Two good entries, then bytes that end in the middle of the third.
        let mut bytes = postcard::to_stdvec(&vec![Ok::<u32, CallError>(1), Ok(2), Ok(3)]).unwrap();
        bytes.truncate(bytes.len() - 1);
        let mut out = VecDeque::from([Ok(9)]);
        encoded(bytes, 3).decode_into(&mut out);
        assert_eq!(out.len(), 4);
        assert_eq!(out[0], Ok(9), "what was there before stays");
        for result in out.iter().skip(1) {
            match result {
                Err(e @ PoolError::Transfer { .. }) => {
                    assert!(e.to_string().contains("pool worker 7"), "{e}")
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn dropping_the_front_of_a_run_keeps_the_rest_in_order() {
        let bytes = postcard::to_stdvec(&vec![Ok::<u32, CallError>(1), Ok(2), Ok(3)]).unwrap();
        let rest = encoded(bytes, 3).without_first(2);
        assert_eq!(rest.len(), 1);
        let mut out = VecDeque::new();
        rest.decode_into(&mut out);
        assert_eq!(out, [Ok(3)]);
        assert_eq!(encoded(Vec::new(), 3).without_first(5).len(), 0);
    }
}
