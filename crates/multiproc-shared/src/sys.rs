//! The crate's only `unsafe`: the mapping of a shared segment and every typed view into it.
//!
//! System calls are not made here: futexes, process identity, liveness and `madvise` come
//! from `multiproc-sys`. What this module adds is the one place where raw pointers into a
//! `MAP_SHARED` mapping become Rust references, under three rules that make every safe
//! function of the crate sound:
//!
//! 1. **Only atomics are referenced.** [`Mapping::word`] and [`Mapping::atomic`] give out
//!    references to atomic types (and to the sealed [`Word`] structs, which hold atomics
//!    only). Another process can change their values, never their validity.
//! 2. **Bytes are copied by the hardware.** [`Mapping::read_at`], [`Mapping::write_at`]
//!    and [`Mapping::append_to`] touch the mapping only through
//!    `multiproc_sys::racy_copy`: on x86_64 inline assembly (`rep movsb`, or a `mov` or two
//!    for a short range), which the compiler treats as opaque and whose racing accesses are
//!    defined by the hardware, so a peer writing the same bytes changes the values copied
//!    and nothing else; on other targets relaxed `AtomicU64` loads, stores and
//!    read-modify-writes on whole, 8-byte-aligned words (the mapping is page-aligned, so a
//!    word never straddles a page). Either way two threads copying the same bytes never
//!    data-race, a copy writes no byte outside its range, and the words a copy touches are
//!    claimed for it (see `AccessSizes`), so no `AtomicU32` of this process shares them.
//! 3. **A `&mut` only under a held data lock.** [`GuardHeld`] is proof that the calling
//!    thread owns the `RLock` of a `Value`/`Array` and has raised its "guard out" flag;
//!    only with it does [`Mapping::locked_slice_mut`] hand out `&mut [T]`.

use std::fs::File;
use std::io;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::ptr::NonNull;
use std::sync::atomic::{self, AtomicU32, AtomicU64, Ordering};

use bytemuck::Pod;
use ipc_channel::ipc::IpcSharedMemory;

use crate::SharedError;
use crate::words::{RLockWord, Word};

mod access_sizes;

use self::access_sizes::{AccessSizes, Size};

/// Segments from this size up are made without touching their pages: a queue's ring costs
/// memory only for the bytes it has held, and a huge `Array` costs nothing until used.
const UNTOUCHED_AT_LEAST: usize = 64 * 1024;

/// The size of the words the byte copies use.
const WORD: usize = size_of::<u64>();

/// What keeps the mapping alive.
enum Owner {
    /// An anonymous memfd (a `Segment`), which ipc-channel can pass to another process;
    /// with the mapping this process uses when ipc-channel's own covers only its first
    /// page (see [`Mapping::anonymous`]).
    Memfd(
        IpcSharedMemory,
        #[allow(dead_code)] Option<memmap2::MmapRaw>,
    ),
    /// A mapped file (a named `SharedMemory` in `/dev/shm`).
    File(#[allow(dead_code)] memmap2::MmapRaw),
}

/// A `MAP_SHARED` mapping: page-aligned, readable and writable, at least `len` bytes long
/// (rounded up to whole pages), alive as long as this value.
pub(crate) struct Mapping {
    owner: Owner,
    base: NonNull<u8>,
    len: usize,
    sizes: AccessSizes,
}

// SAFETY: `base` points into the mapping that `owner` keeps alive and releases on drop (in
// whichever thread); it is only ever dereferenced through the atomic accesses and guarded
// views of this module, which are race-free between threads by the rules in the module docs.
unsafe impl Send for Mapping {}
// SAFETY: as above; `Mapping` has no state besides the shared bytes, and `&Mapping` only
// allows atomic access to them (or the `&mut` view that a `GuardHeld` makes exclusive).
unsafe impl Sync for Mapping {}

impl Mapping {
    /// A fresh, zero-filled anonymous segment of `len` bytes (at least one page).
    pub(crate) fn anonymous(len: usize) -> Result<Mapping, SharedError> {
        if len > isize::MAX as usize {
            return Err(SharedError::TooLarge);
        }
        // ipc-channel represents zero bytes as "no memfd"; keep one byte so every segment
        // has a real, page-aligned mapping.
        let alloc = len.max(1);
        if alloc < UNTOUCHED_AT_LEAST {
            return Mapping::of_memfd(new_memfd(alloc)?, len);
        }
        // ipc-channel's `from_byte` writes every byte of the memory it creates, which costs
        // the whole size in RAM (a huge `Array` gets the process OOM-killed), and it has no
        // way to wrap a memfd made elsewhere. So: let it make a one-byte memfd (one page
        // touched), find that memfd's file through /proc, grow it with ftruncate (the new
        // pages read as zeros and cost nothing until written), and map all of it here.
        // The `IpcSharedMemory` still carries the memfd to other processes, which map the
        // file's full size when they receive it.
        let memory = new_memfd(1)?;
        let file = match multiproc_sys::memfd::reopen_mapped(memory.as_ptr() as usize) {
            Ok(file) => file,
            // No /proc to find it through: fill the memfd as ipc-channel does, then give
            // the pages back (they are touched once).
            Err(_) => return Mapping::touched_then_released(len, alloc),
        };
        let file_len = u64::try_from(alloc).map_err(|_| SharedError::TooLarge)?;
        file.set_len(file_len)?;
        let map = multiproc_sys::mem::map_shared(&file, alloc)?;
        let base = NonNull::new(map.as_mut_ptr()).ok_or(SharedError::TooLarge)?;
        Ok(Mapping {
            sizes: AccessSizes::new(len)?,
            owner: Owner::Memfd(memory, Some(map)),
            base,
            len,
        })
    }

