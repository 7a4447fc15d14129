//! The crate's only `unsafe`: the sink that lets a received payload be copied straight into
//! a caller's buffer. (The receiver that lends out its descriptor, so that its next message
//! can be checked before ipc-channel reads it, is `multiproc_sys::ipc_receiver`.) System
//! calls are made by `multiproc-sys`, and a queue's shared memory is read and written
//! through `multiproc_shared::Segment`'s bounds-checked atomic access.

use std::any::TypeId;
use std::cell::Cell;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;

thread_local! {
    /// The buffer registered by [`with_sink`] on this thread, until a [`Sink::take`].
    static SINK: Cell<Option<Registration>> = const { Cell::new(None) };
    /// The id of the registration whose [`with_sink`] body runs on this thread now (0:
    /// none). A [`Sink`] writes only while its own registration is the active one.
    static ACTIVE: Cell<u64> = const { Cell::new(0) };
    /// The next registration id on this thread; ids are never reused (a `u64` counter).
    static NEXT_ID: Cell<u64> = const { Cell::new(1) };
}

/// A buffer lent to [`with_sink`]'s body: start, length, and the id of that loan.
#[derive(Clone, Copy)]
struct Registration {
    start: *mut u8,
    len: usize,
    id: u64,
}

/// A caller's buffer that one received bytes payload may be copied into directly
/// (`Connection::recv_bytes_into`), instead of into a fresh `Vec` first. Obtained with
/// [`Sink::take`] inside [`with_sink`]; not `Send` (it holds a raw pointer), not `Clone`,
/// and consumed by its one use.
///
/// Sound by construction, not by its callers' care: a `Sink` kept past the end of its
/// [`with_sink`] body (when its buffer may be gone) finds its registration no longer
/// active, and [`fill`](Sink::fill) then writes nothing.
pub(crate) struct Sink {
    registration: Registration,
}

/// Runs `body` with `buf` registered as this thread's sink; unregisters it afterwards,
/// also on unwind.
pub(crate) fn with_sink<R>(buf: &mut [u8], body: impl FnOnce() -> R) -> R {
    struct Restore {
        sink: Option<Registration>,
        active: u64,
    }
    impl Drop for Restore {
        fn drop(&mut self) {
            // `try_with`: nothing to restore while the thread's locals are torn down.
            let _ = SINK.try_with(|sink| sink.set(self.sink));
            let _ = ACTIVE.try_with(|active| active.set(self.active));
        }
    }
    let id = NEXT_ID.with(|next| {
        let id = next.get();
        next.set(id + 1);
        id
    });
    let registration = Registration {
        start: buf.as_mut_ptr(),
        len: buf.len(),
        id,
    };
    let _restore = Restore {
        sink: SINK.with(|sink| sink.replace(Some(registration))),
        active: ACTIVE.with(|active| active.replace(id)),
    };
    body()
}

impl Sink {
    /// Takes the sink registered by the enclosing [`with_sink`], if any: the first frame
    /// decoded gets it, nested frames (a connection's pending message inside a value)
    /// find none.
    pub(crate) fn take() -> Option<Sink> {
        SINK.try_with(Cell::take)
            .ok()
            .flatten()
            .map(|registration| Sink { registration })
    }

    /// Lends the first `len` bytes of the sink's buffer to `body` (to receive a payload
    /// straight into it) if they fit and its [`with_sink`] body still runs; gives the sink
    /// back otherwise.
    pub(crate) fn with_buffer<R>(
        self,
        len: usize,
        body: impl FnOnce(&mut [u8]) -> R,
    ) -> Result<R, Sink> {
        let Registration {
            start,
            len: capacity,
            id,
        } = self.registration;
        let active = ACTIVE.try_with(Cell::get).unwrap_or(0);
        if len > capacity || active != id {
            return Err(self);
        }
        // SAFETY: as in `fill`: `start..start + capacity` is the `&mut [u8]` that the
        // running `with_sink` body holds for us (checked through `ACTIVE` above), nothing
        // else reaches it meanwhile, and the sink is consumed, so this is the only
        // reference made from it; `len <= capacity` was checked above. The slice does not
        // outlive `body`, which runs inside the `with_sink` body.
        let buffer = unsafe { std::slice::from_raw_parts_mut(start, len) };
        Ok(body(buffer))
    }

