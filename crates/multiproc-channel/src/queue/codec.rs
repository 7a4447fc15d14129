//! The bytes of a queue item: postcard, into a reused per-thread buffer, with a one-copy
//! path for `Vec<u8>` items.

use std::any::{Any, type_name};
use std::cell::RefCell;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::QueueError;
use crate::frame;
use crate::guard::guard_decode;

thread_local! {
    /// Reused encode/decode buffer, so a small put or get allocates nothing.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A scratch buffer larger than this is freed after use rather than kept for the thread.
const SCRATCH_KEEP: usize = 64 << 20;

/// postcard output appended to a reused `Vec`: a `push` per byte and an
/// `extend_from_slice` per byte string. (`postcard::to_io` on a `Vec` goes through
/// `io::Write::write_all` for every single byte: ~4x slower on a `Vec<u8>` item.)
struct VecFlavor<'a>(&'a mut Vec<u8>);

impl postcard::ser_flavors::Flavor for VecFlavor<'_> {
    type Output = ();

    #[inline(always)]
    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.0.extend_from_slice(data);
        Ok(())
    }

    #[inline(always)]
    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.0.push(data);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

/// Runs `body` with this thread's scratch buffer, emptied.
pub(super) fn with_scratch<R>(body: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    SCRATCH.with(|scratch| {
        let mut buffer = scratch.borrow_mut();
        buffer.clear();
        let result = body(&mut buffer);
        if buffer.capacity() > SCRATCH_KEEP {
            *buffer = Vec::new();
        }
        result
    })
}

/// The bytes of a `Vec<u8>` or `String` item, seen through its generic type.
///
/// serde encodes a `Vec<u8>` one element at a time (it has no specialisation for bytes),
/// which for a MiB-sized item costs several times the copy. A queue of `Vec<u8>` or
/// `String` writes and reads the very same postcard bytes (a varint length, then the
/// bytes) with one copy each way instead.
fn as_byte_vec<T: 'static>(item: &T) -> Option<&[u8]> {
    let item = item as &dyn Any;
    match item.downcast_ref::<Vec<u8>>() {
        Some(bytes) => Some(bytes),
        None => item.downcast_ref::<String>().map(String::as_bytes),
    }
}

/// A `String` item (`T` is `String`) whose length prefix the ring already checked and
/// left out: the bytes are the item, if they are UTF-8 (as postcard would check).
pub(super) fn decode_string_bytes<T: 'static>(bytes: Vec<u8>) -> Result<T, QueueError> {
    let len = bytes.len();
    let string = String::from_utf8(bytes).map_err(|err| {
        QueueError::Decode(format!(
            "a {len}-byte item does not decode as {}: {}",
            type_name::<T>(),
            err.utf8_error()
        ))
    })?;
    let mut slot = Some(string);
    (&mut slot as &mut dyn Any)
        .downcast_mut::<Option<T>>()
        .and_then(Option::take)
        .ok_or_else(|| QueueError::Decode(format!("{} is not String", type_name::<T>())))
}

/// A `Vec<u8>` item (`T` is `Vec<u8>`) whose length prefix the ring already checked and
/// left out: the bytes are the item.
pub(super) fn decode_byte_vec_bytes<T: 'static>(bytes: Vec<u8>) -> Result<T, QueueError> {
    let mut slot = Some(bytes);
    (&mut slot as &mut dyn Any)
        .downcast_mut::<Option<T>>()
        .and_then(Option::take)
        .ok_or_else(|| QueueError::Decode(format!("{} is not Vec<u8>", type_name::<T>())))
}

/// Takes a `Vec<u8>` item (`T` is `Vec<u8>`) out of its postcard encoding without
/// re-reading it byte by byte.
pub(super) fn decode_byte_vec<T: 'static>(mut encoded: Vec<u8>) -> Result<T, QueueError> {
    match postcard::take_from_bytes::<usize>(&encoded) {
        Ok((len, rest)) if rest.len() == len => {
            let prefix = encoded.len() - len;
            encoded.drain(..prefix);
            let mut slot = Some(encoded);
            (&mut slot as &mut dyn Any)
                .downcast_mut::<Option<T>>()
                .and_then(Option::take)
                .ok_or_else(|| QueueError::Decode(format!("{} is not Vec<u8>", type_name::<T>())))
        }
        Ok((len, rest)) => Err(QueueError::Decode(format!(
            "a {}-byte item does not decode as Vec<u8>: it announces {len} bytes and holds {}",
            encoded.len(),
            rest.len()
        ))),
        Err(err) => Err(QueueError::Decode(format!(
            "a {}-byte item does not decode as Vec<u8>: {err}",
            encoded.len()
        ))),
    }
}

/// The postcard length prefix of a `Vec<u8>` or `String` item and its bytes, so that the
/// item goes into the ring straight from where it is, with no encoding copy first.
pub(super) fn byte_vec_parts<'a, T: 'static>(
    item: &'a T,
    prefix: &'a mut [u8; 10],
) -> Option<[&'a [u8]; 2]> {
    let bytes = as_byte_vec(item)?;
    let used = postcard::to_slice(&bytes.len(), prefix).ok()?.len();
    Some([&prefix[..used], bytes])
}

