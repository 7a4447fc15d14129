//! Anonymous shared memory: the memfd every other type in the crate lives in.

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64};

use ipc_channel::ipc::IpcSharedMemory;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::SharedError;
use crate::sys::{ClaimedWord, Mapping, WideWords};
use crate::words::Word;

/// The message a byte transport gets when it tries to serialize a segment.
pub(crate) const PLAIN_SERIALIZATION_REFUSED: &str = "shared-memory handles cannot be sent through a byte transport such as Queue; pass them as Process arguments or through a Pipe";

/// A block of zero-filled shared memory: a memfd mapped `MAP_SHARED`.
///
/// Forked children inherit it; re-executed children receive it inside an ipc-channel
/// message, where serde carries the file descriptor (as `SCM_RIGHTS`), so any type built
/// on a `Segment` is an ordinary `Process` argument under every start method. The kernel
/// frees the memory when the last process unmaps it: nothing is left behind after a
/// crash. Each process may map it at a different address, so what lives inside must hold
/// offsets, never pointers.
///
/// `Clone` is cheap (a reference count); the mapping lives while any clone in this
/// process does.
///
/// Every safe access may race: [`word`](Segment::word) and
/// [`atomic_u32`](Segment::atomic_u32) give 4-byte atomics, [`atomic_u64`](Segment::atomic_u64)
/// 8-byte ones, and the copies ([`read_at`](Segment::read_at),
/// [`write_at`](Segment::write_at), [`append_to`](Segment::append_to)) move bytes with
/// inline assembly on x86_64 (outside Rust's memory model: a racing writer changes the
/// values copied, nothing else) and with 8-byte atomics elsewhere. Rust's memory model does
/// not allow atomics of two sizes on the same bytes to race, so the first access to each
/// 8-byte word in this process fixes its size (the copies count as 8-byte accesses), and an
/// access of the other size gives [`SharedError::MixedAccess`].
///
/// ```
/// use multiproc_shared::Segment;
///
/// let segment = Segment::new(4096)?;
/// assert_eq!(segment.len(), 4096);
/// segment.write_at(0, &[7])?;
/// let same = segment.clone();
/// let mut byte = [0];
/// same.read_at(0, &mut byte)?;
/// assert_eq!(byte, [7]);
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
#[derive(Clone)]
pub struct Segment {
    inner: Arc<Mapping>,
}

/// `AtomicU64`s of a [`Segment`] held as their own handle: see [`Segment::u64_words`].
/// Cloning shares them; they keep the segment mapped.
///
/// ```
/// use std::sync::atomic::Ordering;
/// let words = multiproc_shared::Segment::new(32)?.u64_words(8, 3)?;
/// let copy = words.clone();
/// words.get(0).unwrap().fetch_add(2, Ordering::Relaxed);
/// assert_eq!(copy.get(0).unwrap().load(Ordering::Relaxed), 2);
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
#[derive(Clone)]
pub struct U64Words {
    words: WideWords,
}

impl U64Words {
    /// Word `index`, if it is one of them.
    ///
    /// ```
    /// let words = multiproc_shared::Segment::new(16)?.u64_words(0, 2)?;
    /// assert!(words.get(1).is_some() && words.get(2).is_none());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    #[inline]
    pub fn get(&self, index: usize) -> Option<&AtomicU64> {
        self.words.get(index)
    }

    /// How many words.
    ///
    /// ```
    /// let words = multiproc_shared::Segment::new(16)?.u64_words(8, 1)?;
    /// assert_eq!(words.len(), 1);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether there are none.
    ///
    /// ```
    /// assert!(multiproc_shared::Segment::new(16)?.u64_words(8, 0)?.is_empty());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for U64Words {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("U64Words")
            .field("len", &self.len())
            .finish()
    }
}

/// A synchronisation word of a [`Segment`] held as its own handle: see
/// [`Segment::word_handle`]. Cloning shares it; it keeps the segment mapped.
///
/// ```
/// use multiproc_shared::{Segment, words::LockWord};
/// let lock = Segment::new(8)?.word_handle::<LockWord>(0)?;
/// assert!(lock.get().acquire(None).is_held());
/// assert!(lock.clone().get().is_locked());
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
pub struct WordHandle<W> {
    word: ClaimedWord<W>,
}

