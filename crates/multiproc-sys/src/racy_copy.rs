//! Byte copies between private memory and a `MAP_SHARED` mapping that another process may
//! write at the same moment, at the speed of `memcpy`.
//!
//! Rust has no byte copy that may race: `ptr::copy_nonoverlapping` on bytes that another
//! thread or process writes meanwhile is a data race, undefined behaviour that the compiler
//! may exploit. Relaxed atomic loads and stores are allowed to race, but a loop of them is
//! not vectorised and runs at a fraction of `memcpy`'s speed.
//!
//! On x86_64, [`copy_to_shared`] and [`copy_from_shared`] move the bytes with inline
//! assembly instead: `rep movsb` (fast on every CPU with ERMS, and for short lengths too
//! with FSRM) for longer ranges, and one or two plain `mov`s of 1, 2, 4 or 8 bytes for
//! ranges of up to 16 bytes. An `asm!` block is opaque to the compiler: it must assume the
//! block reads and writes whatever memory its pointers reach, so it can neither reason
//! about a value read there nor drop or reorder a write across it. What the block does is
//! what the hardware does, and on x86 a load or store that races with another core's
//! stores is defined: each byte read holds a value some store put there. A racing peer can
//! therefore change the *values* copied, never make the copy undefined. This is the
//! argument of taiki-e's `atomic-maybe-uninit` crate, which implements atomic accesses
//! the same way.
//!
//! Elsewhere, they are a loop of relaxed 8-byte atomic accesses on the aligned words of
//! the shared side, with masked 8-byte read-modify-writes (`fetch_and`, then `fetch_or`)
//! at its unaligned ends, so the bytes outside the range are never written.
//!
//! ```
//! let shared = std::sync::atomic::AtomicU64::new(0);
//! let word = shared.as_ptr().cast::<u8>();
//! let input = [1u8, 2, 3];
//! // SAFETY: `word` is 8 bytes that only atomics and this copy touch; `input` is private.
//! unsafe { multiproc_sys::racy_copy::copy_to_shared(word.wrapping_add(2), input.as_ptr(), 3) };
//! assert_eq!(shared.into_inner().to_ne_bytes(), [0, 0, 1, 2, 3, 0, 0, 0]);
//! ```

/// Copies `len` bytes from private `src` into shared `dst`, which other threads or
/// processes may read or write at the same time. Bytes outside `dst .. dst + len` are
/// neither read nor written.
///
/// # Safety
///
/// - `src` is valid for reads of `len` bytes and no other thread writes them meanwhile.
/// - `dst` is valid for writes of `len` bytes, 8-byte aligned words around it are mapped
///   (the memory is a mapping of whole pages, or an atomic of this process), and every
///   concurrent access to those bytes from this process goes through an atomic or through
///   this module (never a `&`/`&mut` reference to non-atomic data).
/// - On targets other than x86_64, `dst .. dst + len` lies in 8-byte-aligned words that
///   this process only ever accesses with 8-byte atomics or this module.
/// - The two ranges do not overlap.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// let shared = [AtomicU64::new(0), AtomicU64::new(0)];
/// let bytes = *b"racy bytes";
/// // SAFETY: 16 bytes of atomics, which nothing else touches; `bytes` is private.
/// unsafe {
///     multiproc_sys::racy_copy::copy_to_shared(shared.as_ptr().cast::<u8>().cast_mut(), bytes.as_ptr(), 10)
/// };
/// assert_eq!(shared[0].load(Ordering::Relaxed).to_ne_bytes(), *b"racy byt");
/// ```
pub unsafe fn copy_to_shared(dst: *mut u8, src: *const u8, len: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the caller's contract, which covers both sides of the copy.
    unsafe {
        x86::copy(dst, src, len)
    };
    #[cfg(not(target_arch = "x86_64"))]
    // SAFETY: the caller's contract.
    unsafe {
        portable::copy_to_shared(dst, src, len)
    };
}

