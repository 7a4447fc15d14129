//! Which size of atomic each 8-byte word of a mapping is claimed for: the bookkeeping
//! behind rules 1 and 2 of the parent module, with no `unsafe` of its own.

#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicU64, Ordering};

use super::{WORD, zeroed_bits};
use crate::SharedError;

/// The size of atomic an 8-byte word of a mapping is accessed with.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Size {
    /// `AtomicU32` (the synchronisation words).
    Narrow,
    /// `AtomicU64` (counters, and the byte copies).
    Wide,
}

/// Which size of atomic each 8-byte word of a mapping has been claimed for, by callers
/// outside the crate, in this process. Rust's memory model does not allow atomic accesses
/// of different sizes to the same bytes to race, and `Segment` lets safe code pick both an
/// `AtomicU32` and an `AtomicU64` (or a byte copy) at any offset; so the first access to a
/// word decides its size for good, and an access of the other size is an error. Claims
/// never end, so a claim checked once stays valid without a lock.
pub(super) struct AccessSizes {
    /// One bit per word: claimed narrow.
    narrow: Bits,
    /// One bit per word: claimed wide. Never set together with the same `narrow` bit.
    wide: Bits,
    /// Held while bits are set, so that the check of the other size and the setting of
    /// one's own are one step.
    change: std::sync::Mutex<()>,
    /// Words `first..end` claimed wide by [`Mapping::claim_wide_range`]: a wide claim
    /// inside them needs no bitmap (a queue's header counters and ring, claimed on every
    /// access otherwise).
    pub(super) wide_for_good: std::sync::OnceLock<(usize, usize)>,
}

/// Bitmap chunks (64 words each) per block of a [`Bits`]: 256 KiB of bitmap, for 16 MiB of
/// segment.
const BLOCK_CHUNKS: usize = 32 * 1024;

/// A bitmap of one bit per word, allocated a block at a time on the first claim in that
/// block: a segment's bitmaps cost nothing but their block table (24 bytes per 16 MiB of
/// segment) until its words are used, and then only around the words used. A whole bitmap
/// would be 1/64 of the segment's size, 16 GiB for 1 TiB, and refused where private memory
/// is limited (`RLIMIT_DATA`, `RLIMIT_AS`, strict overcommit).
struct Bits {
    blocks: Box<[std::sync::OnceLock<Box<[AtomicU64]>>]>,
    /// The bitmap's length in chunks.
    chunks: usize,
}

impl Bits {
    fn new(chunks: usize) -> Result<Bits, SharedError> {
        let count = chunks.div_ceil(BLOCK_CHUNKS);
        let mut blocks = Vec::new();
        blocks
            .try_reserve_exact(count)
            .map_err(|_| SharedError::TooLarge)?;
        blocks.resize_with(count, std::sync::OnceLock::new);
        Ok(Bits {
            blocks: blocks.into_boxed_slice(),
            chunks,
        })
    }

    /// Chunk `chunk` (in bounds): zero while its block was never allocated.
    #[inline]
    fn load(&self, chunk: usize) -> u64 {
        self.blocks[chunk / BLOCK_CHUNKS].get().map_or(0, |block| {
            block[chunk % BLOCK_CHUNKS].load(Ordering::Acquire)
        })
    }

    /// Allocates the block of chunk `chunk` (in bounds) if it is not yet; an error if the
    /// allocator refuses.
    fn reserve(&self, chunk: usize) -> Result<(), SharedError> {
        let index = chunk / BLOCK_CHUNKS;
        if self.blocks[index].get().is_none() {
            let len = BLOCK_CHUNKS.min(self.chunks - index * BLOCK_CHUNKS);
            let fresh = zeroed_bits(len)?;
            // Under `AccessSizes::change`, so no other thread sets it meanwhile; a lost
            // race would only drop `fresh`.
            let _ = self.blocks[index].set(fresh);
        }
        Ok(())
    }

    /// Sets `mask` in chunk `chunk`, whose block [`reserve`](Self::reserve) allocated.
    fn set(&self, chunk: usize, mask: u64) {
        if let Some(block) = self.blocks[chunk / BLOCK_CHUNKS].get() {
            block[chunk % BLOCK_CHUNKS].fetch_or(mask, Ordering::Release);
        }
    }
}

impl AccessSizes {
    /// The bitmaps for `len` bytes, allocated as they are used (see [`Bits`]);
    /// [`SharedError::TooLarge`] if even their block tables cannot be allocated.
    pub(super) fn new(len: usize) -> Result<AccessSizes, SharedError> {
        let chunks = len.div_ceil(WORD).div_ceil(64);
        Ok(AccessSizes {
            narrow: Bits::new(chunks)?,
            wide: Bits::new(chunks)?,
            change: std::sync::Mutex::new(()),
            wide_for_good: std::sync::OnceLock::new(),
        })
    }

    #[inline]
    fn bits(&self, size: Size) -> &Bits {
        match size {
            Size::Narrow => &self.narrow,
            Size::Wide => &self.wide,
        }
    }

    /// Calls `each(chunk, mask)` for the bitmap chunks covering words `first..first+count`.
    fn chunks(first: usize, count: usize, mut each: impl FnMut(usize, u64) -> bool) -> bool {
        let end = first + count;
        let mut word = first;
        while word < end {
            let chunk = word / 64;
            let from = word % 64;
            let to = (end - chunk * 64).min(64);
            let mask = if to - from == 64 {
                u64::MAX
            } else {
                ((1_u64 << (to - from)) - 1) << from
            };
            if !each(chunk, mask) {
                return false;
            }
            word = chunk * 64 + to;
        }
        true
    }

    /// Claims words `first..first+count` (in bounds) for `size`, or fails if one of them
    /// was claimed for the other size.
    #[inline]
    pub(super) fn claim(&self, first: usize, count: usize, size: Size) -> Result<(), SharedError> {
        if self.already_claimed(first, count, size) {
            return Ok(());
        }
        self.claim_slow(first, count, size)
    }

    /// The fast path of [`claim`](Self::claim), inlined into every access: words inside
    /// the range claimed wide for good, or a single word already claimed.
    #[inline]
    fn already_claimed(&self, first: usize, count: usize, size: Size) -> bool {
        if size == Size::Wide
            && let Some(&(from, end)) = self.wide_for_good.get()
            && first >= from
            && first + count <= end
        {
            return true;
        }
        count == 1 && self.bits(size).load(first / 64) & (1 << (first % 64)) != 0
    }

    #[inline(never)]
    fn claim_slow(&self, first: usize, count: usize, size: Size) -> Result<(), SharedError> {
        let own = self.bits(size);
        let claimed = Self::chunks(first, count, |chunk, mask| own.load(chunk) & mask == mask);
        if claimed {
            return Ok(());
        }
        let other = self.bits(match size {
            Size::Narrow => Size::Wide,
            Size::Wide => Size::Narrow,
        });
        let _change = self
            .change
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let free = Self::chunks(first, count, |chunk, mask| other.load(chunk) & mask == 0);
        if !free {
            return Err(SharedError::MixedAccess {
                offset: first * WORD,
                len: count * WORD,
            });
        }
        // Every block first, so that a refused allocation claims nothing.
        let mut reserved = Ok(());
        Self::chunks(first, count, |chunk, _| {
            reserved = own.reserve(chunk);
            reserved.is_ok()
        });
        reserved?;
        Self::chunks(first, count, |chunk, mask| {
            own.set(chunk, mask);
            true
        });
        Ok(())
    }
}