impl<W> Clone for WordHandle<W> {
    fn clone(&self) -> Self {
        WordHandle {
            word: self.word.clone(),
        }
    }
}

impl<W: Word> WordHandle<W> {
    /// The word.
    ///
    /// ```
    /// use multiproc_shared::{Segment, words::LockWord};
    /// let lock = Segment::new(8)?.word_handle::<LockWord>(0)?;
    /// assert!(!lock.get().is_locked());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    #[inline]
    pub fn get(&self) -> &W {
        self.word.get()
    }
}

impl<W> fmt::Debug for WordHandle<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WordHandle")
            .field("word", &std::any::type_name::<W>())
            .finish()
    }
}

impl Segment {
    /// Creates a zero-filled segment of `len` bytes (rounded up to whole pages by the kernel).
    ///
    /// ```
    /// let segment = multiproc_shared::Segment::new(100)?;
    /// assert_eq!(segment.len(), 100);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn new(len: usize) -> Result<Segment, SharedError> {
        Ok(Segment {
            inner: Arc::new(Mapping::anonymous(len)?),
        })
    }

    /// Its length in bytes, as passed to [`Segment::new`].
    ///
    /// ```
    /// assert_eq!(multiproc_shared::Segment::new(8)?.len(), 8);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether the segment has zero length.
    ///
    /// ```
    /// assert!(multiproc_shared::Segment::new(0)?.is_empty());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.inner.len() == 0
    }

    /// The start of the mapping in this process: page-aligned, valid for [`len`](Self::len)
    /// bytes while any clone of this segment lives in this process.
    ///
    /// Other processes may read and write the bytes at any moment. The safe accessors
    /// ([`read_at`](Self::read_at), [`atomic_u64`](Self::atomic_u64), ...) use atomics
    /// only; code that dereferences this pointer must do the same.
    ///
    /// ```
    /// let segment = multiproc_shared::Segment::new(64)?;
    /// assert_eq!(segment.as_ptr() as usize % 4096, 0);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn as_ptr(&self) -> *mut u8 {
        self.inner.base()
    }

    /// A reference to the synchronisation word of type `W` at byte `offset`.
    ///
    /// The words in [`words`](crate::words) are valid when all-zero and hold atomics only,
    /// so any aligned, in-bounds offset of a segment is a valid place for one. An unaligned
    /// or out-of-bounds offset is an error.
    ///
    /// ```
    /// use multiproc_shared::{Segment, words::LockWord};
    ///
    /// let segment = Segment::new(64)?;
    /// let lock: &LockWord = segment.word(0)?;
    /// assert!(!lock.is_locked());
    /// assert!(segment.word::<LockWord>(2).is_err());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn word<W: Word>(&self, offset: usize) -> Result<&W, SharedError> {
        self.inner.claimed_word(offset)
    }

    /// The `AtomicU32` at byte `offset` (4-aligned, in bounds; an error otherwise).
    ///
    /// ```
    /// use std::sync::atomic::Ordering;
    /// let segment = multiproc_shared::Segment::new(8)?;
    /// segment.atomic_u32(4)?.store(7, Ordering::Relaxed);
    /// assert_eq!(segment.atomic_u32(4)?.load(Ordering::Relaxed), 7);
    /// assert!(segment.atomic_u32(6).is_err());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    #[inline]
    pub fn atomic_u32(&self, offset: usize) -> Result<&AtomicU32, SharedError> {
        self.inner.claimed_u32(offset)
    }

    /// The `AtomicU64` at byte `offset` (8-aligned, in bounds; an error otherwise).
    ///
    /// ```
    /// use std::sync::atomic::Ordering;
    /// let segment = multiproc_shared::Segment::new(16)?;
    /// segment.atomic_u64(8)?.fetch_add(3, Ordering::Relaxed);
    /// assert_eq!(segment.atomic_u64(8)?.load(Ordering::Relaxed), 3);
    /// assert!(segment.atomic_u64(16).is_err());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    #[inline]
    pub fn atomic_u64(&self, offset: usize) -> Result<&AtomicU64, SharedError> {
        self.inner.claimed_u64(offset)
    }

    /// Fixes the access size of the 8-byte words under `len` bytes at `offset` to 8
    /// bytes ([`atomic_u64`](Self::atomic_u64) and the copies) for good, as their first
    /// use would, so that later accesses inside the range skip the per-access size check.
    /// Meant for a layout's hot range (a queue's counters and ring); only the first call
    /// on a segment in a process records its range, later calls just claim theirs. An
    /// out-of-bounds range, or one with a word already used as an `AtomicU32`, is an
    /// error.
    ///
    /// ```
    /// let segment = multiproc_shared::Segment::new(64)?;
    /// segment.atomic_u32(0)?;
    /// segment.claim_wide(8, 56)?;
    /// segment.write_at(9, b"fast")?;
    /// assert!(segment.atomic_u32(12).is_err());
    /// assert!(segment.claim_wide(0, 8).is_err());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn claim_wide(&self, offset: usize, len: usize) -> Result<(), SharedError> {
        self.inner.claim_wide_range(offset, len)
    }

    /// Copies `out.len()` bytes at `offset` into `out`.
    ///
    /// On x86_64 the copy is `rep movsb` in inline assembly, elsewhere a sequence of relaxed
    /// 8-byte atomic loads (see `multiproc_sys::racy_copy`): it never races with other
    /// threads' accesses through this API, and another process writing meanwhile can only
    /// make the bytes a mix of old and new. Order it against writers with a lock or with
    /// acquire/release atomics. An out-of-bounds range is an error.
    ///
    /// ```
    /// let segment = multiproc_shared::Segment::new(16)?;
    /// segment.write_at(3, b"hello")?;
    /// let mut out = [0; 5];
    /// segment.read_at(3, &mut out)?;
    /// assert_eq!(&out, b"hello");
    /// assert!(segment.read_at(12, &mut out).is_err());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn read_at(&self, offset: usize, out: &mut [u8]) -> Result<(), SharedError> {
        self.inner.read_at(offset, out)
    }

    /// Copies `bytes` into the segment at `offset`, as [`read_at`](Self::read_at) copies;
    /// bytes outside the range are kept. An out-of-bounds range is an error.
    ///
    /// ```
    /// let segment = multiproc_shared::Segment::new(8)?;
    /// segment.write_at(0, &[1, 2, 3])?;
    /// assert!(segment.write_at(6, &[0; 3]).is_err());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn write_at(&self, offset: usize, bytes: &[u8]) -> Result<(), SharedError> {
        self.inner.write_at(offset, bytes)
    }

    /// Appends `len` bytes at `offset` to `out`, as [`read_at`](Self::read_at) copies
    /// them. The range is checked before `out` grows, so a length read from the segment
    /// (which a peer may have scribbled) never allocates more than the segment holds.
    ///
    /// ```
    /// let segment = multiproc_shared::Segment::new(8)?;
    /// segment.write_at(0, b"abcdefgh")?;
    /// let mut out = b"<".to_vec();
    /// segment.append_to(2, 3, &mut out)?;
    /// assert_eq!(out, b"<cde");
    /// assert!(segment.append_to(0, 1 << 40, &mut out).is_err());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn append_to(
        &self,
        offset: usize,
        len: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), SharedError> {
        self.inner.append_to(offset, len, out)
    }

    /// `count` consecutive `AtomicU64`s from byte `offset` (8-aligned), as a handle of
    /// their own that keeps the segment mapped: each access is one bounds check, where
    /// [`atomic_u64`](Self::atomic_u64) checks the offset and the word's access size every
    /// time. For a layout's header counters, read on every operation. The words are
    /// claimed for 8-byte accesses for good (see [`Segment`]).
    ///
    /// ```
    /// use std::sync::atomic::Ordering;
    /// let segment = multiproc_shared::Segment::new(64)?;
    /// let counters = segment.u64_words(16, 3)?;
    /// counters.get(2).unwrap().store(9, Ordering::Relaxed);
    /// assert_eq!(segment.atomic_u64(32)?.load(Ordering::Relaxed), 9);
    /// assert!(counters.get(3).is_none());
    /// assert!(segment.u64_words(60, 1).is_err());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn u64_words(&self, offset: usize, count: usize) -> Result<U64Words, SharedError> {
        Ok(U64Words {
            words: WideWords::new(Arc::clone(&self.inner), offset, count)?,
        })
    }

    /// The synchronisation word `W` at byte `offset`, as [`word`](Self::word) gives it, as a
    /// handle of its own that keeps the segment mapped: each access is free of the offset
    /// and access-size checks that [`word`](Self::word) makes every time. For a layout's
    /// lock, taken on every operation.
    ///
    /// ```
    /// use multiproc_shared::{Segment, words::LockWord};
    ///
    /// let segment = Segment::new(64)?;
    /// let lock = segment.word_handle::<LockWord>(8)?;
    /// assert!(lock.get().acquire(None).is_held());
    /// assert!(segment.word::<LockWord>(8)?.is_locked());
    /// assert!(segment.word_handle::<LockWord>(2).is_err());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn word_handle<W: Word>(&self, offset: usize) -> Result<WordHandle<W>, SharedError> {
        Ok(WordHandle {
            word: ClaimedWord::new(Arc::clone(&self.inner), offset)?,
        })
    }

    /// The mapping, for the typed views of this crate.
    pub(crate) fn mapping(&self) -> &Mapping {
        &self.inner
    }

    /// The word at an offset that the crate's own layout places in bounds and aligned
    /// (segments are sized, and received ones checked, when a handle is built).
    #[inline]
    pub(crate) fn placed<W: Word>(&self, offset: usize) -> &W {
        match self.inner.word(offset) {
            Ok(word) => word,
            Err(err) => misplaced(err),
        }
    }
}