    /// The fallback of [`Mapping::anonymous`]: a memfd that ipc-channel fills (touching
    /// every page), whose pages are then given back to the kernel.
    fn touched_then_released(len: usize, alloc: usize) -> Result<Mapping, SharedError> {
        let mapping = Mapping::of_memfd(new_memfd(alloc)?, len)?;
        // SAFETY: the whole fresh mapping, page-aligned, which nobody has used or
        // referenced yet; its contents are zeros either way.
        unsafe { multiproc_sys::mem::release_pages(mapping.base.as_ptr(), alloc) };
        Ok(mapping)
    }

    /// A received memfd, which must hold at least `len` bytes.
    pub(crate) fn of_memfd(
        mut memory: IpcSharedMemory,
        len: usize,
    ) -> Result<Mapping, SharedError> {
        // SAFETY: `deref_mut` is unsafe because the bytes may be shared; only the start
        // pointer is kept, and the slice is dropped at once.
        let bytes = unsafe { memory.deref_mut() };
        if bytes.len() < len.max(1) {
            return Err(SharedError::Io(io::Error::other(
                "shared memory is smaller than its recorded length",
            )));
        }
        let base = NonNull::new(bytes.as_mut_ptr()).ok_or(SharedError::TooLarge)?;
        Ok(Mapping {
            sizes: AccessSizes::new(len)?,
            owner: Owner::Memfd(memory, None),
            base,
            len,
        })
    }

    /// Maps `len` bytes of `file` shared and writable.
    pub(crate) fn of_file(file: &File, len: usize) -> Result<Mapping, SharedError> {
        let map = multiproc_sys::mem::map_shared(file, len)?;
        let base = NonNull::new(map.as_mut_ptr()).ok_or(SharedError::TooLarge)?;
        Ok(Mapping {
            sizes: AccessSizes::new(len)?,
            owner: Owner::File(map),
            base,
            len,
        })
    }

    /// The memfd, to send to another process; `None` for a mapped file.
    pub(crate) fn memfd(&self) -> Option<&IpcSharedMemory> {
        match &self.owner {
            Owner::Memfd(memory, _) => Some(memory),
            Owner::File(_) => None,
        }
    }

    /// The start of the mapping (page-aligned).
    pub(crate) fn base(&self) -> *mut u8 {
        self.base.as_ptr()
    }

