//! Finding the memfd behind a shared mapping, so that it can be grown without touching
//! its pages. See proc(5) (`/proc/self/maps`, `/proc/self/fd`), memfd_create(2) and
//! ftruncate(2).
//!
//! ```
//! let fd = rustix::fs::memfd_create("doc-example", rustix::fs::MemfdFlags::CLOEXEC)?;
//! let file = std::fs::File::from(fd);
//! file.set_len(4096)?;
//! let map = multiproc_sys::mem::map_shared(&file, 4096)?;
//! // As if only the mapping were known: find its memfd again, and grow it.
//! let again = multiproc_sys::memfd::reopen_mapped(map.as_ptr() as usize)?;
//! again.set_len(8192)?;
//! assert_eq!(file.metadata()?.len(), 8192);
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;

/// Opens again the memfd that is mapped at `address` (the start of a mapping), found in
/// `/proc/self/maps` and matched by device and inode among this process's open memfds in
/// `/proc/self/fd` (opening `/proc/self/fd/<n>` gives a new description of the same
/// file; only links to `/memfd:...` are opened). For a memfd that some library created and mapped but whose fd it keeps private:
/// the caller can then grow it with `File::set_len` (ftruncate(2)), which allocates
/// nothing, and map it whole.
///
/// `NotFound` if no mapping starts at `address` or no open fd refers to its file.
///
/// ```
/// use std::os::unix::fs::MetadataExt;
/// // A /dev/shm file is not a memfd: not found, even while mapped.
/// let path = format!("/dev/shm/multiproc-sys-doc-memfd-{}", std::process::id());
/// let file = std::fs::OpenOptions::new().read(true).write(true).create(true).open(&path)?;
/// std::fs::remove_file(&path)?;
/// file.set_len(4096)?;
/// let map = multiproc_sys::mem::map_shared(&file, 4096)?;
/// assert!(multiproc_sys::memfd::reopen_mapped(map.as_ptr() as usize).is_err());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn reopen_mapped(address: usize) -> io::Result<File> {
    let maps = std::fs::read_to_string("/proc/self/maps")?;
    let (dev, inode) = maps
        .lines()
        .find_map(|line| mapped_file_at(line, address))
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no file mapped there"))?;
    for entry in std::fs::read_dir("/proc/self/fd")? {
        let path = entry?.path();
        // Only memfds are opened again: opening a device, a FIFO or a terminal through
        // its /proc link could have side effects.
        let is_memfd = std::fs::read_link(&path).is_ok_and(|target| {
            target
                .as_os_str()
                .as_encoded_bytes()
                .starts_with(b"/memfd:")
        });
        if !is_memfd {
            continue;
        }
        // Another thread may close or reuse the fd meanwhile: the inode check decides.
        let Ok(file) = File::options().read(true).write(true).open(&path) else {
            continue;
        };
        let Ok(meta) = file.metadata() else { continue };
        if meta.ino() == inode && dev_matches(meta.dev(), dev) {
            return Ok(file);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        "no open file descriptor refers to the mapped file",
    ))
}

/// From one line of `/proc/self/maps` (`start-end perms offset major:minor inode path`),
/// the device and inode of the file mapped at `address`, if the mapping starts there.
fn mapped_file_at(line: &str, address: usize) -> Option<((u32, u32), u64)> {
    let mut fields = line.split_ascii_whitespace();
    let range = fields.next()?;
    let start = usize::from_str_radix(range.split('-').next()?, 16).ok()?;
    if start != address {
        return None;
    }
    let _perms = fields.next()?;
    let _offset = fields.next()?;
    let (major, minor) = fields.next()?.split_once(':')?;
    let dev = (
        u32::from_str_radix(major, 16).ok()?,
        u32::from_str_radix(minor, 16).ok()?,
    );
    let inode = fields.next()?.parse().ok()?;
    (inode != 0).then_some((dev, inode))
}

/// Whether `st_dev` names the device `major:minor` as `/proc/self/maps` prints it.
fn dev_matches(st_dev: u64, (major, minor): (u32, u32)) -> bool {
    rustix::fs::major(st_dev) == major && rustix::fs::minor(st_dev) == minor
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_maps_line() {
        let line = "7f0000000000-7f0000001000 rw-s 00000000 00:01 4242  /memfd:x (deleted)";
        assert_eq!(mapped_file_at(line, 0x7f00_0000_0000), Some(((0, 1), 4242)));
        assert_eq!(mapped_file_at(line, 0x7f00_0000_1000), None);
        assert_eq!(mapped_file_at("garbage", 0), None);
    }
}