/// The panic of [`Segment::placed`] and of the crate's fixed layouts, kept out of line so
/// that the paths that check a layout stay small enough to inline.
#[cold]
#[inline(never)]
#[track_caller]
pub(crate) fn misplaced(err: SharedError) -> ! {
    unreachable!("a word or value of the crate's own layout is misplaced: {err}")
}

impl fmt::Debug for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the bytes (ipc-channel's Debug would).
        f.debug_struct("Segment")
            .field("len", &self.len())
            .field("ptr", &self.as_ptr())
            .finish()
    }
}

thread_local! {
    static PLAIN_SERIALIZATION_DEPTH: Cell<u32> = const { Cell::new(0) };
    /// Whether a handle refused plain serialization since the innermost
    /// [`with_plain_serialization_refusals`] began.
    static PLAIN_SERIALIZATION_REFUSALS: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with shared-memory serialization refused on this thread.
///
/// A transport that frames its own bytes (for example with postcard, as a `Queue` does)
/// would silently drop the file descriptor that a [`Segment`] carries inside an
/// ipc-channel message. Such a transport serializes inside this function, and every
/// `Segment` (so every `Value`, `Lock`, ...) then fails to serialize with an error that
/// says so. Calls nest.
///
/// ```
/// use multiproc_shared::{Value, plain_serialization_active, with_plain_serialization};
///
/// let value = Value::new(1_i32)?;
/// assert!(!plain_serialization_active());
/// let err = with_plain_serialization(|| {
///     assert!(plain_serialization_active());
///     postcard::to_stdvec(&value).unwrap_err()
/// });
/// # let _ = err;
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
pub fn with_plain_serialization<R>(f: impl FnOnce() -> R) -> R {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            PLAIN_SERIALIZATION_DEPTH.with(|depth| depth.set(depth.get() - 1));
        }
    }
    PLAIN_SERIALIZATION_DEPTH.with(|depth| depth.set(depth.get() + 1));
    let _reset = Reset;
    f()
}

