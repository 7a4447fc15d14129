//! The wire format of a [`Connection`](crate::Connection) message, and the guards around
//! ipc-channel's handle bookkeeping.
//!
//! A message is the postcard tuple `(kind, payload, probe)`:
//! * `kind` says whether `payload` is a value (`send`) or raw bytes (`send_bytes`);
//! * a value is postcard-encoded on its own into `payload`, so the receiver can tell
//!   "the bytes arrived" from "the bytes decode as `T`" and a receive never consumes
//!   more than one message;
//! * `probe` is present when the value may carry handles (see [`count_handles`]).
//!
//! ipc-channel serializes a channel or shared-memory handle by pushing it onto a
//! thread-local list and writing its index; `IpcSender::send` then takes the list and
//! passes the fds in one `SCM_RIGHTS` message. Two failure modes follow (deps.md §1.1,
//! §1.8) and are closed here:
//! * more than 64 fds trip an `assert!` inside `send`: we count the handles while
//!   serializing and fail the serialization instead;
//! * a serialization that fails after a handle was pushed leaves it on the list, and the
//!   next send on the thread carries it to a receiver that never consumes it (an fd leak,
//!   or a `debug_assert` panic): [`drain_stale_handles`] sends such leftovers to a
//!   private channel and closes them.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::marker::PhantomData;

use ipc_channel::ipc::{self, IpcSender, IpcSharedMemory, OpaqueIpcSender};
use serde::de::{self, DeserializeOwned, SeqAccess, Visitor};
use serde::ser::{self, SerializeTuple};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::sys::{self, Sink};

/// Handles one message may carry. The kernel limit in ipc-channel is 64 fds; one is
/// reserved for the fragment channel of messages above ~208 KiB and two for the probes.
pub(crate) const MAX_HANDLES: usize = 61;

const KIND_VALUE: u8 = 0;
const KIND_BYTES: u8 = 1;
/// A value of a `Connection<Vec<u8>>`, as its bytes: serde would encode and decode it one
/// element at a time, which costs ~30 instructions a byte.
const KIND_BYTE_VEC: u8 = 2;

thread_local! {
    /// The last frame serialization on this thread failed for too many handles.
    static TOO_MANY_HANDLES: Cell<Option<usize>> = const { Cell::new(None) };
    /// One channel sender and one shared-memory region, cloned to learn list lengths.
    static PROBES: RefCell<Option<(IpcSender<()>, IpcSharedMemory)>> = const { RefCell::new(None) };
}

/// Takes the "too many handles" note left by the last failed serialization.
pub(crate) fn take_too_many_handles() -> Option<usize> {
    TOO_MANY_HANDLES.with(|cell| cell.take())
}

/// Pushes one probe onto each of ipc-channel's thread-local handle lists and returns the
/// index each probe got, i.e. how many handles were on each list before.
fn count_handles() -> Result<(usize, usize), String> {
    PROBES.with(|probes| {
        let mut probes = probes.borrow_mut();
        if probes.is_none() {
            let (sender, _receiver) = ipc::channel::<()>().map_err(|e| e.to_string())?;
            *probes = Some((sender, IpcSharedMemory::from_byte(0, 1)));
        }
        let Some((sender, region)) = probes.as_ref() else {
            return Err("no probe handles".into());
        };
        let channels = postcard::to_stdvec(sender).map_err(|e| e.to_string())?;
        let regions = postcard::to_stdvec(region).map_err(|e| e.to_string())?;
        let channels: usize = postcard::from_bytes(&channels).map_err(|e| e.to_string())?;
        let regions: usize = postcard::from_bytes(&regions).map_err(|e| e.to_string())?;
        Ok((channels, regions))
    })
}

/// Sends handles left on this thread's serialization lists by a failed send to a private
/// channel and closes them on arrival.
pub(crate) fn drain_stale_handles() {
    let Ok((channels, regions)) = count_handles() else {
        return;
    };
    let Ok((sender, receiver)) = ipc::channel::<(Vec<usize>, Vec<usize>)>() else {
        return;
    };
    let message = (
        (0..=channels).collect::<Vec<_>>(),
        (0..=regions).collect::<Vec<_>>(),
    );
    if channels + regions + 2 <= 64 {
        if sender.send(message).is_ok() {
            let receiver = receiver
                .to_opaque()
                .to::<(Vec<OpaqueIpcSender>, Vec<IpcSharedMemory>)>();
            // Receiving consumes every index, so every fd is closed when this is dropped.
            drop(receiver.recv());
        }
    } else {
        // More fds than one message can carry: ipc-channel asserts before sending, and
        // unwinding out of its `send` drops (closes) the lists it took. Quietly: the panic
        // is expected, and a library thread prints nothing.
        let _ = multiproc_sys::panic::catch(true, || sender.send(message));
    }
}