/// Encodes `item` as postcard bytes appended to `buffer`; a `Vec<u8>` or `String` in one
/// copy.
pub(super) fn encode_into<T: Serialize + 'static>(
    item: &T,
    buffer: &mut Vec<u8>,
) -> Result<(), QueueError> {
    let encoded = if let Some(bytes) = as_byte_vec(item) {
        // The postcard encoding of a sequence: its length, then the elements.
        postcard::serialize_with_flavor(&bytes.len(), VecFlavor(buffer))
            .map(|()| buffer.extend_from_slice(bytes))
    } else {
        multiproc_shared::with_plain_serialization(|| {
            postcard::serialize_with_flavor(item, VecFlavor(buffer))
        })
    };
    encoded.map_err(|err| {
        // The item may have pushed ipc-channel handles before failing.
        frame::drain_stale_handles();
        // postcard drops custom messages; the usual custom error here is a handle
        // refusing plain serialization.
        let hint = if matches!(err, postcard::Error::SerdeSerCustom) {
            " (shared-memory handles and Connections cannot travel through a \
             Queue; send them over a Pipe or pass them as Process arguments)"
        } else {
            ""
        };
        QueueError::Encode(format!("{err}{hint}"))
    })
}

/// Decodes one item from its postcard bytes, under the decode guard: a `T` holding an
/// ipc-channel handle (which has no descriptor table here) panics inside ipc-channel on
/// bytes that claim one, and that becomes a decode error. postcard reserves nothing
/// beyond what the bytes hold (serde caps a sequence's preallocation at 1 MiB).
pub(super) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, QueueError> {
    guard_decode(|| postcard::from_bytes(bytes).map_err(|err| err.to_string()))
        .and_then(|decoded| decoded)
        .map_err(|err| {
            QueueError::Decode(format!(
                "a {}-byte item does not decode as {}: {err}",
                bytes.len(),
                type_name::<T>()
            ))
        })
}

#[cfg(test)]
mod tests {
    use crate::error::QueueError;
    use crate::queue::Queue;

    #[test]
    fn byte_vectors_keep_the_postcard_encoding() {
        let queue = Queue::<Vec<u8>>::new().unwrap();
        for len in [0usize, 1, 127, 128, 300, 70_000] {
            let item: Vec<u8> = (0..len).map(|i| i as u8).collect();
            queue.put(item.clone()).unwrap();
            assert_eq!(
                queue.get_bytes().unwrap(),
                postcard::to_stdvec(&item).unwrap()
            );
            queue
                .put_bytes(&postcard::to_stdvec(&item).unwrap())
                .unwrap();
            assert_eq!(queue.get().unwrap(), item);
        }
        // Items inside other types still take serde's path, with the same bytes.
        let nested = Queue::<(u8, Vec<u8>)>::new().unwrap();
        nested.put((1, vec![2, 3])).unwrap();
        assert_eq!(nested.get_bytes().unwrap(), [1, 2, 2, 3]);
    }

    #[test]
    fn byte_vectors_round_trip_whole_and_streamed() {
        // A small ring: the last items are larger than it and stream through it.
        let queue = Queue::<Vec<u8>>::with_capacity(None, 4096).unwrap();
        for len in [0usize, 1, 127, 128, 4000, 4096, 10_000] {
            let item: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let producer = queue.clone();
            let sent = item.clone();
            let thread = std::thread::spawn(move || producer.put(sent).unwrap());
            assert_eq!(queue.get().unwrap(), item, "{len} bytes");
            thread.join().unwrap();
        }
    }

    #[test]
    fn a_round_mebibyte_item_fits_the_default_ring_whole() {
        // With no consumer, an item that had to stream would fill the ring and time out
        // (`Full`, taken back); one that fits goes in at once.
        let queue = Queue::<Vec<u8>>::new().unwrap();
        let item: Vec<u8> = (0..1 << 20).map(|i: usize| (i % 251) as u8).collect();
        let timeout = std::time::Duration::from_millis(200);
        if let Err(err) = queue.put_timeout(item.clone(), timeout) {
            panic!(
                "a 1 MiB Vec<u8> did not fit the default ring: {:?}",
                err.error()
            );
        }
        assert_eq!(queue.get().unwrap(), item);
        queue.put_bytes_timeout(&item, timeout).unwrap();
        assert_eq!(queue.get_bytes().unwrap(), item);
        let strings = Queue::<String>::new().unwrap();
        strings.put_timeout("x".repeat(1 << 20), timeout).unwrap();
        assert_eq!(strings.get().unwrap().len(), 1 << 20);
    }

    #[test]
    fn strings_keep_the_postcard_encoding_and_are_checked_utf8() {
        let queue = Queue::<String>::new().unwrap();
        for len in [0usize, 1, 8, 127, 128, 4096, 70_000] {
            let item: String = (0..len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            queue.put(item.clone()).unwrap();
            assert_eq!(
                queue.get_bytes().unwrap(),
                postcard::to_stdvec(&item).unwrap()
            );
            queue
                .put_bytes(&postcard::to_stdvec(&item).unwrap())
                .unwrap();
            assert_eq!(queue.get().unwrap(), item);
        }
        queue.put("é✓".to_owned()).unwrap();
        assert_eq!(queue.get().unwrap(), "é✓");
        for bad in [
            &[2, 0xc3, 0x28][..],
            &[1, 0xff][..],
            &[5, b'a'][..],
            &[0x80][..],
        ] {
            queue.put_bytes(bad).unwrap();
            match queue.get() {
                Err(QueueError::Decode(message)) => {
                    assert!(message.contains("String"), "{message}")
                }
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
        queue.put("on".to_owned()).unwrap();
        assert_eq!(queue.get().unwrap(), "on");
    }

    #[test]
    fn malformed_byte_vectors_are_decode_errors() {
        let queue = Queue::<Vec<u8>>::new().unwrap();
        for bad in [&[][..], &[5, 1, 2][..], &[1, 1, 2][..], &[0x80][..]] {
            queue.put_bytes(bad).unwrap();
            match queue.get() {
                Err(QueueError::Decode(message)) => {
                    assert!(message.contains("Vec<u8>"), "{message}")
                }
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
        // The queue goes on.
        queue.put(vec![9]).unwrap();
        assert_eq!(queue.get().unwrap(), [9]);
    }
}