/// Runs `f` like [`with_plain_serialization`], and reports whether a handle that needs an
/// fd-carrying transport (a [`Segment`], so any `Value`, `Lock`, ...; or a channel handle
/// that refuses through [`refuse_plain_serialization`]) refused to serialize inside it.
///
/// A serializer such as postcard keeps only "a custom error" of the message a refusal gives,
/// so a transport uses this to tell its caller what to do instead.
///
/// ```
/// use multiproc_shared::{Lock, with_plain_serialization_refusals};
///
/// let lock = Lock::new()?;
/// let (encoded, refused) = with_plain_serialization_refusals(|| postcard::to_stdvec(&lock));
/// assert!(encoded.is_err() && refused);
/// let (encoded, refused) = with_plain_serialization_refusals(|| postcard::to_stdvec(&5_u32));
/// assert!(encoded.is_ok() && !refused);
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
pub fn with_plain_serialization_refusals<R>(f: impl FnOnce() -> R) -> (R, bool) {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            // An outer call sees the refusals of the inner ones too.
            PLAIN_SERIALIZATION_REFUSALS.with(|refused| refused.set(self.0 || refused.get()));
        }
    }
    let restore = Restore(PLAIN_SERIALIZATION_REFUSALS.with(|refused| refused.replace(false)));
    let result = with_plain_serialization(f);
    let refused = PLAIN_SERIALIZATION_REFUSALS.with(Cell::get);
    drop(restore);
    (result, refused)
}