/// A bytes frame whose payload can be received straight into its own buffer (see
/// [`crate::direct`]): where the payload sits in the frame and what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BytesLayout {
    /// A `send_bytes` payload (`false`: a `Vec<u8>` value).
    pub(crate) raw: bool,
    /// Bytes before the payload: the kind and the payload's length.
    pub(crate) prefix: usize,
    /// The payload's length.
    pub(crate) payload: usize,
}

/// The layout of a frame of `frame_len` bytes that starts with `start`, if it is a bytes
/// or byte-vector frame without a probe: kind, varint length, payload, `None`. Anything
/// else (a value, a probe, numbers that do not add up) gives `None` and is left to the
/// general decoder, which reports what is wrong.
pub(crate) fn bytes_layout(start: &[u8], frame_len: usize) -> Option<BytesLayout> {
    let (&kind, rest) = start.split_first()?;
    let raw = match kind {
        KIND_BYTES => true,
        KIND_BYTE_VEC => false,
        _ => return None,
    };
    let (payload, after) = postcard::take_from_bytes::<usize>(rest).ok()?;
    let prefix = 1 + rest.len() - after.len();
    let expected = prefix.checked_add(payload)?.checked_add(1)?;
    (expected == frame_len).then_some(BytesLayout {
        raw,
        prefix,
        payload,
    })
}

/// The last byte of a bytes frame: no probe.
pub(crate) const NO_PROBE: u8 = 0;

/// Bytes serialized with `serialize_bytes` (one memcpy), not element by element.
struct RawBytes<'a>(&'a [u8]);

impl Serialize for RawBytes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

/// An outgoing message borrowing its content.
pub(crate) enum FrameOut<'a, T> {
    Value(&'a T),
    Bytes(&'a [u8]),
}

impl<T: Serialize> Serialize for FrameOut<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (kind, encoded, probe);
        let payload: &[u8] = match self {
            FrameOut::Bytes(bytes) => {
                kind = KIND_BYTES;
                probe = None;
                bytes
            }
            FrameOut::Value(value) => match sys::as_byte_vec(*value) {
                Some(bytes) => {
                    kind = KIND_BYTE_VEC;
                    probe = None;
                    bytes
                }
                None => {
                    kind = KIND_VALUE;
                    encoded = postcard::to_stdvec(value).map_err(ser::Error::custom)?;
                    // Each handle takes at least one byte of payload, so a short payload cannot
                    // carry too many; only longer ones pay for counting.
                    // Counting pushes two probe handles into the message (two descriptors to
                    // send, receive and close): types known to hold no handle skip it.
                    probe = if encoded.len() > MAX_HANDLES && !sys::is_handle_free::<T>() {
                        let (channels, regions) = count_handles().map_err(ser::Error::custom)?;
                        if channels + regions > MAX_HANDLES {
                            TOO_MANY_HANDLES.with(|cell| cell.set(Some(channels + regions)));
                            return Err(ser::Error::custom("too many handles in one message"));
                        }
                        Some((channels, regions))
                    } else {
                        None
                    };
                    &encoded
                }
            },
        };
        let mut tuple = serializer.serialize_tuple(3)?;
        tuple.serialize_element(&kind)?;
        tuple.serialize_element(&RawBytes(payload))?;
        tuple.serialize_element(&probe)?;
        tuple.end()
    }
}

/// Never used: ipc-channel's typed-sender conversion asks for it.
impl<'de, T> Deserialize<'de> for FrameOut<'_, T> {
    fn deserialize<D: Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        Err(de::Error::custom("an outgoing frame is never deserialized"))
    }
}

/// A received message.
pub(crate) enum Received<T> {
    Value(T),
    Bytes(Vec<u8>),
    /// A bytes payload of this length, already copied into the receiving thread's
    /// [`Sink`]. Only `recv_bytes_into` sets a sink, and it consumes this at once: never
    /// stored, never sent.
    Copied(usize),
}

