//! The header of the next ipc-channel record on a pipe, checked before ipc-channel reads it.
//!
//! ipc-channel 0.23 sends a message as one `SOCK_SEQPACKET` record (its first fragment)
//! that starts with two native-endian `usize`s: the record's own length and the length of
//! the whole message; a message larger than one record continues on a dedicated channel
//! whose receiving end travels with the first record. Its receiver trusts both numbers: it
//! reserves the announced total at once, so a peer announcing 2^62 bytes aborts the
//! process with a failed allocation, and a record whose numbers disagree sends it down
//! paths that panic or wait for bytes that never come.
//!
//! [`check_next`] peeks at the head of the socket (`MSG_PEEK`, which takes nothing and
//! receives no descriptor) and refuses a record whose header is inconsistent or announces
//! more than the connection's maximum message size: the record is dropped unread (with the
//! descriptors attached to it, which the kernel closes) and the receiver gets an error. The
//! connection stays usable, since records keep their boundaries.

use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

use ipc_channel::platform::OsIpcSender;
use multiproc_sys::seqpacket::{self, Peeked};

use crate::error::PipeError;

const WORD: usize = std::mem::size_of::<usize>();
/// The record header: the record's length, then the message's.
const HEADER: usize = 2 * WORD;

/// What is at the head of the socket.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// A record whose header passed the checks: ipc-channel may read it.
    Message,
    /// The peer closed the socket: ipc-channel reports it.
    End,
    /// Nothing (the readiness was spurious).
    Nothing,
}

fn word(bytes: &[u8]) -> usize {
    let mut word = [0u8; WORD];
    word.copy_from_slice(&bytes[..WORD]);
    usize::from_ne_bytes(word)
}

/// Why a record with this header must not reach ipc-channel, if it must not.
pub(crate) fn refuse(record_len: usize, head: &[u8; HEADER], max: usize) -> Option<PipeError> {
    if record_len < HEADER {
        return Some(PipeError::Decode(format!(
            "a {record_len}-byte record is shorter than a message header"
        )));
    }
    let (fragment, total) = (word(&head[..WORD]), word(&head[WORD..]));
    let payload = record_len - HEADER;
    if fragment != record_len {
        return Some(PipeError::Decode(format!(
            "a {record_len}-byte record announces itself as {fragment} bytes"
        )));
    }
    if payload > OsIpcSender::get_max_fragment_size() {
        return Some(PipeError::Decode(format!(
            "a {record_len}-byte record is larger than any sender makes"
        )));
    }
    if total > max {
        return Some(PipeError::MessageTooLarge {
            size: u64::try_from(total).unwrap_or(u64::MAX),
            max,
        });
    }
    if total < payload {
        return Some(PipeError::Decode(format!(
            "a message of {total} bytes cannot carry a {payload}-byte first part"
        )));
    }
    None
}

/// Checks the next record on `fd` against `max` (the largest message, in bytes), dropping
/// it unread if it is refused.
///
/// A refused message that continues on a dedicated channel is drained from that channel
/// too, record by record without keeping anything: ipc-channel's sender keeps the
/// channel's receiving end itself until the whole message is written, so it would
/// otherwise block for ever. Draining stops when the sender closes the channel, when
/// `deadline` passes, after [`DRAIN_IDLE`] without a record, or after [`DRAIN_LIMIT`] in
/// all, so a hostile peer that holds the channel open costs at most that long.
pub(crate) fn check_next(
    fd: BorrowedFd<'_>,
    max: usize,
    deadline: Option<Instant>,
) -> Result<Next, PipeError> {
    let mut head = [0u8; HEADER];
    let len = match seqpacket::peek(fd, &mut head)? {
        Peeked::Record { len } => len,
        Peeked::End => return Ok(Next::End),
        Peeked::Empty => return Ok(Next::Nothing),
    };
    let Some(error) = refuse(len, &head, max) else {
        return Ok(Next::Message);
    };
    let continues = len >= HEADER && word(&head[WORD..]) > len - HEADER;
    if !continues {
        seqpacket::discard(fd)?;
        return Err(error);
    }
    // The dedicated channel is the last descriptor of the first fragment.
    let fds = seqpacket::take_fds(fd)?.unwrap_or_default();
    if let Some(dedicated) = fds.last() {
        drain(dedicated.as_fd(), deadline)?;
    }
    Err(error)
}

/// How long a refused message's sender may pause between fragments before the rest is
/// abandoned (the sender then blocks: ipc-channel gives it no way out).
pub(crate) const DRAIN_IDLE: Duration = Duration::from_secs(1);
/// How long a refused message is drained at most.
pub(crate) const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// Drops records from `fd` until its peer closes it, or one of the limits of
/// [`check_next`] is reached.
fn drain(fd: BorrowedFd<'_>, deadline: Option<Instant>) -> Result<(), PipeError> {
    let limit = multiproc_sys::time::deadline_after(Some(DRAIN_LIMIT));
    let end = match (deadline, limit) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    loop {
        let wait =
            multiproc_sys::time::remaining(end).map_or(DRAIN_IDLE, |left| left.min(DRAIN_IDLE));
        if !multiproc_sys::poll::wait_readable(fd, Some(wait))? {
            return Ok(());
        }
        match seqpacket::peek(fd, &mut [])? {
            Peeked::End => return Ok(()),
            Peeked::Empty => {}
            Peeked::Record { .. } => {
                seqpacket::discard(fd)?;
            }
        }
    }
}
