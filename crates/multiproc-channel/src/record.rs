//! The header of the next ipc-channel record on a pipe, checked before anything reads it.
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
//! receives no descriptor; the check itself is `multiproc_sys::ipc_record`, shared with the
//! process crate's result channel and the pool's) and refuses a record whose header is
//! inconsistent or announces more than the connection's maximum message size: the record is
//! dropped unread (with the descriptors attached to it, which the kernel closes) and the
//! receiver gets an error. The connection stays usable, since records keep their
//! boundaries. A record that passes and carries no descriptor may then be read directly
//! ([`crate::direct`]), from the head that the check copied out.

use std::os::fd::BorrowedFd;
use std::time::Instant;

use ipc_channel::platform::OsIpcSender;
use multiproc_sys::ipc_record::{self, Refusal};

use crate::error::PipeError;

pub(crate) use multiproc_sys::ipc_record::{HEAD, HEADER, NextHead as Next};

/// Checks the next record on `fd` against `max` (the largest message, in bytes), dropping
/// it unread if it is refused (see [`ipc_record::check_head`], which also drains the rest
/// of a refused message that continues on a dedicated channel, until `deadline` at most).
/// With `wait`, blocks until a record or the end arrives (no poll needed first).
pub(crate) fn check_next(
    fd: BorrowedFd<'_>,
    max: usize,
    deadline: Option<Instant>,
    wait: bool,
) -> Result<Next, PipeError> {
    let max_fragment = OsIpcSender::get_max_fragment_size();
    ipc_record::check_head(fd, max, max_fragment, deadline, wait)?.map_err(
        |refusal| match refusal {
            Refusal::Malformed(detail) => PipeError::Decode(detail),
            Refusal::TooLarge { size, max } => PipeError::MessageTooLarge { size, max },
        },
    )
}
