//! The header of the next ipc-channel record on a `SOCK_SEQPACKET` socket, checked before
//! ipc-channel reads it: the one check for every crate that receives from another process
//! through ipc-channel (a pipe's connection, a child's result channel).
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
//! receives no descriptor, see [`seqpacket::peek`]) and refuses a record whose header is
//! inconsistent or announces more than the receiver's maximum message size: the record is
//! dropped unread (with the descriptors attached to it, which the kernel closes) and the
//! receiver gets the reason. The socket stays usable, since records keep their boundaries.
//!
//! ipc-channel offers no accessor for a receiver's descriptor; [`receiver_fd_from_debug`]
//! reads it from the receiver's `Debug` form.
//!
//! ```
//! use multiproc_sys::ipc_record::{Next, check_next};
//! use std::os::fd::AsFd;
//! let (a, b) = std::os::unix::net::UnixDatagram::pair()?;
//! a.send(&[0; 3])?; // shorter than a header: refused and dropped
//! assert!(check_next(b.as_fd(), 1024, 4096, None)?.is_err());
//! assert_eq!(check_next(b.as_fd(), 1024, 4096, None)?, Ok(Next::Nothing));
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fmt;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, RawFd};
use std::time::{Duration, Instant};

use crate::seqpacket::{self, Head, Peeked};

const WORD: usize = std::mem::size_of::<usize>();
/// The record header: the record's length, then the message's.
///
/// ```
/// assert_eq!(multiproc_sys::ipc_record::HEADER, 2 * size_of::<usize>());
/// ```
pub const HEADER: usize = 2 * WORD;

/// The default largest message a receiver accepts: 64 MiB.
///
/// ```
/// assert_eq!(multiproc_sys::ipc_record::DEFAULT_MAX_MESSAGE_SIZE, 64 << 20);
/// ```
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 << 20;

/// How long a refused message's sender may pause between fragments before the rest is
/// abandoned (the sender then blocks: ipc-channel gives it no way out).
///
/// ```
/// use multiproc_sys::ipc_record::{DRAIN_IDLE, DRAIN_LIMIT};
/// assert!(DRAIN_IDLE < DRAIN_LIMIT);
/// ```
pub const DRAIN_IDLE: Duration = Duration::from_secs(1);
/// How long a refused message is drained at most.
///
/// ```
/// assert_eq!(multiproc_sys::ipc_record::DRAIN_LIMIT.as_secs(), 10);
/// ```
pub const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// What is at the head of the socket.
///
/// ```
/// use multiproc_sys::ipc_record::{Next, check_next};
/// use std::os::fd::AsFd;
/// let (_a, b) = std::os::unix::net::UnixDatagram::pair()?;
/// assert_eq!(check_next(b.as_fd(), 1024, 4096, None)?, Ok(Next::Nothing));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// A record whose header passed the checks: ipc-channel may read it.
    Message,
    /// The peer closed the socket: ipc-channel reports it.
    End,
    /// Nothing (the readiness was spurious).
    Nothing,
}

/// Why a record was refused.
///
/// ```
/// use multiproc_sys::ipc_record::Refusal;
/// let refusal = Refusal::TooLarge { size: 1 << 62, max: 1024 };
/// assert!(refusal.to_string().contains("larger than the maximum of 1024 bytes"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The header does not add up (the text says how).
    Malformed(String),
    /// The message announces more bytes than the receiver accepts.
    TooLarge {
        /// The size the sender announced.
        size: u64,
        /// The receiver's maximum.
        max: usize,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Malformed(detail) => f.write_str(detail),
            Refusal::TooLarge { size, max } => write!(
                f,
                "a message of {size} bytes is larger than the maximum of {max} bytes"
            ),
        }
    }
}

impl std::error::Error for Refusal {}

fn word(bytes: &[u8]) -> usize {
    let mut word = [0u8; WORD];
    word.copy_from_slice(&bytes[..WORD]);
    usize::from_ne_bytes(word)
}

