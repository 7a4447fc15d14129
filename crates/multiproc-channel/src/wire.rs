//! The pipe's own frame: byte messages, and values that carry no descriptor, written
//! straight onto the pipe's socket instead of through ipc-channel.
//!
//! ipc-channel sends a message larger than one record (~208 KiB) by creating a fresh
//! socketpair for it, passing one end along with the first record and writing the rest
//! there; its receiver reserves a buffer of its largest record for every message and copies
//! the payload once more out of the decoded message. A frame of our own avoids all three:
//!
//! * a **first record**: a 16-byte header (a tag that no ipc-channel record starts with,
//!   and the payload's total length), then the first [`INLINE`] bytes of the payload at
//!   most;
//! * **continuation records**, if the payload is longer: a header (the tag with
//!   [`CONTINUED`], and the offset of the piece), then a piece of the payload as large as
//!   the socket takes in one record (its send buffer, raised when the pipe is made).
//!
//! The receiver takes the first record into a small per-thread buffer, checks the announced
//! length against the pipe's maximum message size before anything is allocated for it,
//! makes one buffer of that length (zeroed by the allocator, so a length announced and never
//! sent costs no memory touched), and receives each continuation straight into its place.
//! Every record must continue at the offset reached, and must fit what is left: anything
//! else (a peer that died or lied, or two writers whose records interleaved) is an error,
//! never a hang or a read past the buffer.
//!
//! ipc-channel's records start with their own length, so the tag (both of whose 32-bit
//! halves exceed any record a socket can hold) tells the two apart. Messages that may carry
//! descriptors still go through ipc-channel, interleaved in order with these records on the
//! same socket. A receiver whose values can carry no descriptor
//! ([`sys::is_handle_free`]) expects nothing but these frames from an honest peer and
//! receives each message with one `recvmsg(2)`, without peeking first; other receivers peek
//! at each record ([`crate::record::check_next`]) and read ours here.

use std::cell::RefCell;
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use ipc_channel::ipc::{IpcMessage, IpcSender};
use ipc_channel::platform::OsIpcSender;
use multiproc_sys::ipc_record::{self, Refusal};
use multiproc_sys::ipc_sender::WatchedSender;
use multiproc_sys::seqpacket_io::{self, Received as Got};
use multiproc_sys::time::remaining;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::PipeError;
use crate::frame::{FrameOut, Received};
use crate::guard::guard_decode;
use crate::sys::{self, Sink};

/// The record header: the tag, then the total length (first record) or the offset
/// (continuation), both native-endian `u64`.
pub(crate) const HEADER: usize = 16;
/// The payload bytes a first record carries at most.
pub(crate) const INLINE: usize = 16 * 1024 - HEADER;
/// The tag of every record of ours; the low byte says which record it is.
const TAG: u64 = 0xFFFF_FF4D_FFFF_FF00;
const TAG_MASK: u64 = !0xFF;
/// A first record of a `send_bytes` payload.
const FIRST_BYTES: u8 = 1;
/// A first record of a `Vec<u8>` value, as its bytes.
const FIRST_BYTE_VEC: u8 = 2;
/// A first record of a postcard-encoded value.
const FIRST_VALUE: u8 = 3;
/// A continuation record.
pub(crate) const CONTINUED: u8 = 4;
/// A first record of a `String` value, as its UTF-8 bytes.
const FIRST_STRING: u8 = 5;

/// The smallest continuation piece tried when the socket refuses a larger record.
const MIN_PIECE: usize = 4096;
/// The largest continuation piece: a record is one kernel allocation, and pieces beyond
/// this gain nothing measurable.
const MAX_PIECE: usize = 4 << 20;
/// The send buffer a pipe asks for (the kernel caps it at `net.core.wmem_max`).
pub(crate) const SEND_BUFFER: usize = 4 << 20;

/// The continuation piece size in use (0: not yet known in this process).
static PIECE: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Where first records land: reused, so a small message costs no allocation but its own.
    static FIRST: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

fn header(code: u8, word: u64) -> [u8; HEADER] {
    let mut head = [0u8; HEADER];
    head[..8].copy_from_slice(&(TAG | u64::from(code)).to_ne_bytes());
    head[8..].copy_from_slice(&word.to_ne_bytes());
    head
}

/// The record code, if `head` starts one of our records.
pub(crate) fn code(head: &[u8]) -> Option<u8> {
    let tag = u64::from_ne_bytes(head.get(..8)?.try_into().ok()?);
    (tag & TAG_MASK == TAG).then_some((tag & 0xFF) as u8)
}