    /// The length asked for.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Checks that `len` bytes at `offset` lie inside the mapping, aligned to `align`.
    #[inline]
    fn check(&self, offset: usize, len: usize, align: usize) -> Result<(), SharedError> {
        if !offset.is_multiple_of(align) {
            return Err(SharedError::Unaligned { offset, align });
        }
        if offset.checked_add(len).is_none_or(|end| end > self.len) {
            return Err(SharedError::OutOfRange {
                offset,
                len,
                size: self.len,
            });
        }
        Ok(())
    }

    /// The synchronisation word of type `W` at byte `offset`, for a caller outside the
    /// crate: its 8-byte words are claimed for the access sizes `W` uses.
    pub(crate) fn claimed_word<W: Word>(&self, offset: usize) -> Result<&W, SharedError> {
        self.check(offset, size_of::<W>(), align_of::<W>())?;
        let first = offset / WORD;
        let last = (offset + size_of::<W>() - 1) / WORD;
        for (i, index) in (first..=last).enumerate() {
            let size = if W::WIDE_WORDS & (1 << i) != 0 {
                Size::Wide
            } else {
                Size::Narrow
            };
            self.sizes.claim(index, 1, size)?;
        }
        self.word(offset)
    }

    /// The `AtomicU32` at byte `offset`, for a caller outside the crate (claimed narrow).
    #[inline]
    pub(crate) fn claimed_u32(&self, offset: usize) -> Result<&AtomicU32, SharedError> {
        self.check(offset, 4, 4)?;
        self.sizes.claim(offset / WORD, 1, Size::Narrow)?;
        self.atomic(offset)
    }

    /// The `AtomicU64` at byte `offset`, for a caller outside the crate (claimed wide).
    #[inline]
    pub(crate) fn claimed_u64(&self, offset: usize) -> Result<&AtomicU64, SharedError> {
        self.check(offset, 8, 8)?;
        self.sizes.claim(offset / WORD, 1, Size::Wide)?;
        self.atomic(offset)
    }

    /// Claims the words under `len` bytes at `offset` for 8-byte atomics and copies for
    /// good, and lets later claims inside that range skip the bitmaps (one range per
    /// mapping: the first call's; later calls only claim).
    pub(crate) fn claim_wide_range(&self, offset: usize, len: usize) -> Result<(), SharedError> {
        self.check(offset, len, 1)?;
        self.claim_bytes(offset, len)?;
        if len > 0 {
            let first = offset / WORD;
            let end = (offset + len - 1) / WORD + 1;
            let _ = self.sizes.wide_for_good.set((first, end));
        }
        Ok(())
    }

    /// Claims the words under `len` bytes at the in-bounds `offset` for 8-byte copies.
    fn claim_bytes(&self, offset: usize, len: usize) -> Result<(), SharedError> {
        if len == 0 {
            return Ok(());
        }
        let first = offset / WORD;
        let last = (offset + len - 1) / WORD;
        self.sizes.claim(first, last - first + 1, Size::Wide)
    }

    /// The synchronisation word of type `W` at byte `offset`, for the crate's own layouts
    /// (which never access a word with two sizes at once).
    pub(crate) fn word<W: Word>(&self, offset: usize) -> Result<&W, SharedError> {
        self.check(offset, size_of::<W>(), align_of::<W>())?;
        // SAFETY: in bounds and aligned (the base is page-aligned; `align_of::<W>()` is at
        // most 8); `W: Word` is a sealed set of `repr(C)` structs of atomics, valid for every
        // bit pattern and mutated only through atomic operations; the mapping outlives `&self`.
        Ok(unsafe { &*self.base().add(offset).cast::<W>() })
    }

    /// The native atomic `A` at byte `offset`.
    #[inline]
    pub(crate) fn atomic<A: NativeAtomic>(&self, offset: usize) -> Result<&A, SharedError> {
        self.check(offset, size_of::<A>(), align_of::<A>())?;
        // SAFETY: in bounds and aligned (checked, page-aligned base); every bit pattern is a
        // valid integer atomic, which is mutated only through atomic operations; the mapping
        // outlives `&self`.
        Ok(unsafe { &*self.base().add(offset).cast::<A>() })
    }