    /// Copies `bytes` into the sink if they fit and its [`with_sink`] body still runs;
    /// gives the sink back otherwise.
    pub(crate) fn fill(self, bytes: &[u8]) -> Result<usize, Sink> {
        let Registration { start, len, id } = self.registration;
        let active = ACTIVE.try_with(Cell::get).unwrap_or(0);
        if bytes.len() > len || active != id {
            return Err(self);
        }
        // SAFETY: `start..start + len` is the `&mut [u8]` that `with_sink` holds for the
        // whole of its `body`, and that body is running now on this thread: `ACTIVE` holds
        // this registration's id only from its start to its end (restored on unwind too),
        // ids are unique on the thread, and a `Sink` is not `Send`, so the check above
        // shows the buffer is alive and still lent to us. Nothing else touches it
        // meanwhile: `with_sink` does not use `buf` during the body, and the body cannot
        // reach it except through this pointer. `bytes` cannot overlap it, since a shared
        // borrow of that memory cannot exist while the `&mut` is held. `bytes.len() <=
        // len` was checked above.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), start, bytes.len());
        }
        Ok(bytes.len())
    }
}

/// An ipc-channel receiver that lends out its descriptor, for `poll` and `MSG_PEEK`
/// (ipc-channel trusts the size header of a message and reserves it; the pipe checks that
/// header first). The one such wrapper lives in the OS layer.
pub(crate) use multiproc_sys::ipc_receiver::WatchedReceiver as Receiver;

/// A type's `TypeId` with its lifetimes erased, for a type that need not be `'static`
/// (the technique of the `typeid` crate, which erased-serde relies on): a `Connection<T>`
/// does not require `T: 'static`, yet wants to know whether `T` is `Vec<u8>`.
trait ErasedTypeId {
    fn erased_type_id(&self) -> TypeId
    where
        Self: 'static;
}

impl<T: ?Sized> ErasedTypeId for PhantomData<T> {
    fn erased_type_id(&self) -> TypeId
    where
        Self: 'static,
    {
        TypeId::of::<T>()
    }
}

/// Whether `T`, its lifetimes aside, is `Vec<u8>`. Since `Vec<u8>` has no lifetime, a `T`
/// for which this holds is `Vec<u8>` exactly.
fn is_byte_vec<T>() -> bool {
    erased_type_id::<T>() == TypeId::of::<Vec<u8>>()
}

/// Whether `T` is one of a few common types that cannot hold an ipc-channel handle
/// (numbers, strings, vectors and options of numbers): a message of such a value needs no count of
/// its handles. A type only compared here, never cast, so the erased lifetimes do not
/// matter.
pub(crate) fn is_handle_free<T>() -> bool {
    let id = erased_type_id::<T>();
    [
        TypeId::of::<String>(),
        TypeId::of::<Vec<u8>>(),
        TypeId::of::<Vec<String>>(),
        TypeId::of::<Vec<f64>>(),
        TypeId::of::<Vec<f32>>(),
        TypeId::of::<Vec<u64>>(),
        TypeId::of::<Vec<i64>>(),
        TypeId::of::<Vec<u32>>(),
        TypeId::of::<Vec<i32>>(),
        TypeId::of::<Vec<usize>>(),
        TypeId::of::<Vec<(f64, f64)>>(),
        TypeId::of::<Vec<Vec<f64>>>(),
        TypeId::of::<Vec<Vec<u8>>>(),
        TypeId::of::<Option<String>>(),
        TypeId::of::<()>(),
        TypeId::of::<bool>(),
        TypeId::of::<u8>(),
        TypeId::of::<u16>(),
        TypeId::of::<u32>(),
        TypeId::of::<u64>(),
        TypeId::of::<usize>(),
        TypeId::of::<i8>(),
        TypeId::of::<i16>(),
        TypeId::of::<i32>(),
        TypeId::of::<i64>(),
        TypeId::of::<isize>(),
        TypeId::of::<f32>(),
        TypeId::of::<f64>(),
        TypeId::of::<char>(),
    ]
    .contains(&id)
}

