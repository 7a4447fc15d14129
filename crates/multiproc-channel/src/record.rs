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
use multiproc_sys::seqpacket::{self, Head};

use crate::error::PipeError;
use crate::wire;

pub(crate) use multiproc_sys::ipc_record::{HEAD, HEADER, NextHead as Next};

/// Checks the next record on `fd` against `max` (the largest message, in bytes), dropping
/// it unread if it is refused (see [`ipc_record::check_head`], which also drains the rest
/// of a refused message that continues on a dedicated channel, until `deadline` at most).
/// With `wait`, blocks until a record or the end arrives (no poll needed first).
///
/// A record of the pipe's own frame ([`crate::wire`]) passes as a message without
/// descriptors (its reader checks it); the first record of one announcing more than `max`
/// is dropped with [`PipeError::MessageTooLarge`], and a stray continuation (the rest of a
/// message refused or cut short before) is dropped silently.
pub(crate) fn check_next(
    fd: BorrowedFd<'_>,
    max: usize,
    deadline: Option<Instant>,
    wait: bool,
) -> Result<Next, PipeError> {
    let max_fragment = OsIpcSender::get_max_fragment_size();
    loop {
        let mut whole = [0u8; HEAD];
        let (len, fds) = match seqpacket::peek_head(fd, &mut whole, wait) {
            Ok(Head::Record { len, fds }) => (len, fds),
            Ok(Head::End) => return Ok(Next::End),
            Ok(Head::Empty) => return Ok(Next::Nothing),
            // The peer closed its end while records sent to it were unread: the kernel
            // reports that once, ahead of the records still queued here.
            Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset => continue,
            Err(err) => return Err(err.into()),
        };
        let start = &whole[..len.min(HEAD)];
        if let Some(code) = wire::code(start) {
            if code == wire::CONTINUED {
                seqpacket::discard(fd)?;
                continue;
            }
            if let Some(size) = wire::word(start)
                .filter(|&size| usize::try_from(size).map_or(true, |size| size > max))
            {
                seqpacket::discard(fd)?;
                return Err(PipeError::MessageTooLarge { size, max });
            }
            return Ok(Next::Message {
                len,
                fds: false,
                head: whole,
            });
        }
        let mut head = [0u8; HEADER];
        head.copy_from_slice(&whole[..HEADER]);
        if ipc_record::refuse(len, &head, max, max_fragment).is_none() {
            return Ok(Next::Message {
                len,
                fds,
                head: whole,
            });
        }
        // Refused: the shared check takes it off the socket (and drains what follows it).
        return ipc_record::check_head(fd, max, max_fragment, deadline, false)?.map_err(
            |refusal| match refusal {
                Refusal::Malformed(detail) => PipeError::Decode(detail),
                Refusal::TooLarge { size, max } => PipeError::MessageTooLarge { size, max },
            },
        );
    }
}