    /// Copies `out.len()` bytes at `offset` out of the mapping.
    pub(crate) fn read_at(&self, offset: usize, out: &mut [u8]) -> Result<(), SharedError> {
        self.check(offset, out.len(), 1)?;
        self.claim_bytes(offset, out.len())?;
        let len = out.len();
        // SAFETY: `u8` and `MaybeUninit<u8>` have the same layout; `copy_out` only writes
        // initialised bytes, so `out` stays initialised.
        let out = unsafe { &mut *(std::ptr::from_mut(out) as *mut [MaybeUninit<u8>]) };
        self.copy_out(offset, &mut out[..len]);
        Ok(())
    }

    /// Appends `len` bytes at `offset` to `out`. The range is checked against the mapping
    /// before `out` grows, so a claimed length never allocates more than the mapping holds.
    pub(crate) fn append_to(
        &self,
        offset: usize,
        len: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), SharedError> {
        self.check(offset, len, 1)?;
        self.claim_bytes(offset, len)?;
        out.try_reserve(len).map_err(|_| SharedError::TooLarge)?;
        let old_len = out.len();
        let spare = &mut out.spare_capacity_mut()[..len];
        self.copy_out(offset, spare);
        // SAFETY: `copy_out` initialised all `len` bytes after the old length, which
        // `try_reserve` made room for.
        unsafe { out.set_len(old_len + len) };
        Ok(())
    }

    /// Copies bytes from the in-bounds range at `offset` into `out` (every byte written).
    fn copy_out(&self, offset: usize, out: &mut [MaybeUninit<u8>]) {
        debug_assert!(offset + out.len() <= self.len);
        // SAFETY: the range is inside the mapping (the callers' `check`), whose whole
        // pages are mapped, so the aligned words around it are too; its words are claimed
        // for copies (`claim_bytes`), so this process touches them only with 8-byte
        // atomics and these copies, never through a reference to plain bytes; `out` is
        // private, borrowed exclusively, and not in the mapping.
        unsafe {
            multiproc_sys::racy_copy::copy_from_shared(
                out.as_mut_ptr().cast::<u8>(),
                self.base().add(offset).cast_const(),
                out.len(),
            );
        }
    }

    /// Copies `bytes` into the mapping at `offset`; the bytes around the range are kept
    /// (a neighbouring copy may be writing them).
    pub(crate) fn write_at(&self, offset: usize, bytes: &[u8]) -> Result<(), SharedError> {
        self.check(offset, bytes.len(), 1)?;
        self.claim_bytes(offset, bytes.len())?;
        // SAFETY: as in `copy_out`, with `bytes` as the source: a shared borrow, so nothing
        // in this process writes it during the copy, and not the destination range, which
        // this process only touches through atomics and these copies (a live `&[u8]` on
        // those bytes would be unsound already).
        unsafe {
            multiproc_sys::racy_copy::copy_to_shared(
                self.base().add(offset),
                bytes.as_ptr(),
                bytes.len(),
            );
        }
        Ok(())
    }

    /// The `len` values of `T` at `offset`, for reading while `held` proves the data lock.
    pub(crate) fn locked_slice<'a, T: Pod>(
        &'a self,
        offset: usize,
        len: usize,
        held: &'a GuardHeld,
    ) -> Result<&'a [T], SharedError> {
        let _ = held;
        let ptr = self.typed::<T>(offset, len)?;
        // SAFETY: in bounds and aligned (`typed`); any bit pattern is a valid `T` (Pod); the
        // data lock is held by this thread with its guard flag raised (`held`), so no other
        // thread of this process touches these bytes until the guard is dropped, which ends
        // `'a`.
        Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
    }

    /// As [`locked_slice`](Self::locked_slice), writable: `&mut held` makes it unique.
    pub(crate) fn locked_slice_mut<'a, T: Pod>(
        &'a self,
        offset: usize,
        len: usize,
        held: &'a mut GuardHeld,
    ) -> Result<&'a mut [T], SharedError> {
        let _ = held;
        let ptr = self.typed::<T>(offset, len)?;
        // SAFETY: as in `locked_slice`; the exclusive borrow of the one `GuardHeld` of this
        // lock makes this the only reference to the data in this process.
        Ok(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
    }

    /// A pointer to `len` values of `T` at `offset`, checked in bounds and aligned.
    fn typed<T>(&self, offset: usize, len: usize) -> Result<*mut T, SharedError> {
        let bytes = size_of::<T>()
            .checked_mul(len)
            .ok_or(SharedError::TooLarge)?;
        self.check(offset, bytes, 1)?;
        let ptr = self.base().wrapping_add(offset);
        if !(ptr as usize).is_multiple_of(align_of::<T>()) {
            return Err(SharedError::Unaligned {
                offset,
                align: align_of::<T>(),
            });
        }
        Ok(ptr.cast::<T>())
    }
}

