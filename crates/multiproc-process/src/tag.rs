//! Keyed tags on the function offsets that cross a process boundary.
//!
//! A function is named in another process by its offset from a fixed function of this binary
//! (see `function.rs`). An offset alone is just a number: bytes that decode to one would make
//! the receiver jump anywhere. So every offset travels with a tag, a truncated
//! HMAC-SHA256 over the offset and the name of the function-pointer type it stands for, under a
//! key shared by one process tree only:
//!
//! - the first process that needs the key draws it at random;
//! - a forked child has it in its copy of memory (the fork paths make sure it exists before
//!   they fork);
//! - a re-executed (spawn) child and the fork server receive it in their bootstrap message,
//!   over a channel that only a process of the same user, running the same executable, reaches.
//!
//! Only a process that holds the key can make a valid tag, and the key never leaves the tree,
//! so a valid tag proves that the offset was made by `Sealed::seal` for that function type in
//! a process running this very executable. Verified pairs are remembered in a small lock-free
//! table so that the pool's per-task decoding does not pay an HMAC each time.

use std::fmt;
use std::marker::PhantomData;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicIsize, AtomicU8, AtomicU64, Ordering};

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The truncated HMAC: 128 bits, as many as a forger would have to guess.
pub(crate) type Tag = [u8; 16];

/// The secret of one process tree.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TreeKey([u8; 32]);

impl fmt::Debug for TreeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TreeKey(..)")
    }
}

impl TreeKey {
    #[cfg(test)]
    pub(crate) fn from_bytes(bytes: [u8; 32]) -> TreeKey {
        TreeKey(bytes)
    }

    /// The key from its bytes, as [`TreeKey::to_bytes`] gave them in another process.
    pub(crate) fn from_key_bytes(bytes: [u8; 32]) -> TreeKey {
        TreeKey(bytes)
    }

    /// The key's bytes, to hand to a process of this program started by other means.
    pub(crate) fn to_bytes(self) -> [u8; 32] {
        self.0
    }

    fn random() -> TreeKey {
        let mut key = [0u8; 32];
        if multiproc_sys::random::fill(&mut key).is_err() {
            // getrandom(2) exists since Linux 3.17, far below what this crate needs; should it
            // fail anyway, the hasher's per-process random keys are still unknown to others.
            use std::hash::{BuildHasher, RandomState};
            for (i, chunk) in key.chunks_mut(8).enumerate() {
                let word = RandomState::new().hash_one((i, std::time::SystemTime::now()));
                chunk.copy_from_slice(&word.to_ne_bytes());
            }
        }
        TreeKey(key)
    }

    fn tag(&self, offset: isize, kind: &str) -> Tag {
        let mut mac = <Hmac<Sha256>>::new_from_slice(&self.0).unwrap_or_else(|_| {
            // HMAC takes keys of any length; this arm cannot run.
            <Hmac<Sha256>>::new(&Default::default())
        });
        mac.update(&(offset as i64).to_le_bytes());
        mac.update(kind.as_bytes());
        let full = mac.finalize().into_bytes();
        let mut tag = [0u8; 16];
        tag.copy_from_slice(&full[..16]);
        tag
    }
}

static KEY: OnceLock<TreeKey> = OnceLock::new();

/// This process tree's key, drawn on first use.
pub(crate) fn tree_key() -> TreeKey {
    *KEY.get_or_init(TreeKey::random)
}

/// Adopts the key a re-executed child received in its bootstrap message. Fails if this process
/// already uses another key (it never does: the bootstrap runs before `main`).
pub(crate) fn adopt_tree_key(key: TreeKey) -> Result<(), String> {
    if *KEY.get_or_init(|| key) == key {
        Ok(())
    } else {
        Err("this process already has another process-tree key".to_owned())
    }
}

/// A function-pointer type whose values may cross a process boundary as a sealed offset.
pub(crate) trait Kind: Copy + 'static {
    /// The function's address.
    fn address(self) -> usize;
    /// The table of pairs already verified for this kind.
    fn verified() -> &'static Verified;
}

/// The name the tag binds an offset to: the function-pointer type.
fn kind_name<T: Kind>() -> &'static str {
    std::any::type_name::<T>()
}

/// An offset of a function of type `T` with its tag, as it travels. Decoding it checks
/// nothing; [`Sealed::open`] does.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub(crate) struct Sealed<T> {
    offset: isize,
    tag: Tag,
    #[serde(skip)]
    kind: PhantomData<fn() -> T>,
}

impl<T> Clone for Sealed<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Sealed<T> {}

impl<T> PartialEq for Sealed<T> {
    fn eq(&self, other: &Self) -> bool {
        self.offset == other.offset && self.tag == other.tag
    }
}

impl<T> Eq for Sealed<T> {}

impl<T> std::hash::Hash for Sealed<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.offset.hash(state);
        self.tag.hash(state);
    }
}

impl<T> fmt::Debug for Sealed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealed")
            .field("offset", &self.offset)
            .finish_non_exhaustive()
    }
}

/// A sealed offset whose tag did not verify: forged, corrupt, or from another process tree.
#[derive(Debug)]
pub(crate) struct Forged;

impl fmt::Display for Forged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a function reference whose tag does not verify (forged, corrupt, or from another process tree)")
    }
}

impl<T: Kind> Sealed<T> {
    /// Seals `f`, a function of this binary.
    pub(crate) fn seal(f: T) -> Sealed<T> {
        let offset = offset_of(f.address());
        let tag = match T::verified().tag_of(offset) {
            Some(tag) => tag,
            None => {
                let tag = tree_key().tag(offset, kind_name::<T>());
                T::verified().insert(offset, tag);
                tag
            }
        };
        Sealed {
            offset,
            tag,
            kind: PhantomData,
        }
    }