/// The second header word (the total length or the offset).
pub(crate) fn word(head: &[u8]) -> Option<u64> {
    Some(u64::from_ne_bytes(head.get(8..HEADER)?.try_into().ok()?))
}

/// The largest continuation piece `fd` takes in one record.
fn piece_size(fd: BorrowedFd<'_>) -> usize {
    match PIECE.load(Ordering::Relaxed) {
        0 => {
            // ipc-channel's reserve for the kernel's bookkeeping is ~0.5 KiB; leave 1 KiB.
            let buffer = seqpacket_io::send_buffer(fd)
                .unwrap_or_else(|_| OsIpcSender::get_max_fragment_size());
            let piece =
                (buffer.saturating_sub(1024) & !(MIN_PIECE - 1)).clamp(MIN_PIECE, MAX_PIECE);
            PIECE.store(piece, Ordering::Relaxed);
            piece
        }
        piece => piece,
    }
}

fn closed_or_io(err: io::Error) -> PipeError {
    match err.kind() {
        io::ErrorKind::BrokenPipe
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionRefused
        | io::ErrorKind::NotConnected => PipeError::Closed,
        _ => PipeError::Io(err),
    }
}

/// Sends `frame` as records of ours on `fd`, if it goes that way: bytes always, values only
/// of types that carry no descriptor. `None`: send it through ipc-channel.
pub(crate) fn send<T: Serialize>(
    fd: BorrowedFd<'_>,
    frame: &FrameOut<'_, T>,
) -> Option<Result<(), PipeError>> {
    let encoded;
    let (code, payload): (u8, &[u8]) = match frame {
        FrameOut::Bytes(bytes) => (FIRST_BYTES, bytes),
        FrameOut::Value(value) => match (sys::as_byte_vec(*value), sys::as_string(*value)) {
            (Some(bytes), _) => (FIRST_BYTE_VEC, bytes),
            (None, Some(text)) => (FIRST_STRING, text.as_bytes()),
            (None, None) if sys::is_handle_free::<T>() => match postcard::to_stdvec(value) {
                Ok(bytes) => {
                    encoded = bytes;
                    (FIRST_VALUE, &encoded)
                }
                Err(err) => return Some(Err(PipeError::Encode(err.to_string()))),
            },
            (None, None) => return None,
        },
    };
    Some(send_payload(fd, code, payload))
}

fn send_payload(fd: BorrowedFd<'_>, code: u8, payload: &[u8]) -> Result<(), PipeError> {
    let total = u64::try_from(payload.len()).unwrap_or(u64::MAX);
    let first = payload.len().min(INLINE);
    let head = header(code, total);
    seqpacket_io::send_record(fd, &[IoSlice::new(&head), IoSlice::new(&payload[..first])])
        .map_err(closed_or_io)?;
    let mut offset = first;
    let mut piece = if offset < payload.len() {
        piece_size(fd)
    } else {
        0
    };
    while offset < payload.len() {
        let end = offset + piece.min(payload.len() - offset);
        let head = header(CONTINUED, offset as u64);
        match seqpacket_io::send_record(
            fd,
            &[IoSlice::new(&head), IoSlice::new(&payload[offset..end])],
        ) {
            Ok(()) => offset = end,
            // This socket's buffer is smaller than the piece (or memory is short): halve it.
            Err(err) if piece > MIN_PIECE && seqpacket_io::too_large(&err) => {
                piece /= 2;
                PIECE.store(piece, Ordering::Relaxed);
            }
            Err(err) => return Err(closed_or_io(err)),
        }
    }
    Ok(())
}

/// What [`recv`] found.
pub(crate) enum Next<T> {
    Message(Received<T>),
    End,
    Empty,
}

/// Receives the next message off `fd`, expecting a record of ours (the peer's values carry
/// no descriptor, or a peek saw our tag). `max` bounds the announced length; `wait` blocks
/// until a record or the end arrives. A stray continuation (the rest of a message refused
/// or cut short before) is dropped and the next record read.
pub(crate) fn recv<T: Serialize + DeserializeOwned>(
    fd: BorrowedFd<'_>,
    max: usize,
    wait: bool,
) -> Result<Next<T>, PipeError> {
    FIRST.with(|first| match first.try_borrow_mut() {
        Ok(mut buffer) => recv_with(fd, max, wait, &mut buffer),
        // Only a receive nested in a value's decoding finds it taken.
        Err(_) => recv_with(fd, max, wait, &mut Vec::new()),
    })
}