/// Words `first .. first + count` of a mapping, claimed for 8-byte accesses for good and
/// kept mapped by the `Arc`: reached with one bounds check, no claim or range check.
#[derive(Clone)]
pub(crate) struct WideWords {
    mapping: std::sync::Arc<Mapping>,
    first: usize,
    count: usize,
}

impl WideWords {
    /// The `count` words from byte `offset` (8-aligned) of `mapping`, claimed wide.
    pub(crate) fn new(
        mapping: std::sync::Arc<Mapping>,
        offset: usize,
        count: usize,
    ) -> Result<WideWords, SharedError> {
        let len = count.checked_mul(WORD).ok_or(SharedError::TooLarge)?;
        mapping.check(offset, len, WORD)?;
        mapping.claim_bytes(offset, len)?;
        Ok(WideWords {
            mapping,
            first: offset / WORD,
            count,
        })
    }

    /// How many words.
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// Word `index`, if below [`len`](Self::len).
    #[inline]
    pub(crate) fn get(&self, index: usize) -> Option<&AtomicU64> {
        if index >= self.count {
            return None;
        }
        // SAFETY: word `first + index` lies in the range `new` checked to be inside the
        // mapping, which the `Arc` keeps alive as long as `&self`; it is 8-aligned (an
        // aligned offset from the page-aligned base); it is claimed for 8-byte accesses
        // for good, so this process touches it only with `AtomicU64`s and the byte copies;
        // every bit pattern is a valid `AtomicU64`.
        Some(unsafe {
            &*self
                .mapping
                .base()
                .add((self.first + index) * WORD)
                .cast::<AtomicU64>()
        })
    }
}

/// The synchronisation word `W` at a fixed offset of a mapping, claimed for its access
/// sizes for good and kept mapped by the `Arc`: reached with no check at all.
pub(crate) struct ClaimedWord<W> {
    mapping: std::sync::Arc<Mapping>,
    offset: usize,
    _word: PhantomData<fn() -> W>,
}

impl<W> Clone for ClaimedWord<W> {
    fn clone(&self) -> Self {
        ClaimedWord {
            mapping: std::sync::Arc::clone(&self.mapping),
            offset: self.offset,
            _word: PhantomData,
        }
    }
}

impl<W: Word> ClaimedWord<W> {
    /// The `W` at byte `offset` of `mapping`, checked and claimed as
    /// [`Mapping::claimed_word`] does.
    pub(crate) fn new(
        mapping: std::sync::Arc<Mapping>,
        offset: usize,
    ) -> Result<ClaimedWord<W>, SharedError> {
        mapping.claimed_word::<W>(offset)?;
        Ok(ClaimedWord {
            mapping,
            offset,
            _word: PhantomData,
        })
    }

    /// The word.
    #[inline]
    pub(crate) fn get(&self) -> &W {
        // SAFETY: `new` checked the word in bounds and aligned and claimed its 8-byte
        // words for the sizes `W` uses, for good; the `Arc` keeps the mapping alive as
        // long as `&self`; `W: Word` holds atomics only, valid for every bit pattern.
        unsafe { &*self.mapping.base().add(self.offset).cast::<W>() }
    }
}

/// `count` zeroed atomics, from zeroed (lazily mapped) memory; an error, not an abort,
/// when the allocator refuses.
fn zeroed_bits(count: usize) -> Result<Box<[AtomicU64]>, SharedError> {
    if count == 0 {
        return Ok(Box::new([]));
    }
    let layout =
        std::alloc::Layout::array::<AtomicU64>(count).map_err(|_| SharedError::TooLarge)?;
    // SAFETY: `layout` has a non-zero size (count > 0).
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<AtomicU64>();
    if ptr.is_null() {
        return Err(SharedError::TooLarge);
    }
    // SAFETY: `ptr` is a fresh allocation from the global allocator with the layout of
    // `[AtomicU64; count]`, zeroed, and all-zero bytes are a valid `AtomicU64`; the box
    // takes ownership and frees it with the same layout.
    Ok(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, count)) })
}