/// Copies `len` bytes from shared `src`, which other threads or processes may write at
/// the same time, into private `dst` (all `len` bytes written; `dst` may be uninitialised
/// before). Bytes outside `src .. src + len` are not read.
///
/// # Safety
///
/// - `src` is valid for reads of `len` bytes, and every concurrent access to them from
///   this process goes through an atomic or through this module.
/// - On targets other than x86_64, `src .. src + len` lies in 8-byte-aligned words that
///   this process only ever accesses with 8-byte atomics or this module, and those words
///   are mapped whole.
/// - `dst` is valid for writes of `len` bytes and nothing else reads or writes them
///   meanwhile.
/// - The two ranges do not overlap.
///
/// ```
/// use std::sync::atomic::AtomicU64;
/// let shared = AtomicU64::new(u64::from_ne_bytes(*b"abcdefgh"));
/// let mut out = [0u8; 3];
/// // SAFETY: an atomic read only by this copy; `out` is private.
/// unsafe {
///     multiproc_sys::racy_copy::copy_from_shared(out.as_mut_ptr(), shared.as_ptr().cast::<u8>().add(2), 3)
/// };
/// assert_eq!(out, *b"cde");
/// ```
pub unsafe fn copy_from_shared(dst: *mut u8, src: *const u8, len: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the caller's contract, which covers both sides of the copy.
    unsafe {
        x86::copy(dst, src, len)
    };
    #[cfg(not(target_arch = "x86_64"))]
    // SAFETY: the caller's contract.
    unsafe {
        portable::copy_from_shared(dst, src, len)
    };
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::asm;

    /// Ranges up to this long are copied with one or two `mov`s per side: `rep movsb`
    /// costs a fixed start-up that dominates short copies, even with FSRM.
    const SHORT: usize = 16;

    /// Copies `len` bytes from `src` to `dst`, both read and written only by `asm!`.
    ///
    /// # Safety
    ///
    /// `src` valid for reads and `dst` for writes of `len` bytes, not overlapping; racing
    /// accesses by others only through atomics or asm (see the module docs).
    #[inline]
    pub(super) unsafe fn copy(dst: *mut u8, src: *const u8, len: usize) {
        if len > SHORT {
            // SAFETY: `rep movsb` reads `src .. src + len` and writes `dst .. dst + len`,
            // which the caller guarantees valid and disjoint; the direction flag is clear
            // on entry to an `asm!` block (Rust's ABI), so it copies forwards; it changes
            // no flags and uses no stack. A racing writer only changes the values read
            // (see the module docs).
            unsafe {
                asm!(
                    "rep movsb",
                    inout("rcx") len => _,
                    inout("rdi") dst => _,
                    inout("rsi") src => _,
                    options(nostack, preserves_flags)
                );
            }
            return;
        }
        // One or two moves of the largest power of two not above `len`, overlapping in
        // the middle: every byte of the range is written with its own source value, and
        // no byte outside it is touched.
        // SAFETY: every offset below plus its width is at most `len`, so each move stays
        // inside the two ranges the caller vouches for; both loads happen before either
        // store, and the ranges do not overlap.
        unsafe {
            match len {
                0 => {}
                1 => store8(dst, load8(src)),
                2..4 => {
                    let (a, b) = (load16(src), load16(src.add(len - 2)));
                    store16(dst, a);
                    store16(dst.add(len - 2), b);
                }
                4..8 => {
                    let (a, b) = (load32(src), load32(src.add(len - 4)));
                    store32(dst, a);
                    store32(dst.add(len - 4), b);
                }
                _ => {
                    let (a, b) = (load64(src), load64(src.add(len - 8)));
                    store64(dst, a);
                    store64(dst.add(len - 8), b);
                }
            }
        }
    }

    macro_rules! moves {
        ($($load:ident, $store:ident, $ty:ty, $class:ident, $reg:literal, $ptr:literal;)*) => {$(
            /// A load of the (possibly unaligned) value at `src`, by the hardware.
            ///
            /// # Safety
            ///
            /// `src` valid for reads of its size; racing accesses only atomic or asm.
            #[inline(always)]
            unsafe fn $load(src: *const u8) -> $ty {
                let value: $ty;
                // SAFETY: the caller's contract; a plain `mov` from memory, which x86
                // allows unaligned; no stack, no flags.
                unsafe {
                    asm!(
                        concat!("mov {value", $reg, "}, ", $ptr, " ptr [{src}]"),
                        src = in(reg) src,
                        value = out($class) value,
                        options(nostack, preserves_flags, readonly)
                    );
                }
                value
            }

            /// A store of `value` at the (possibly unaligned) `dst`, by the hardware.
            ///
            /// # Safety
            ///
            /// `dst` valid for writes of its size; racing accesses only atomic or asm.
            #[inline(always)]
            unsafe fn $store(dst: *mut u8, value: $ty) {
                // SAFETY: the caller's contract; a plain `mov` to memory.
                unsafe {
                    asm!(
                        concat!("mov ", $ptr, " ptr [{dst}], {value", $reg, "}"),
                        dst = in(reg) dst,
                        value = in($class) value,
                        options(nostack, preserves_flags)
                    );
                }
            }
        )*};
    }

    moves! {
        load8, store8, u8, reg_byte, "", "byte";
        load16, store16, u16, reg, ":x", "word";
        load32, store32, u32, reg, ":e", "dword";
        load64, store64, u64, reg, ":r", "qword";
    }
}