fn recv_with<T: Serialize + DeserializeOwned>(
    fd: BorrowedFd<'_>,
    max: usize,
    wait: bool,
    inline: &mut Vec<u8>,
) -> Result<Next<T>, PipeError> {
    if inline.len() < HEADER + INLINE {
        inline.resize(HEADER + INLINE, 0);
    }
    loop {
        // One buffer, one `recv(2)`: descriptors have no place in a record read here, and
        // any that a peer attached are closed by the kernel.
        let got = seqpacket_io::recv_record_into(fd, &mut inline[..HEADER + INLINE], wait)?;
        let (len, whole) = match got {
            Got::Record { len, whole } => (len, whole),
            Got::End => return Ok(Next::End),
            Got::Empty => return Ok(Next::Empty),
        };
        let (head, body) = inline.split_at(HEADER);
        let Some(code) = code(&head[..len.min(HEADER)]) else {
            return foreign(
                len,
                whole,
                head,
                &body[..len.saturating_sub(HEADER).min(INLINE)],
                max,
            )
            .map(Next::Message);
        };
        if len < HEADER {
            return Err(PipeError::Decode(format!(
                "a {len}-byte record is shorter than a frame header"
            )));
        }
        let total = word(head).unwrap_or(u64::MAX);
        if code == CONTINUED {
            continue;
        }
        if !matches!(
            code,
            FIRST_BYTES | FIRST_BYTE_VEC | FIRST_VALUE | FIRST_STRING
        ) {
            return Err(PipeError::Decode(format!("unknown frame record {code}")));
        }
        let total = match usize::try_from(total) {
            Ok(total) if total <= max => total,
            _ => return Err(PipeError::MessageTooLarge { size: total, max }),
        };
        let first = total.min(INLINE);
        if !whole || len - HEADER != first {
            return Err(PipeError::Decode(format!(
                "a frame of {total} bytes starts with a {len}-byte record"
            )));
        }
        let start = &body[..first];
        if code == FIRST_BYTES
            && let Some(sink) = Sink::take()
            && let Ok(result) = sink.with_buffer(total, |buffer| {
                buffer[..first].copy_from_slice(start);
                receive_rest(fd, buffer, first)
            })
        {
            result?;
            return Ok(Next::Message(Received::Copied(total)));
        }
        if first == total {
            // All of it came in the first record: one copy into a buffer of its size
            // (`malloc`, which glibc serves from its per-thread cache for small sizes,
            // where the zeroed buffer below is a `calloc`, which never is).
            return finish(code, start.to_vec()).map(Next::Message);
        }
        let mut payload = vec![0u8; total];
        payload[..first].copy_from_slice(start);
        receive_rest(fd, &mut payload, first)?;
        return finish(code, payload).map(Next::Message);
    }
}

/// Receives the continuations of a frame into `buffer[offset..]`, blocking (the sender is
/// writing them now; its death ends the wait with an error).
fn receive_rest(fd: BorrowedFd<'_>, buffer: &mut [u8], mut offset: usize) -> Result<(), PipeError> {
    let total = buffer.len();
    while offset < total {
        let mut head = [0u8; HEADER];
        let got = seqpacket_io::recv_record(
            fd,
            &mut [
                IoSliceMut::new(&mut head),
                IoSliceMut::new(&mut buffer[offset..]),
            ],
            true,
        )?;
        let (len, whole) = match got {
            Got::Record { len, whole } => (len, whole),
            Got::End => {
                return Err(PipeError::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("the peer closed the pipe after {offset} of a {total}-byte message"),
                )));
            }
            Got::Empty => {
                // A descriptor made non-blocking elsewhere: wait for the next record.
                multiproc_sys::poll::wait_readable(fd, None)?;
                continue;
            }
        };
        let continues = len > HEADER
            && whole
            && code(&head) == Some(CONTINUED)
            && word(&head) == Some(offset as u64);
        if !continues {
            return Err(PipeError::Io(io::Error::other(format!(
                "a {total}-byte message broke off after {offset} bytes: another record came \
                 in its place (do several processes send on this end at once?)"
            ))));
        }
        offset += len - HEADER;
    }
    Ok(())
}