/// A memfd of `len` bytes (at least 1) from ipc-channel, which asserts on failure
/// (memfd_create, ftruncate or mmap refused, e.g. out of fds): caught as an error.
fn new_memfd(len: usize) -> Result<IpcSharedMemory, SharedError> {
    std::panic::catch_unwind(|| IpcSharedMemory::from_byte(0, len)).map_err(|_| {
        SharedError::Io(io::Error::other(
            "could not create a memfd segment (out of file descriptors or memory?)",
        ))
    })
}

/// Proof that this thread owns a `Value`/`Array` data lock (an [`RLockWord`]) and raised its
/// "guard out" flag from 0 to 1. While the flag is up, the crate refuses every other access
/// to the data from this process: another thread cannot own the lock, this thread's
/// `get`/`set`/atomic helpers and a second guard see the flag, and the `RLock` refuses to
/// give up the guard's level (`release`, a condition wait). Not `Send`: the lock is the
/// thread's.
#[derive(Debug)]
pub(crate) struct GuardHeld {
    _not_send: PhantomData<*const ()>,
}

impl GuardHeld {
    /// Raises `flag` if this thread owns `lock` and no guard is out; `None` otherwise.
    pub(crate) fn claim(lock: &RLockWord, flag: &AtomicU32) -> Option<GuardHeld> {
        if !lock.is_owned() {
            return None;
        }
        flag.compare_exchange(0, 1, Ordering::Relaxed, Ordering::Relaxed)
            .ok()?;
        Some(GuardHeld {
            _not_send: PhantomData,
        })
    }

    /// Raises `flag` with a plain store, for the thread that has just taken the free
    /// `lock` at its first level (its compare-and-swap from "free" succeeded): no guard of
    /// this process can be out then, since a guard holds the lock, and a raised flag was
    /// left by a dead owner. [`claim`](GuardHeld::claim) checks instead of assuming.
    #[inline]
    pub(crate) fn raise_first(lock: &RLockWord, flag: &AtomicU32) -> GuardHeld {
        debug_assert!(lock.is_owned() && lock.count() == 1);
        flag.store(1, Ordering::Relaxed);
        GuardHeld {
            _not_send: PhantomData,
        }
    }

    /// Lowers `flag` again; the caller then releases the lock.
    #[inline]
    pub(crate) fn give_back(&mut self, flag: &AtomicU32) {
        // The lock's release that follows orders this store for the next owner.
        flag.store(0, Ordering::Relaxed);
    }
}

mod sealed {
    pub trait Sealed {}
}

/// The integer atomics of `std`, which [`Mapping::atomic`] may place anywhere aligned.
///
/// ```
/// // Not nameable: it bounds `AtomicInteger::Atomic`, the std atomic behind each integer.
/// use multiproc_shared::AtomicInteger;
/// fn same_size<T: AtomicInteger>() -> bool {
///     std::mem::size_of::<T>() == std::mem::size_of::<T::Atomic>()
/// }
/// assert!(same_size::<u64>() && same_size::<i8>());
/// ```
pub trait NativeAtomic: sealed::Sealed + Sync {}