// Built on x86_64 too for its tests, so that the fallback is exercised somewhere.
#[cfg(any(not(target_arch = "x86_64"), test))]
mod portable {
    use std::sync::atomic::{AtomicU64, Ordering};

    const WORD: usize = size_of::<u64>();

    /// The aligned word holding byte `at`.
    ///
    /// # Safety
    ///
    /// That word is mapped and accessed only atomically (the callers' contracts).
    unsafe fn word<'a>(at: *const u8) -> &'a AtomicU64 {
        let aligned = at.wrapping_sub(at as usize % WORD);
        // SAFETY: the caller's contract; aligned, any bit pattern valid.
        unsafe { &*aligned.cast::<AtomicU64>() }
    }

    /// # Safety
    ///
    /// As [`super::copy_from_shared`].
    pub(super) unsafe fn copy_from_shared(dst: *mut u8, src: *const u8, len: usize) {
        let mut done = 0;
        while done < len {
            let at = src.wrapping_add(done);
            let skip = at as usize % WORD;
            let n = (WORD - skip).min(len - done);
            // SAFETY: the word holds byte `at`, in the caller's range.
            let bytes = unsafe { word(at) }.load(Ordering::Relaxed).to_ne_bytes();
            // SAFETY: `dst + done .. + n` lies in `dst .. dst + len`, private.
            unsafe {
                std::ptr::copy_nonoverlapping(bytes[skip..].as_ptr(), dst.add(done), n);
            }
            done += n;
        }
    }

    /// # Safety
    ///
    /// As [`super::copy_to_shared`].
    pub(super) unsafe fn copy_to_shared(dst: *mut u8, src: *const u8, len: usize) {
        let mut done = 0;
        while done < len {
            let at = dst.wrapping_add(done);
            let skip = at as usize % WORD;
            let n = (WORD - skip).min(len - done);
            let mut bytes = [0u8; WORD];
            // SAFETY: `src + done .. + n` lies in `src .. src + len`, private.
            unsafe { std::ptr::copy_nonoverlapping(src.add(done), bytes[skip..].as_mut_ptr(), n) };
            // SAFETY: the word holds byte `at`, in the caller's range.
            let word = unsafe { word(at) };
            if n == WORD {
                word.store(u64::from_ne_bytes(bytes), Ordering::Relaxed);
            } else {
                // Only the bytes of the range change: a neighbouring copy may be writing
                // the others. Clear, then set: two read-modify-writes a peer cannot make
                // loop, unlike a compare-and-swap loop.
                let mut mask = [0u8; WORD];
                mask[skip..skip + n].fill(0xff);
                word.fetch_and(!u64::from_ne_bytes(mask), Ordering::Relaxed);
                word.fetch_or(u64::from_ne_bytes(bytes), Ordering::Relaxed);
            }
            done += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Copy = unsafe fn(*mut u8, *const u8, usize);

    /// Copies every range of up to 80 bytes at offsets 0..24 in and out with `to_shared`
    /// and `from_shared`, checking the bytes around the range are kept.
    fn check(to_shared: Copy, from_shared: Copy) {
        for offset in 0..24 {
            for len in 0..80 {
                let source: Vec<u8> = (0..len).map(|i| 100 + i as u8).collect();
                // Aligned words, as the portable copy needs.
                let mut words = [u64::from_ne_bytes([0xee; 8]); 16];
                let shared = words.as_mut_ptr().cast::<u8>();
                // SAFETY: both buffers are private to this test, in bounds, disjoint.
                unsafe { to_shared(shared.add(offset), source.as_ptr(), len) };
                // SAFETY: the 128 bytes of `words`, no longer written.
                let shared = unsafe { std::slice::from_raw_parts(shared, 128) };
                for (i, byte) in shared.iter().enumerate() {
                    let want = match i.checked_sub(offset) {
                        Some(k) if k < len => source[k],
                        _ => 0xee,
                    };
                    assert_eq!(*byte, want, "to: offset {offset} len {len} byte {i}");
                }
                let mut back = vec![0x11u8; len + 2];
                // SAFETY: as above.
                unsafe { from_shared(back.as_mut_ptr().add(1), shared.as_ptr().add(offset), len) };
                assert_eq!(back[0], 0x11);
                assert_eq!(back[len + 1], 0x11);
                assert_eq!(back[1..=len], source[..], "from: offset {offset} len {len}");
            }
        }
    }

    #[test]
    fn every_length_and_alignment_copies_exactly_the_range() {
        check(copy_to_shared, copy_from_shared);
    }

    #[test]
    fn the_portable_fallback_copies_exactly_the_range() {
        check(portable::copy_to_shared, portable::copy_from_shared);
    }
}