    /// Checks the tag against this process tree's key.
    pub(crate) fn verify(&self) -> Result<(), Forged> {
        if T::verified().contains(self.offset, &self.tag) {
            return Ok(());
        }
        self.verify_with(&tree_key())?;
        T::verified().insert(self.offset, self.tag);
        Ok(())
    }

    /// Checks the tag against `key`, without remembering the pair (for a bootstrap message
    /// checked before its key is adopted, and for the fuzzing entry points).
    pub(crate) fn verify_with(&self, key: &TreeKey) -> Result<(), Forged> {
        if tags_equal(&key.tag(self.offset, kind_name::<T>()), &self.tag) {
            Ok(())
        } else {
            Err(Forged)
        }
    }

    /// The offset, to resolve once [`verify`](Sealed::verify) succeeded (`sys::open`).
    pub(crate) fn offset(&self) -> isize {
        self.offset
    }
}

/// The fixed point that function offsets are measured from. Parent and child run the same
/// executable, loaded at possibly different addresses, so the distance from this function to
/// any other is the same in both.
#[inline(never)]
fn anchor() {
    std::hint::black_box(());
}

pub(crate) fn anchor_address() -> usize {
    anchor as fn() as usize
}

fn offset_of(address: usize) -> isize {
    address.wrapping_sub(anchor_address()) as isize
}

/// Compares two tags in time independent of where they differ.
fn tags_equal(a: &Tag, b: &Tag) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Slots in a [`Verified`] table: a program names few distinct functions.
const SLOTS: usize = 64;
/// Slots probed from an offset's home slot.
const PROBES: usize = 8;

const EMPTY: u8 = 0;
const WRITING: u8 = 1;
const READY: u8 = 2;

/// A fixed, insert-only table of (offset, tag) pairs that verified. Lock-free, so that a child
/// forked while another thread was inserting finds every slot either ready or not (a slot left
/// half-written by the fork stays "writing" and is simply never used).
pub(crate) struct Verified {
    slots: [Slot; SLOTS],
}

struct Slot {
    state: AtomicU8,
    offset: AtomicIsize,
    tag: [AtomicU64; 2],
}

impl Verified {
    #[allow(clippy::declare_interior_mutable_const)]
    pub(crate) const fn new() -> Verified {
        const SLOT: Slot = Slot {
            state: AtomicU8::new(EMPTY),
            offset: AtomicIsize::new(0),
            tag: [AtomicU64::new(0), AtomicU64::new(0)],
        };
        Verified {
            slots: [SLOT; SLOTS],
        }
    }

    fn probe(&self, offset: isize) -> impl Iterator<Item = &Slot> {
        let home = (offset as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58;
        (0..PROBES).map(move |i| &self.slots[(home as usize + i) % SLOTS])
    }

    fn tag_of(&self, offset: isize) -> Option<Tag> {
        self.probe(offset).find_map(|slot| {
            // Acquire pairs with the Release that published the slot; a ready slot never
            // changes again.
            (slot.state.load(Ordering::Acquire) == READY
                && slot.offset.load(Ordering::Relaxed) == offset)
                .then(|| join_tag(&slot.tag))
        })
    }

    fn contains(&self, offset: isize, tag: &Tag) -> bool {
        self.tag_of(offset)
            .is_some_and(|known| tags_equal(&known, tag))
    }

    fn insert(&self, offset: isize, tag: Tag) {
        for slot in self.probe(offset) {
            match slot
                .state
                .compare_exchange(EMPTY, WRITING, Ordering::Acquire, Ordering::Acquire)
            {
                Ok(_) => {
                    slot.offset.store(offset, Ordering::Relaxed);
                    let (low, high) = split_tag(&tag);
                    slot.tag[0].store(low, Ordering::Relaxed);
                    slot.tag[1].store(high, Ordering::Relaxed);
                    slot.state.store(READY, Ordering::Release);
                    return;
                }
                Err(READY) if slot.offset.load(Ordering::Relaxed) == offset => return,
                Err(_) => {}
            }
        }
        // Full: the pair is verified again next time.
    }
}

fn split_tag(tag: &Tag) -> (u64, u64) {
    let mut low = [0u8; 8];
    let mut high = [0u8; 8];
    low.copy_from_slice(&tag[..8]);
    high.copy_from_slice(&tag[8..]);
    (u64::from_le_bytes(low), u64::from_le_bytes(high))
}

fn join_tag(words: &[AtomicU64; 2]) -> Tag {
    let mut tag = [0u8; 16];
    tag[..8].copy_from_slice(&words[0].load(Ordering::Relaxed).to_le_bytes());
    tag[8..].copy_from_slice(&words[1].load(Ordering::Relaxed).to_le_bytes());
    tag
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_bind_offset_and_kind() {
        let key = TreeKey([7; 32]);
        assert_ne!(key.tag(1, "a"), key.tag(2, "a"));
        assert_ne!(key.tag(1, "a"), key.tag(1, "b"));
        assert_ne!(key.tag(1, "a"), TreeKey([8; 32]).tag(1, "a"));
    }

    #[test]
    fn the_table_keeps_what_was_inserted() {
        static TABLE: Verified = Verified::new();
        for offset in 0..200isize {
            TABLE.insert(offset * 4096, [offset as u8; 16]);
        }
        let kept = (0..200isize)
            .filter(|&o| TABLE.contains(o * 4096, &[o as u8; 16]))
            .count();
        assert!(kept >= SLOTS / 2, "kept {kept}");
        assert!(!TABLE.contains(0, &[1; 16]));
    }
}