macro_rules! native_atomic {
    ($($t:ident),*) => {$(
        impl sealed::Sealed for atomic::$t {}
        impl NativeAtomic for atomic::$t {}
    )*};
}
native_atomic!(
    AtomicU8,
    AtomicI8,
    AtomicU16,
    AtomicI16,
    AtomicU32,
    AtomicI32,
    AtomicU64,
    AtomicI64,
    AtomicUsize,
    AtomicIsize
);

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(len: usize) -> Mapping {
        let mapping = Mapping::anonymous(len).unwrap();
        let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        mapping.write_at(0, &bytes).unwrap();
        mapping
    }

    #[test]
    fn copies_every_alignment_and_length() {
        let mapping = filled(100);
        for offset in 0..40 {
            for len in 0..40 {
                let mut out = vec![0xee; len];
                mapping.read_at(offset, &mut out).unwrap();
                let expected: Vec<u8> = (offset..offset + len).map(|i| (i % 251) as u8).collect();
                assert_eq!(out, expected, "offset {offset} len {len}");
                let mut appended = vec![7];
                mapping.append_to(offset, len, &mut appended).unwrap();
                assert_eq!(appended[1..], expected);
                // Write a different pattern and check the neighbours are untouched.
                let pattern: Vec<u8> = (0..len).map(|i| 200 - i as u8).collect();
                let copy = filled(100);
                copy.write_at(offset, &pattern).unwrap();
                let mut all = vec![0; 100];
                copy.read_at(0, &mut all).unwrap();
                for (i, byte) in all.iter().enumerate() {
                    let want = if (offset..offset + len).contains(&i) {
                        pattern[i - offset]
                    } else {
                        (i % 251) as u8
                    };
                    assert_eq!(*byte, want, "offset {offset} len {len} byte {i}");
                }
            }
        }
    }

    #[test]
    fn one_access_size_per_word() {
        let mapping = Mapping::anonymous(4096).unwrap();
        mapping.claimed_u32(4).unwrap();
        mapping.claimed_word::<crate::words::LockWord>(0).unwrap();
        assert!(matches!(
            mapping.claimed_u64(0),
            Err(SharedError::MixedAccess { offset: 0, len: 8 })
        ));
        assert!(mapping.read_at(6, &mut [0; 4]).is_err());
        assert!(mapping.write_at(1, &[0]).is_err());
        mapping.claimed_u64(8).unwrap();
        mapping.read_at(8, &mut [0; 8]).unwrap();
        assert!(mapping.claimed_u32(12).is_err());
        // An RLockWord: two narrow words, then a wide one.
        mapping.claimed_word::<crate::words::RLockWord>(16).unwrap();
        mapping.claimed_u64(32).unwrap();
        assert!(mapping.claimed_u32(36).is_err());
        assert!(mapping.claimed_u64(16).is_err());
        assert!(mapping.claimed_u64(24).is_err());
        // Long ranges cross bitmap chunks.
        mapping.write_at(40, &[1; 3000]).unwrap();
        mapping.claimed_u32(4000).unwrap();
        assert!(mapping.read_at(100, &mut [0; 3990]).is_err());
        mapping.read_at(100, &mut [0; 3900]).unwrap();
    }

    fn resident_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// 64 GiB of segment cost no memory until used, and the grown memfd is the one that
    /// ipc-channel sends (its file has the full size).
    #[test]
    fn huge_segment_touches_nothing() {
        let before = resident_kib();
        let mapping = Mapping::anonymous(1 << 36).unwrap();
        mapping.write_at((1 << 36) - 8, &[7; 8]).unwrap();
        let mut last = [0; 8];
        mapping.read_at((1 << 36) - 8, &mut last).unwrap();
        assert_eq!(last, [7; 8]);
        let grown = resident_kib().saturating_sub(before);
        assert!(
            grown < 64 * 1024,
            "{grown} KiB resident after a 64 GiB segment"
        );
        let memory = mapping.memfd().unwrap().clone();
        assert_eq!(memory.len(), 1, "ipc-channel's own view stays one byte");
        let file = multiproc_sys::memfd::reopen_mapped(memory.as_ptr() as usize).unwrap();
        assert_eq!(file.metadata().unwrap().len(), 1 << 36);
    }

    #[test]
    fn bad_ranges_are_errors() {
        let mapping = Mapping::anonymous(16).unwrap();
        assert!(mapping.read_at(10, &mut [0; 7]).is_err());
        assert!(mapping.write_at(usize::MAX, &[1]).is_err());
        assert!(mapping.append_to(0, 1 << 62, &mut Vec::new()).is_err());
        assert!(mapping.atomic::<AtomicU32>(2).is_err());
        assert!(mapping.atomic::<AtomicU64>(16).is_err());
        assert!(mapping.atomic::<AtomicU64>(8).is_ok());
    }
}