/// `TypeId::of::<T>()` with `T`'s lifetimes erased.
fn erased_type_id<T>() -> TypeId {
    let marker = PhantomData::<T>;
    let short: &dyn ErasedTypeId = &marker;
    // SAFETY: only the trait object's lifetime bound changes; lifetimes do not exist at
    // run time, so the vtable and data pointer stay valid. The one method it enables
    // (`erased_type_id`) reads no data and returns `TypeId::of` of `T` with its lifetimes
    // erased, which is all we compare; nothing of `T` is used beyond this call.
    let erased: &(dyn ErasedTypeId + 'static) = unsafe { std::mem::transmute(short) };
    erased.erased_type_id()
}

/// `value` as a `Vec<u8>`, if `T` is `Vec<u8>`: lets a `Connection<Vec<u8>>` send its
/// items in one copy instead of serde's element-by-element sequence.
pub(crate) fn as_byte_vec<T>(value: &T) -> Option<&Vec<u8>> {
    if !is_byte_vec::<T>() {
        return None;
    }
    // SAFETY: `T` is `Vec<u8>` (see `is_byte_vec`: equal erased type ids and no lifetime
    // in `Vec<u8>`), so the reference points to a valid `Vec<u8>` for the same lifetime.
    Some(unsafe { &*(value as *const T).cast::<Vec<u8>>() })
}

/// `bytes` as a `T`, if `T` is `Vec<u8>`; gives them back otherwise.
pub(crate) fn byte_vec_into<T>(bytes: Vec<u8>) -> Result<T, Vec<u8>> {
    if !is_byte_vec::<T>() {
        return Err(bytes);
    }
    let bytes = ManuallyDrop::new(bytes);
    // SAFETY: `T` is `Vec<u8>` (see `is_byte_vec`), so this reads a valid `Vec<u8>` as
    // its own type; the original is never dropped (`ManuallyDrop`), so ownership moves.
    Ok(unsafe { std::ptr::read((&*bytes as *const Vec<u8>).cast::<T>()) })
}

/// Whether `T`, its lifetimes aside, is `String` (which has no lifetime: so `T` is exactly
/// `String`).
fn is_string<T>() -> bool {
    erased_type_id::<T>() == TypeId::of::<String>()
}

/// `value` as a `String`, if `T` is `String`: lets a pipe send its bytes in one copy.
pub(crate) fn as_string<T>(value: &T) -> Option<&String> {
    if !is_string::<T>() {
        return None;
    }
    // SAFETY: `T` is `String` (equal erased type ids and no lifetime in `String`), so the
    // reference points to a valid `String` for the same lifetime.
    Some(unsafe { &*(value as *const T).cast::<String>() })
}

/// `text` as a `T`, if `T` is `String`; gives it back otherwise.
pub(crate) fn string_into<T>(text: String) -> Result<T, String> {
    if !is_string::<T>() {
        return Err(text);
    }
    let text = ManuallyDrop::new(text);
    // SAFETY: `T` is `String` (see `is_string`), so this reads a valid `String` as its own
    // type; the original is never dropped (`ManuallyDrop`), so ownership moves.
    Ok(unsafe { std::ptr::read((&*text as *const String).cast::<T>()) })
}

#[cfg(test)]
mod byte_vec_tests {
    use super::*;

    #[test]
    fn only_byte_vectors_are_recognised() {
        assert_eq!(as_byte_vec(&vec![1u8, 2]), Some(&vec![1u8, 2]));
        assert!(as_byte_vec(&vec![1i8]).is_none());
        assert!(as_byte_vec(&String::from("x")).is_none());
        assert!(as_byte_vec(&[1u8; 2]).is_none());
        let borrowed: &[u8] = &[1];
        assert!(as_byte_vec(&borrowed).is_none());
        assert_eq!(byte_vec_into::<Vec<u8>>(vec![3]), Ok(vec![3]));
        assert_eq!(byte_vec_into::<Vec<i8>>(vec![3]), Err(vec![3]));
        assert_eq!(byte_vec_into::<(u8,)>(vec![3]), Err(vec![3]));
        assert!(is_handle_free::<String>() && is_handle_free::<Vec<f64>>());
        assert_eq!(as_string(&String::from("x")).map(String::as_str), Some("x"));
        assert!(as_string(&"x").is_none());
        assert_eq!(string_into::<String>("y".into()), Ok(String::from("y")));
        assert_eq!(string_into::<Vec<u8>>("y".into()), Err(String::from("y")));
        assert!(!is_handle_free::<(String,)>() && !is_handle_free::<Vec<i8>>());
    }
}

#[cfg(test)]
mod sink_tests {
    use super::*;

    #[test]
    fn a_sink_fills_its_buffer_inside_the_body() {
        let mut buf = [0u8; 4];
        let filled = with_sink(&mut buf, || Sink::take().map(|sink| sink.fill(b"abc").ok()));
        assert_eq!(filled, Some(Some(3)));
        assert_eq!(&buf, b"abc\0");
    }

    #[test]
    fn the_sink_is_taken_once_and_refuses_what_does_not_fit() {
        let mut buf = [0u8; 2];
        with_sink(&mut buf, || {
            let sink = Sink::take().expect("registered");
            assert!(Sink::take().is_none(), "a nested frame must find no sink");
            assert!(sink.fill(b"too long").is_err());
        });
        assert_eq!(buf, [0, 0]);
        assert!(Sink::take().is_none(), "unregistered after the body");
    }

    #[test]
    fn a_sink_kept_past_its_body_writes_nothing() {
        let mut escaped = None;
        {
            let mut buf = vec![0u8; 8];
            with_sink(&mut buf, || escaped = Sink::take());
        }
        let sink = escaped.expect("taken inside the body");
        let Err(sink) = sink.fill(b"late") else {
            panic!("a sink wrote after its body")
        };
        // Nor inside a later body with another buffer.
        let mut other = [0u8; 8];
        let sink = with_sink(&mut other, || sink.fill(b"late").err());
        assert!(sink.is_some());
        assert_eq!(other, [0; 8]);
    }
}