impl<T> Received<T> {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Received::Value(_) => "value",
            Received::Bytes(_) | Received::Copied(_) => "bytes",
        }
    }
}

impl<T> fmt::Debug for Received<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Received::Value(_) => f.write_str("Received::Value(..)"),
            Received::Bytes(bytes) => write!(f, "Received::Bytes({} bytes)", bytes.len()),
            Received::Copied(len) => write!(f, "Received::Copied({len} bytes)"),
        }
    }
}

impl<T: Serialize> Serialize for Received<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Received::Value(value) => FrameOut::Value(value).serialize(serializer),
            Received::Bytes(bytes) => FrameOut::<T>::Bytes(bytes).serialize(serializer),
            Received::Copied(_) => Err(ser::Error::custom(
                "a message received into a caller's buffer cannot be re-sent",
            )),
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Received<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_tuple(3, FrameVisitor(PhantomData))
    }
}

struct FrameVisitor<T>(PhantomData<fn() -> T>);

impl<'de, T: DeserializeOwned> Visitor<'de> for FrameVisitor<T> {
    type Value = Received<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a multiproc connection frame")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // Taken before the payload is decoded, so frames nested in a value never see it.
        let sink = Sink::take();
        let kind: u8 = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let payload: &'de [u8] = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(1, &self))?;
        let probe: Option<(usize, usize)> = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(2, &self))?;
        // Consume the probes first, so a payload that fails to decode still leaves them closed.
        if let Some((channel, region)) = probe {
            consume_probe::<OpaqueIpcSender>(channel).map_err(de::Error::custom)?;
            consume_probe::<IpcSharedMemory>(region).map_err(de::Error::custom)?;
        }
        match kind {
            KIND_BYTES => match sink.map(|sink| sink.fill(payload)) {
                Some(Ok(len)) => Ok(Received::Copied(len)),
                // No sink, or too small: the caller keeps the message for later.
                _ => Ok(Received::Bytes(payload.to_vec())),
            },
            KIND_BYTE_VEC => sys::byte_vec_into(payload.to_vec())
                .map(Received::Value)
                .map_err(|_| {
                    de::Error::custom(format!(
                        "a byte-vector value arrived for a connection of {}",
                        std::any::type_name::<T>()
                    ))
                }),
            // Nested decode: ipc-channel's handle lists are still set for this message.
            KIND_VALUE => postcard::from_bytes(payload)
                .map(Received::Value)
                .map_err(de::Error::custom),
            other => Err(de::Error::custom(format!("unknown frame kind {other}"))),
        }
    }
}

/// Takes the probe handle at `index` off ipc-channel's receive lists and closes it.
fn consume_probe<H: DeserializeOwned>(index: usize) -> Result<(), String> {
    let encoded = postcard::to_stdvec(&index).map_err(|e| e.to_string())?;
    postcard::from_bytes::<H>(&encoded)
        .map(drop)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod layout_tests {
    use super::*;

    #[test]
    fn bytes_frames_are_laid_out_as_postcard_writes_them() {
        for (frame, raw) in [
            (FrameOut::<()>::Bytes(&[5; 300]), true),
            (FrameOut::<()>::Bytes(&[]), true),
        ] {
            let encoded = postcard::to_stdvec(&frame).unwrap();
            let layout = bytes_layout(&encoded[..encoded.len().min(11)], encoded.len()).unwrap();
            assert!(layout.raw == raw);
            assert_eq!(layout.prefix + layout.payload + 1, encoded.len());
            assert_eq!(encoded[encoded.len() - 1], NO_PROBE);
        }
        let value = vec![1u8, 2, 3];
        let encoded = postcard::to_stdvec(&FrameOut::Value(&value)).unwrap();
        let layout = bytes_layout(&encoded, encoded.len()).unwrap();
        assert!(!layout.raw);
        assert_eq!(&encoded[layout.prefix..][..layout.payload], &value[..]);
        // A value, a wrong length, a truncated varint: left to the general decoder.
        let other = postcard::to_stdvec(&FrameOut::Value(&7u32)).unwrap();
        assert!(bytes_layout(&other, other.len()).is_none());
        assert!(bytes_layout(&encoded, encoded.len() + 1).is_none());
        assert!(bytes_layout(&[KIND_BYTES, 0x80], 3).is_none());
        assert!(
            bytes_layout(
                &[
                    KIND_BYTES, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01
                ],
                usize::MAX
            )
            .is_none()
        );
    }
}