/// Why a record of `record_len` bytes that starts with `head` must not reach ipc-channel, if
/// it must not. `max` is the largest message accepted, `max_fragment` the largest payload
/// one record of an honest sender carries (ipc-channel's
/// `OsIpcSender::get_max_fragment_size()`).
///
/// ```
/// use multiproc_sys::ipc_record::{HEADER, Refusal, refuse};
/// let header = |record: usize, total: usize| -> [u8; HEADER] {
///     let mut head = [0u8; HEADER];
///     head[..8].copy_from_slice(&record.to_ne_bytes());
///     head[8..].copy_from_slice(&total.to_ne_bytes());
///     head
/// };
/// assert_eq!(refuse(HEADER + 3, &header(HEADER + 3, 3), 1024, 4096), None);
/// assert_eq!(
///     refuse(HEADER, &header(HEADER, 1 << 62), 1024, 4096),
///     Some(Refusal::TooLarge { size: 1 << 62, max: 1024 })
/// );
/// assert!(matches!(refuse(3, &header(3, 0), 1024, 4096), Some(Refusal::Malformed(_))));
/// ```
pub fn refuse(
    record_len: usize,
    head: &[u8; HEADER],
    max: usize,
    max_fragment: usize,
) -> Option<Refusal> {
    if record_len < HEADER {
        return Some(Refusal::Malformed(format!(
            "a {record_len}-byte record is shorter than a message header"
        )));
    }
    let (fragment, total) = (word(&head[..WORD]), word(&head[WORD..]));
    let payload = record_len - HEADER;
    if fragment != record_len {
        return Some(Refusal::Malformed(format!(
            "a {record_len}-byte record announces itself as {fragment} bytes"
        )));
    }
    if payload > max_fragment {
        return Some(Refusal::Malformed(format!(
            "a {record_len}-byte record is larger than any sender makes"
        )));
    }
    if total > max {
        return Some(Refusal::TooLarge {
            size: u64::try_from(total).unwrap_or(u64::MAX),
            max,
        });
    }
    if total < payload {
        return Some(Refusal::Malformed(format!(
            "a message of {total} bytes cannot carry a {payload}-byte first part"
        )));
    }
    None
}

/// Checks the next record on `fd` (without blocking) against `max` and `max_fragment` (see
/// [`refuse`]), dropping it unread if it is refused. The outer error is a failed system
/// call; the inner one a refused record.
///
/// A refused message that continues on a dedicated channel is drained from that channel
/// too, record by record without keeping anything: ipc-channel's sender keeps the
/// channel's receiving end itself until the whole message is written, so it would
/// otherwise block for ever. Draining stops when the sender closes the channel, when
/// `deadline` passes, after [`DRAIN_IDLE`] without a record, or after [`DRAIN_LIMIT`] in
/// all, so a hostile peer that holds the channel open costs at most that long.
///
/// ```
/// use multiproc_sys::ipc_record::{HEADER, Next, Refusal, check_next};
/// use std::os::fd::AsFd;
/// use std::os::unix::net::UnixDatagram;
///
/// let (a, b) = UnixDatagram::pair()?;
/// assert_eq!(check_next(b.as_fd(), 1024, 4096, None)?, Ok(Next::Nothing));
/// // A forged header claiming a 2^62-byte message: refused, and taken off the socket.
/// let mut forged = (HEADER).to_ne_bytes().to_vec();
/// forged.extend((1usize << 62).to_ne_bytes());
/// a.send(&forged)?;
/// assert!(matches!(check_next(b.as_fd(), 1024, 4096, None)?, Err(Refusal::TooLarge { .. })));
/// assert_eq!(check_next(b.as_fd(), 1024, 4096, None)?, Ok(Next::Nothing));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn check_next(
    fd: BorrowedFd<'_>,
    max: usize,
    max_fragment: usize,
    deadline: Option<Instant>,
) -> io::Result<Result<Next, Refusal>> {
    let mut head = [0u8; HEADER];
    let len = match seqpacket::peek(fd, &mut head)? {
        Peeked::Record { len } => len,
        Peeked::End => return Ok(Ok(Next::End)),
        Peeked::Empty => return Ok(Ok(Next::Nothing)),
    };
    let Some(refusal) = refuse(len, &head, max, max_fragment) else {
        return Ok(Ok(Next::Message));
    };
    drop_refused(fd, len, &head, deadline)?;
    Ok(Err(refusal))
}

/// How much of a record [`check_head`] copies out: the header, then a frame's kind byte and
/// a length (a postcard varint, at most 10 bytes).
///
/// ```
/// assert_eq!(multiproc_sys::ipc_record::HEAD, multiproc_sys::ipc_record::HEADER + 11);
/// ```
pub const HEAD: usize = HEADER + 1 + 10;

/// What [`check_head`] found at the head of the socket.
///
/// ```
/// use multiproc_sys::ipc_record::{NextHead, check_head};
/// use std::os::fd::AsFd;
/// let (_a, b) = std::os::unix::net::UnixDatagram::pair()?;
/// assert_eq!(check_head(b.as_fd(), 1024, 4096, None, false)?, Ok(NextHead::Nothing));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextHead {
    /// A record whose header passed the checks, `len` bytes long, starting with `head` (its
    /// first [`HEAD`] bytes, or fewer if it is shorter); `fds` says whether descriptors
    /// travel with it.
    Message {
        /// The record's length.
        len: usize,
        /// Whether descriptors are attached.
        fds: bool,
        /// The record's first bytes.
        head: [u8; HEAD],
    },
    /// The peer closed the socket.
    End,
    /// Nothing is waiting.
    Nothing,
}

