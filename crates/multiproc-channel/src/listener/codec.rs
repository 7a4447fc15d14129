//! Typed socket messages: a value is its postcard encoding in one frame, so
//! [`send`](crate::SocketConnection::send) is `send_bytes(postcard(value))`, as Python's
//! `send` is `send_bytes(pickle(value))`.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::PipeError;

/// Encodes `value` with postcard, refusing shared-memory handles and connections.
pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, PipeError> {
    multiproc_shared::with_plain_serialization(|| postcard::to_stdvec(value)).map_err(|err| {
        // A raw ipc-channel end may have pushed its fd before the failure.
        crate::frame::drain_stale_handles();
        // postcard drops custom messages; the usual custom error here is a handle
        // refusing plain serialization.
        let hint = if matches!(err, postcard::Error::SerdeSerCustom) {
            " (shared-memory handles and Connections cannot travel over a socket; send them \
             over a Pipe or pass them as Process arguments)"
        } else {
            ""
        };
        PipeError::Encode(format!("{err}{hint}"))
    })
}

/// Decodes a whole payload as `T`; trailing bytes are an error.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, PipeError> {
    // A type holding ipc-channel handles panics inside ipc-channel when decoded from plain
    // bytes (it indexes an empty descriptor table); that is hostile input, not a bug here.
    let decoded = crate::guard::guard_decode(|| postcard::take_from_bytes::<T>(bytes))
        .map_err(PipeError::Decode)?;
    match decoded {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(PipeError::Decode(format!(
            "{} trailing bytes after a {}",
            rest.len(),
            std::any::type_name::<T>()
        ))),
        Err(err) => Err(PipeError::Decode(format!(
            "a {}-byte message does not decode as {}: {err}",
            bytes.len(),
            std::any::type_name::<T>()
        ))),
    }
}
