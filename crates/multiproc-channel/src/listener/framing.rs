//! Length-prefixed frames, as in CPython's `multiprocessing.connection`: a 4-byte
//! big-endian signed length, or `-1` followed by an 8-byte big-endian length for messages
//! above 2 GiB, then the payload.

use std::io::{self, Read, Write};

use crate::error::PipeError;

/// The largest message a connection accepts unless configured otherwise: 64 MiB.
///
/// ```
/// use multiproc_channel::{DEFAULT_MAX_MESSAGE_SIZE, Listener};
///
/// assert_eq!(DEFAULT_MAX_MESSAGE_SIZE, 64 << 20);
/// let listener = Listener::bind_unix_temp(None)?.with_max_message_size(2 * DEFAULT_MAX_MESSAGE_SIZE);
/// # drop(listener);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 << 20;

/// Payload bytes reserved up front for a frame; larger frames grow as their bytes arrive,
/// so a peer that announces a large message and sends nothing costs no more than this.
const PREALLOCATE_AT_MOST: usize = 1 << 20;

/// Frames up to this size go out in one `write` together with their header.
const COALESCE_AT_MOST: usize = 64 << 10;

fn from_io(err: io::Error) -> PipeError {
    match err.kind() {
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::NotConnected => PipeError::Closed,
        _ => PipeError::Io(err),
    }
}

/// Writes one frame: the length prefix, then `payload`.
pub(crate) fn write_frame(stream: &mut impl Write, payload: &[u8]) -> Result<(), PipeError> {
    let mut header = Vec::with_capacity(12);
    match i32::try_from(payload.len()) {
        Ok(len) => header.extend_from_slice(&len.to_be_bytes()),
        Err(_) => {
            header.extend_from_slice(&(-1_i32).to_be_bytes());
            header.extend_from_slice(&(payload.len() as u64).to_be_bytes());
        }
    }
    let result = if payload.len() <= COALESCE_AT_MOST {
        header.extend_from_slice(payload);
        stream.write_all(&header)
    } else {
        stream
            .write_all(&header)
            .and_then(|()| stream.write_all(payload))
    };
    result.map_err(from_io)
}

/// Reads one frame of at most `max` payload bytes.
///
/// The announced length is checked before anything is allocated for it, and the payload
/// buffer grows only as bytes arrive. A clean or mid-frame end of stream is
/// [`PipeError::Closed`].
pub(crate) fn read_frame(stream: &mut impl Read, max: usize) -> Result<Vec<u8>, PipeError> {
    let mut header = [0; 4];
    stream.read_exact(&mut header).map_err(from_io)?;
    let size = match i32::from_be_bytes(header) {
        -1 => {
            let mut long = [0; 8];
            stream.read_exact(&mut long).map_err(from_io)?;
            u64::from_be_bytes(long)
        }
        len if len >= 0 => len as u64,
        len => return Err(PipeError::Decode(format!("invalid message length {len}"))),
    };
    if size > max as u64 {
        return Err(PipeError::MessageTooLarge { size, max });
    }
    let size = size as usize;
    let mut payload = Vec::with_capacity(size.min(PREALLOCATE_AT_MOST));
    stream
        .take(size as u64)
        .read_to_end(&mut payload)
        .map_err(from_io)?;
    if payload.len() < size {
        return Err(PipeError::Closed);
    }
    Ok(payload)
}