/// The message a frame's payload makes.
fn finish<T: Serialize + DeserializeOwned>(
    code: u8,
    payload: Vec<u8>,
) -> Result<Received<T>, PipeError> {
    match code {
        FIRST_BYTES => Ok(Received::Bytes(payload)),
        FIRST_BYTE_VEC => sys::byte_vec_into(payload)
            .map(Received::Value)
            .map_err(|_| {
                PipeError::Decode(format!(
                    "a byte-vector value arrived for a connection of {}",
                    std::any::type_name::<T>()
                ))
            }),
        FIRST_STRING => String::from_utf8(payload)
            .map_err(|err| PipeError::Decode(format!("a string value is not UTF-8: {err}")))
            .and_then(|text| {
                sys::string_into(text).map(Received::Value).map_err(|_| {
                    PipeError::Decode(format!(
                        "a string value arrived for a connection of {}",
                        std::any::type_name::<T>()
                    ))
                })
            }),
        // A `T` that claims a handle makes ipc-channel index an empty descriptor table: the
        // guard turns that panic into a decode error.
        _ => guard_decode(|| postcard::from_bytes::<T>(&payload).map_err(|err| err.to_string()))
            .and_then(|decoded| decoded)
            .map(Received::Value)
            .map_err(PipeError::Decode),
    }
}

/// A record that is not ours, already taken off the socket: an ipc-channel message from a
/// peer that should have sent a frame. Its header gets ipc-channel's checks; a message whole
/// in one small record is decoded as ipc-channel would (any descriptors that came with it
/// were closed by the kernel: the receiving type has no place for them), anything else is
/// refused.
fn foreign<T: Serialize + DeserializeOwned>(
    len: usize,
    whole: bool,
    head: &[u8],
    data: &[u8],
    max: usize,
) -> Result<Received<T>, PipeError> {
    let mut ipc_head = [0u8; ipc_record::HEADER];
    let n = ipc_record::HEADER.min(HEADER);
    ipc_head[..n].copy_from_slice(&head[..n]);
    match ipc_record::refuse(len, &ipc_head, max, OsIpcSender::get_max_fragment_size()) {
        Some(Refusal::TooLarge { size, max }) => Err(PipeError::MessageTooLarge { size, max }),
        Some(Refusal::Malformed(detail)) => Err(PipeError::Decode(detail)),
        None if whole
            && len - ipc_record::HEADER == data.len()
            && data.len() < INLINE
            && word(head) == Some(data.len() as u64) =>
        {
            guard_decode(|| {
                IpcMessage::from_data(data.to_vec())
                    .to::<Received<T>>()
                    .map_err(|err| err.to_string())
            })
            .and_then(|decoded| decoded)
            .map_err(PipeError::Decode)
        }
        None => Err(PipeError::Decode(format!(
            "a {len}-byte ipc-channel record continued elsewhere arrived on a pipe whose \
             values carry no descriptor"
        ))),
    }
}

/// [`recv`] until `deadline` (`None`: no limit): the receive of a connection whose values
/// carry no descriptor. `Ok(None)` on timeout; [`PipeError::Closed`] at the end.
pub(crate) fn fetch<T: Serialize + DeserializeOwned>(
    fd: BorrowedFd<'_>,
    max: usize,
    deadline: Option<Instant>,
) -> Result<Option<Received<T>>, PipeError> {
    // Without a deadline the receive itself blocks: one system call per message.
    let mut wait = deadline.is_none();
    loop {
        if !wait && !multiproc_sys::poll::wait_readable(fd, remaining(deadline))? {
            return Ok(None);
        }
        match recv::<T>(fd, max, wait)? {
            Next::Message(message) => return Ok(Some(message)),
            Next::End => return Err(PipeError::Closed),
            Next::Empty => {
                // A blocking receive finds nothing only on a descriptor made non-blocking
                // elsewhere: poll from now on.
                wait = false;
                if remaining(deadline).is_some_and(|left| left.is_zero()) {
                    return Ok(None);
                }
            }
        }
    }
}

/// Raises the send buffer of a new pipe's sending socket to [`SEND_BUFFER`], so that a
/// large message goes in few records. Best effort: a socket that keeps a smaller buffer
/// still works, with smaller pieces.
pub(crate) fn raise_send_buffer<S>(sender: IpcSender<S>) -> IpcSender<S>
where
    S: Serialize + DeserializeOwned,
{
    let watched = WatchedSender::new(sender.to_opaque());
    if let Some(fd) = watched.fd()
        && let Err(err) = seqpacket_io::raise_send_buffer(fd, SEND_BUFFER)
    {
        log::debug!("the pipe keeps its send buffer: {err}");
    }
    watched.inner().clone().to()
}