/// The error a handle that needs an fd-carrying transport returns from `serialize` inside
/// [`with_plain_serialization`]; it also records the refusal for
/// [`with_plain_serialization_refusals`].
///
/// ```
/// let error: postcard::Error = multiproc_shared::refuse_plain_serialization("no");
/// # let _ = error;
/// ```
pub fn refuse_plain_serialization<E: serde::ser::Error>(message: &str) -> E {
    PLAIN_SERIALIZATION_REFUSALS.with(|refused| refused.set(true));
    E::custom(message)
}

/// Whether this thread is inside [`with_plain_serialization`].
///
/// ```
/// assert!(!multiproc_shared::plain_serialization_active());
/// ```
pub fn plain_serialization_active() -> bool {
    PLAIN_SERIALIZATION_DEPTH.with(|depth| depth.get() > 0)
}

/// A segment on the wire: its memfd and length. Sent with `M = &IpcSharedMemory` (the
/// memory by reference: no extra dup(2) and mapping of the memfd, which ipc-channel's
/// `clone` makes) and received with `M = IpcSharedMemory`; both encode alike.
#[derive(Serialize, Deserialize)]
struct WireSegment<M> {
    memory: M,
    len: u64,
}

impl Serialize for Segment {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if plain_serialization_active() {
            return Err(refuse_plain_serialization(PLAIN_SERIALIZATION_REFUSED));
        }
        // Serializing an IpcSharedMemory dups the memfd into ipc-channel's thread-local
        // list of fds for the message being built.
        let Some(memory) = self.inner.memfd() else {
            return Err(serde::ser::Error::custom(
                "a segment without a memfd cannot be sent",
            ));
        };
        WireSegment {
            memory,
            len: self.len() as u64,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Segment {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Segment, D::Error> {
        let wire = WireSegment::<IpcSharedMemory>::deserialize(deserializer)?;
        let len = usize::try_from(wire.len).map_err(serde::de::Error::custom)?;
        let mapping = Mapping::of_memfd(wire.memory, len).map_err(serde::de::Error::custom)?;
        Ok(Segment {
            inner: Arc::new(mapping),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_filled_and_aligned() {
        let segment = Segment::new(10_000).unwrap();
        assert_eq!(segment.as_ptr() as usize % 4096, 0);
        let mut bytes = vec![1; 10_000];
        segment.read_at(0, &mut bytes).unwrap();
        assert!(bytes.iter().all(|&b| b == 0));
    }

    #[test]
    fn plain_serialization_refused() {
        let segment = Segment::new(8).unwrap();
        assert!(postcard::to_stdvec(&segment).is_ok() || !plain_serialization_active());
        let err = with_plain_serialization(|| postcard::to_stdvec(&segment).unwrap_err());
        // postcard reduces custom errors to a generic kind; check the flag reset instead.
        let _ = err;
        assert!(!plain_serialization_active());
        let json_like = with_plain_serialization(|| {
            let mut out = Vec::new();
            let mut ser = TextSerializer(&mut out);
            segment.serialize(&mut ser).unwrap_err().0
        });
        assert!(json_like.contains("cannot be sent through a byte transport"));
    }

    /// A minimal serializer that keeps custom error text (postcard drops it).
    struct TextSerializer<'a>(&'a mut Vec<u8>);
    #[derive(Debug)]
    struct TextError(String);
    impl fmt::Display for TextError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(&self.0)
        }
    }
    impl std::error::Error for TextError {}
    impl serde::ser::Error for TextError {
        fn custom<T: fmt::Display>(msg: T) -> Self {
            TextError(msg.to_string())
        }
    }
    impl Serializer for &mut TextSerializer<'_> {
        type Ok = ();
        type Error = TextError;
        type SerializeSeq = serde::ser::Impossible<(), TextError>;
        type SerializeTuple = serde::ser::Impossible<(), TextError>;
        type SerializeTupleStruct = serde::ser::Impossible<(), TextError>;
        type SerializeTupleVariant = serde::ser::Impossible<(), TextError>;
        type SerializeMap = serde::ser::Impossible<(), TextError>;
        type SerializeStruct = serde::ser::Impossible<(), TextError>;
        type SerializeStructVariant = serde::ser::Impossible<(), TextError>;
        fn serialize_bool(self, _: bool) -> Result<(), TextError> {
            Ok(())
        }
        fn serialize_i8(self, _: i8) -> Result<(), TextError> {
            Ok(())
        }
        fn serialize_i16(self, _: i16) -> Result<(), TextError> {
            Ok(())
        }
        fn serialize_i32(self, _: i32) -> Result<(), TextError> {
            Ok(())
        }
        fn serialize_i64(self, _: i64) -> Result<(), TextError> {
            Ok(())
        }
        fn serialize_u8(self, _: u8) -> Result<(), TextError> {
            Ok(())
        }
        fn serialize_u16(self, _: u16) -> Result<(), TextError> {
            Ok(())
        }
        fn serialize_u32(self, _: u32) -> Result<(), TextError> {
            Ok(())
        }
        fn serialize_u64(self, _: u64) -> Result<(), TextError> {
            Ok(())
        }
        fn serialize_f32(self, _: f32) -> Result<(), TextError> {
            Ok(())
        }
        fn serialize_f64(self, _: f64) -> Result<(), TextError> {
            Ok(())
        }
        fn serialize_char(self, _: char) -> Result<(), TextError> {
            Ok(())
        }
        fn serialize_str(self, _: &str) -> Result<(), TextError> {
            Ok(())
        }
        fn serialize_bytes(self, v: &[u8]) -> Result<(), TextError> {
            self.0.extend_from_slice(v);
            Ok(())
        }
        fn serialize_none(self) -> Result<(), TextError> {
            Ok(())
        }
        fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> Result<(), TextError> {
            v.serialize(self)
        }
        fn serialize_unit(self) -> Result<(), TextError> {
            Ok(())
        }
        fn serialize_unit_struct(self, _: &'static str) -> Result<(), TextError> {
            Ok(())
        }
        fn serialize_unit_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
        ) -> Result<(), TextError> {
            Ok(())
        }
        fn serialize_newtype_struct<T: ?Sized + Serialize>(
            self,
            _: &'static str,
            v: &T,
        ) -> Result<(), TextError> {
            v.serialize(self)
        }
        fn serialize_newtype_variant<T: ?Sized + Serialize>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            v: &T,
        ) -> Result<(), TextError> {
            v.serialize(self)
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, TextError> {
            Err(TextError("unsupported".into()))
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, TextError> {
            Err(TextError("unsupported".into()))
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, TextError> {
            Err(TextError("unsupported".into()))
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, TextError> {
            Err(TextError("unsupported".into()))
        }
        fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, TextError> {
            Err(TextError("unsupported".into()))
        }
        fn serialize_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStruct, TextError> {
            Err(TextError("unsupported".into()))
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, TextError> {
            Err(TextError("unsupported".into()))
        }
    }
}
