//! Messages read straight off a pipe's socket, without ipc-channel's receive.
//!
//! ipc-channel's receive reserves a buffer of its largest record (~208 KiB) for every
//! message, even an 8-byte one, and copies a bytes payload once more out of the decoded
//! frame. A message that came in one record without descriptors (what `send_bytes` and
//! every handle-free `send` of up to ~208 KiB produce) needs none of that: its record
//! header was checked by [`record::check_next`](crate::record::check_next), and the frame
//! format is ours ([`crate::frame`]). A bytes payload is received by one recvmsg(2)
//! straight into its own `Vec` (or the caller's buffer); a value frame into an exact-size
//! buffer that is decoded as ipc-channel would decode it. Records with descriptors, and
//! messages continued on a dedicated channel, still go through ipc-channel.

use std::io::{self, IoSliceMut};
use std::os::fd::BorrowedFd;

use ipc_channel::ipc::IpcMessage;
use multiproc_sys::seqpacket;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::PipeError;
use crate::frame::{self, NO_PROBE, Received};
use crate::guard::guard_decode;
use crate::record::{HEAD, HEADER};
use crate::sys::{self, Sink};
use crate::wire;

/// Reads the next record of `fd`, `len` bytes long and starting with `head`, which
/// [`record::check_next`](crate::record::check_next) passed and found without descriptors.
/// `Ok(None)` if the message continues past this record (ipc-channel then reads it). A
/// record of the pipe's own frame is read by [`wire::recv`], against `max`.
pub(crate) fn recv<T: Serialize + DeserializeOwned>(
    fd: BorrowedFd<'_>,
    len: usize,
    head: &[u8; HEAD],
    max: usize,
) -> Result<Option<Received<T>>, PipeError> {
    if wire::code(&head[..len.min(HEAD)]).is_some() {
        return match wire::recv::<T>(fd, max, false)? {
            wire::Next::Message(message) => Ok(Some(message)),
            wire::Next::End => Err(PipeError::Closed),
            wire::Next::Empty => Err(vanished()),
        };
    }
    let mut total = [0u8; HEADER / 2];
    total.copy_from_slice(&head[HEADER / 2..HEADER]);
    let frame_len = len - HEADER; // check_next refused records shorter than the header
    if usize::from_ne_bytes(total) != frame_len {
        return Ok(None);
    }
    let start = &head[HEADER..len.min(HEAD)];
    let Some(layout) = frame::bytes_layout(start, frame_len) else {
        return recv_value(fd, len).map(Some);
    };
    let prefix_len = HEADER + layout.prefix;
    let mut prefix = [0u8; HEAD];
    let mut tail = [0u8; 1];
    let mut read = |payload: &mut [u8]| -> Result<(), PipeError> {
        let mut parts = [
            IoSliceMut::new(&mut prefix[..prefix_len]),
            IoSliceMut::new(payload),
            IoSliceMut::new(&mut tail),
        ];
        match seqpacket::recv_parts(fd, &mut parts)? {
            Some((got, true)) if got == len => {}
            _ => return Err(vanished()),
        }
        if prefix[..prefix_len] != head[..prefix_len] || tail[0] != NO_PROBE {
            return Err(vanished());
        }
        Ok(())
    };
    // recv_bytes_into: straight into the caller's buffer when it is big enough.
    if layout.raw
        && let Some(sink) = Sink::take()
        && let Ok(result) = sink.with_buffer(layout.payload, &mut read)
    {
        result?;
        return Ok(Some(Received::Copied(layout.payload)));
    }
    let mut payload = vec![0u8; layout.payload];
    read(&mut payload)?;
    if layout.raw {
        return Ok(Some(Received::Bytes(payload)));
    }
    sys::byte_vec_into(payload)
        .map(|value| Some(Received::Value(value)))
        .map_err(|_| {
            PipeError::Decode(format!(
                "a byte-vector value arrived for a connection of {}",
                std::any::type_name::<T>()
            ))
        })
}

/// Reads a value frame of one record into an exact-size buffer and decodes it as
/// ipc-channel does for a message without descriptors.
fn recv_value<T: Serialize + DeserializeOwned>(
    fd: BorrowedFd<'_>,
    len: usize,
) -> Result<Received<T>, PipeError> {
    let mut header = [0u8; HEADER];
    let mut data = vec![0u8; len - HEADER];
    let mut parts = [IoSliceMut::new(&mut header), IoSliceMut::new(&mut data)];
    match seqpacket::recv_parts(fd, &mut parts)? {
        Some((got, true)) if got == len => {}
        _ => return Err(vanished()),
    }
    // A `T` that claims a handle makes ipc-channel index an empty descriptor table: the
    // guard turns that panic into a decode error.
    guard_decode(|| {
        IpcMessage::from_data(data)
            .to::<Received<T>>()
            .map_err(|err| err.to_string())
    })
    .and_then(|decoded| decoded)
    .map_err(PipeError::Decode)
}

/// The record read differs from the one checked: another process reads this end too.
fn vanished() -> PipeError {
    PipeError::Io(io::Error::other(
        "the message changed between its check and its receipt (does another process \
         receive on this end?)",
    ))
}
