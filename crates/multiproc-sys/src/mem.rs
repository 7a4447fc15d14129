//! Shared mappings. See mmap(2) and madvise(2).
//!
//! ```
//! let path = format!("/dev/shm/multiproc-doc-mem-{}", std::process::id());
//! let file = std::fs::File::options().read(true).write(true).create_new(true).open(&path)?;
//! std::fs::remove_file(&path)?;
//! file.set_len(4096)?;
//! let map = multiproc_sys::mem::map_shared(&file, 4096)?;
//! assert_eq!(map.len(), 4096);
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fs::File;
use std::io;

/// Maps `len` bytes of `file` shared and writable (mmap(2), `MAP_SHARED`). memmap2's
/// `map_raw` is safe because a raw mapping hands out only pointers; whoever turns them into
/// references owns that contract.
///
/// ```
/// let file = tempfile_in_dev_shm()?;
/// file.set_len(4096)?;
/// let map = multiproc_sys::mem::map_shared(&file, 4096)?;
/// assert_eq!(map.len(), 4096);
/// # fn tempfile_in_dev_shm() -> std::io::Result<std::fs::File> {
/// #     let path = format!("/dev/shm/multiproc-sys-doc-{}", std::process::id());
/// #     let f = std::fs::OpenOptions::new().read(true).write(true).create(true).open(&path)?;
/// #     std::fs::remove_file(&path)?;
/// #     Ok(f)
/// # }
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn map_shared(file: &File, len: usize) -> io::Result<memmap2::MmapRaw> {
    memmap2::MmapOptions::new().len(len).map_raw(file)
}

/// Gives the pages of a shared mapping back to the kernel (madvise(2), `MADV_REMOVE`, which
/// frees the backing store of a shared memory mapping, unlike `MADV_DONTNEED`): they read
/// as zeros and are allocated again when written. A failure only leaves the pages resident,
/// so it is ignored.
///
/// # Safety
///
/// `base..base + len` must be a page-aligned part of a live `MAP_SHARED` mapping whose
/// contents nobody needs any more, and to which no Rust reference points (the bytes change
/// to zeros under it).
///
/// ```
/// // A file in tmpfs, whose pages MADV_REMOVE frees.
/// let path = format!("/dev/shm/multiproc-doc-{}", std::process::id());
/// let file = std::fs::File::options().read(true).write(true).create_new(true).open(&path)?;
/// std::fs::remove_file(&path)?;
/// file.set_len(4096)?;
/// let map = multiproc_sys::mem::map_shared(&file, 4096)?;
/// // SAFETY: the first page of a live shared mapping that no reference points into.
/// unsafe {
///     map.as_mut_ptr().write(7);
///     multiproc_sys::mem::release_pages(map.as_mut_ptr(), 4096);
///     assert_eq!(map.as_ptr().read(), 0); // the page reads as zeros again
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
pub unsafe fn release_pages(base: *mut u8, len: usize) {
    // SAFETY: per the contract; MADV_REMOVE keeps the mapping valid, it reads as zeros.
    let _ = unsafe { rustix::mm::madvise(base.cast(), len, rustix::mm::Advice::LinuxRemove) };
}