/// [`check_next`] that also returns the record's first [`HEAD`] bytes, its length and
/// whether descriptors travel with it, so that a receiver can read a descriptor-free message
/// itself; with `wait` it blocks until a record or the end arrives.
///
/// ```
/// use multiproc_sys::ipc_record::{HEADER, NextHead, check_head};
/// use std::os::fd::AsFd;
/// let (a, b) = std::os::unix::net::UnixDatagram::pair()?;
/// let mut record = (HEADER + 2).to_ne_bytes().to_vec();
/// record.extend(2usize.to_ne_bytes());
/// record.extend([7, 9]);
/// a.send(&record)?;
/// match check_head(b.as_fd(), 1024, 4096, None, true)? {
///     Ok(NextHead::Message { len, fds, head }) => {
///         assert_eq!((len, fds), (HEADER + 2, false));
///         assert_eq!(&head[HEADER..HEADER + 2], &[7, 9]);
///     }
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn check_head(
    fd: BorrowedFd<'_>,
    max: usize,
    max_fragment: usize,
    deadline: Option<Instant>,
    wait: bool,
) -> io::Result<Result<NextHead, Refusal>> {
    let mut whole = [0u8; HEAD];
    let (len, fds) = match seqpacket::peek_head(fd, &mut whole, wait)? {
        Head::Record { len, fds } => (len, fds),
        Head::End => return Ok(Ok(NextHead::End)),
        Head::Empty => return Ok(Ok(NextHead::Nothing)),
    };
    let mut head = [0u8; HEADER];
    head.copy_from_slice(&whole[..HEADER]);
    let Some(refusal) = refuse(len, &head, max, max_fragment) else {
        return Ok(Ok(NextHead::Message {
            len,
            fds,
            head: whole,
        }));
    };
    drop_refused(fd, len, &head, deadline)?;
    Ok(Err(refusal))
}

/// Takes a refused record off the socket, and drains the rest of its message from its
/// dedicated channel if it continues there.
fn drop_refused(
    fd: BorrowedFd<'_>,
    len: usize,
    head: &[u8; HEADER],
    deadline: Option<Instant>,
) -> io::Result<()> {
    let continues = len >= HEADER && word(&head[WORD..]) > len - HEADER;
    if !continues {
        seqpacket::discard(fd)?;
        return Ok(());
    }
    // The dedicated channel is the last descriptor of the first fragment.
    let fds = seqpacket::take_fds(fd)?.unwrap_or_default();
    if let Some(dedicated) = fds.last() {
        drain(dedicated.as_fd(), deadline)?;
    }
    Ok(())
}

/// Drops records from `fd` until its peer closes it, or one of the limits of
/// [`check_next`] is reached.
fn drain(fd: BorrowedFd<'_>, deadline: Option<Instant>) -> io::Result<()> {
    let limit = crate::time::deadline_after(Some(DRAIN_LIMIT));
    let end = match (deadline, limit) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    loop {
        let wait = crate::time::remaining(end).map_or(DRAIN_IDLE, |left| left.min(DRAIN_IDLE));
        if !crate::poll::wait_readable(fd, Some(wait))? {
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

/// The descriptor an ipc-channel receiver holds, read from its `Debug` form (ipc-channel
/// 0.23 offers no accessor): `OsIpcReceiver { fd: Cell { value: N } }`. `None` if the form
/// is not that one (another ipc-channel version) or the descriptor was moved out (-1).
///
/// Only a number: turning it into a `BorrowedFd` is the caller's promise that the receiver
/// it came from is alive and still owns it.
///
/// ```
/// use multiproc_sys::ipc_record::receiver_fd_from_debug;
/// assert_eq!(receiver_fd_from_debug("OsIpcReceiver { fd: Cell { value: 7 } }"), Some(7));
/// assert_eq!(receiver_fd_from_debug("OsIpcReceiver { fd: Cell { value: -1 } }"), None);
/// assert_eq!(receiver_fd_from_debug("something else"), None);
/// ```
pub fn receiver_fd_from_debug(debug: &str) -> Option<RawFd> {
    const MARK: &str = "OsIpcReceiver { fd: Cell { value: ";
    let start = debug.find(MARK)? + MARK.len();
    let digits = debug[start..].split(' ').next()?;
    digits.parse().ok().filter(|fd| *fd >= 0)
}
