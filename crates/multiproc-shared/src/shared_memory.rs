//! Named shared memory in `/dev/shm` (Python's `multiprocessing.shared_memory`).

use std::fmt;
use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::SharedError;
use crate::sys::Mapping;

/// Where POSIX shared memory lives on Linux (shm_overview(7)).
const SHM_DIR: &str = "/dev/shm";
/// The longest file name the file system takes (NAME_MAX, limits.h).
const NAME_MAX: usize = 255;

fn validate(name: &str) -> Result<(), SharedError> {
    let reject = |reason| {
        Err(SharedError::InvalidName {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        reject("the name is empty")
    } else if name.contains('/') {
        reject("the name contains '/'")
    } else if name.contains('\0') {
        reject("the name contains a NUL byte")
    } else if name == "." || name == ".." {
        reject("the name is '.' or '..'")
    } else if name.len() > NAME_MAX {
        reject("the name is longer than 255 bytes")
    } else {
        Ok(())
    }
}

fn path_of(name: &str) -> PathBuf {
    PathBuf::from(SHM_DIR).join(name)
}

/// Opens block `name` without following a symbolic link (`O_NOFOLLOW | O_CLOEXEC`, plus
/// `O_CREAT | O_EXCL` and mode 0600 on `create`), and returns it with its size. A block
/// opened, not created, is refused, with [`SharedError::Refused`], if it is not a regular file, is owned by another user, or is open to others (a
/// mode wider than 0600): `/dev/shm` is writable by every user, and any of them may plant
/// a link to one of our files or a block of their own under a name we use.
fn open_own(name: &str, create: bool) -> Result<(File, u64), SharedError> {
    let refuse = |reason: String| SharedError::Refused {
        name: name.to_owned(),
        reason,
    };
    let file = match multiproc_sys::file::open_no_follow(&path_of(name), create) {
        Ok(file) => file,
        Err(err) if multiproc_sys::file::is_symlink_refusal(&err) => {
            return Err(refuse(format!(
                "{SHM_DIR}/{name} is a symbolic link, which is never followed"
            )));
        }
        Err(err) => return Err(err.into()),
    };
    if create {
        // `O_CREAT | O_EXCL` made this file, empty, for this process's user with mode 0600
        // (or narrower, by the umask); nobody else can have replaced it on an open
        // descriptor. Checking it again would cost two system calls of a cycle's eleven.
        return Ok((file, 0));
    }
    let info = multiproc_sys::file::ownership(&file)?;
    let me = multiproc_sys::file::effective_uid();
    if !info.regular {
        Err(refuse("not a regular file".to_owned()))
    } else if info.uid != me {
        Err(refuse(format!(
            "owned by user {}, not by this process's user {me}",
            info.uid
        )))
    } else if info.mode & !0o600 != 0 {
        Err(refuse(format!(
            "mode {:04o} is wider than 0600 (other users could read or write it)",
            info.mode
        )))
    } else {
        Ok((file, info.len))
    }
}

/// A block of shared memory that other processes find by name
/// (Python's `multiprocessing.shared_memory.SharedMemory`).
///
/// It is a file in `/dev/shm`, created with mode 0600 and mapped with memmap2. Unlike the
/// anonymous [`Segment`](crate::Segment) it outlives every process until someone calls
/// [`unlink`](SharedMemory::unlink), exactly like Python's: a process that crashes before
/// unlinking leaves the file behind. Dropping (or [`close`](SharedMemory::close)) only
/// unmaps it.
///
/// Serializing a `SharedMemory` sends its name; deserializing attaches by name, so it
/// passes through any transport, byte transports included.
///
/// Truncating the file from outside (another program) makes accesses fault with SIGBUS.
///
/// ```
/// use multiproc_shared::SharedMemory;
///
/// let block = SharedMemory::create_unique(4096)?;
/// block.write_at(0, b"hello")?;
/// let other = SharedMemory::attach(block.name())?;
/// let mut greeting = [0; 5];
/// other.read_at(0, &mut greeting)?;
/// assert_eq!(&greeting, b"hello");
/// block.unlink()?;
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
#[doc(alias = "multiprocessing.shared_memory.SharedMemory")]
pub struct SharedMemory {
    name: String,
    map: Mapping,
}

impl SharedMemory {
    /// Creates a new block `name` of `size` bytes, zero-filled; fails if the name exists,
    /// is invalid ([`SharedError::InvalidName`]), or `size` is 0 ([`SharedError::ZeroSize`]).
    ///
    /// ```
    /// # let name = format!("multiproc-doc-create-{}", std::process::id());
    /// let block = multiproc_shared::SharedMemory::create(&name, 100)?;
    /// assert_eq!(block.len(), 100);
    /// block.unlink()?;
    /// assert!(multiproc_shared::SharedMemory::create("../etc", 1).is_err());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn create(name: &str, size: usize) -> Result<SharedMemory, SharedError> {
        validate(name)?;
        if size == 0 {
            return Err(SharedError::ZeroSize);
        }
        let path = path_of(name);
        let (file, _) = open_own(name, true)?;
        let mapped = file
            .set_len(size as u64)
            .map_err(SharedError::from)
            .and_then(|()| Mapping::of_file(&file, size));
        match mapped {
            Ok(map) => Ok(SharedMemory {
                name: name.to_owned(),
                map,
            }),
            Err(err) => {
                let _ = std::fs::remove_file(&path);
                Err(err)
            }
        }
    }

    /// Creates a new block under a fresh name (Python's `SharedMemory(create=True)`
    /// without a name); see [`name`](SharedMemory::name).
    ///
    /// ```
    /// let block = multiproc_shared::SharedMemory::create_unique(10)?;
    /// assert!(block.name().starts_with("psm_"));
    /// block.unlink()?;
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn create_unique(size: usize) -> Result<SharedMemory, SharedError> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        loop {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let name = format!(
                "psm_{:x}_{:x}_{:x}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed),
                nanos
            );
            match SharedMemory::create(&name, size) {
                Err(SharedError::Io(err)) if err.kind() == io::ErrorKind::AlreadyExists => continue,
                other => return other,
            }
        }
    }

    /// Attaches to the existing block `name` (Python's `SharedMemory(name)`).
    ///
    /// The file is opened without following a symbolic link, and refused
    /// ([`SharedError::Refused`]) unless it is a regular file of this process's user with a mode
    /// no wider than 0600 (blocks that [`create`](SharedMemory::create) makes are).
    ///
    /// ```
    /// assert!(multiproc_shared::SharedMemory::attach("multiproc-no-such-block").is_err());
    /// ```
    pub fn attach(name: &str) -> Result<SharedMemory, SharedError> {
        validate(name)?;
        let (file, len) = open_own(name, false)?;
        let size = usize::try_from(len).map_err(|_| SharedError::TooLarge)?;
        if size == 0 {
            return Err(SharedError::ZeroSize);
        }
        Ok(SharedMemory {
            name: name.to_owned(),
            map: Mapping::of_file(&file, size)?,
        })
    }

    /// The block's name, for [`attach`](SharedMemory::attach) in other processes.
    ///
    /// ```
    /// let block = multiproc_shared::SharedMemory::create_unique(1)?;
    /// assert!(!block.name().is_empty());
    /// block.unlink()?;
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its size in bytes.
    ///
    /// ```
    /// let block = multiproc_shared::SharedMemory::create_unique(9)?;
    /// assert_eq!(block.len(), 9);
    /// block.unlink()?;
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    #[doc(alias = "size")]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// `true` if the block has no bytes (a block attached to a name whose segment is empty).
    ///
    /// ```
    /// let block = multiproc_shared::SharedMemory::create_unique(9)?;
    /// assert!(!block.is_empty());
    /// block.unlink()?;
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The start of the mapping in this process (page-aligned).
    ///
    /// ```
    /// let block = multiproc_shared::SharedMemory::create_unique(1)?;
    /// assert_eq!(block.as_ptr() as usize % 4096, 0);
    /// block.unlink()?;
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn as_ptr(&self) -> *mut u8 {
        self.map.base()
    }

    /// Copies `out.len()` bytes at `offset` out of the block (Python's `buf[a:b]`), with
    /// 8-byte atomic loads as [`Segment::read_at`](crate::Segment::read_at) does: safe
    /// while other processes write, which can only make the bytes a mix of old and new.
    ///
    /// ```
    /// let block = multiproc_shared::SharedMemory::create_unique(8)?;
    /// block.write_at(2, b"hi")?;
    /// let mut out = [0; 4];
    /// block.read_at(1, &mut out)?;
    /// assert_eq!(&out, b"\0hi\0");
    /// assert!(block.read_at(6, &mut out).is_err());
    /// block.unlink()?;
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn read_at(&self, offset: usize, out: &mut [u8]) -> Result<(), SharedError> {
        self.map.read_at(offset, out)
    }

    /// Copies `bytes` into the block at `offset` (Python's `buf[a:b] = bytes`), with 8-byte
    /// atomic stores as [`Segment::write_at`](crate::Segment::write_at) does.
    ///
    /// ```
    /// let block = multiproc_shared::SharedMemory::create_unique(4)?;
    /// block.write_at(0, &[1, 2])?;
    /// assert!(block.write_at(3, &[1, 2]).is_err());
    /// block.unlink()?;
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn write_at(&self, offset: usize, bytes: &[u8]) -> Result<(), SharedError> {
        self.map.write_at(offset, bytes)
    }

    /// Unmaps the block in this process (the same as dropping it); the name stays.
    ///
    /// ```
    /// let block = multiproc_shared::SharedMemory::create_unique(1)?;
    /// let name = block.name().to_owned();
    /// block.close();
    /// multiproc_shared::SharedMemory::attach(&name)?.unlink()?;
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn close(self) {}

    /// Removes the name; the memory is freed once every process has unmapped it.
    ///
    /// ```
    /// let block = multiproc_shared::SharedMemory::create_unique(1)?;
    /// block.unlink()?;
    /// assert!(block.unlink().is_err());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn unlink(&self) -> Result<(), SharedError> {
        std::fs::remove_file(path_of(&self.name))?;
        Ok(())
    }
}

impl fmt::Debug for SharedMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedMemory")
            .field("name", &self.name)
            .field("size", &self.len())
            .finish()
    }
}

impl Serialize for SharedMemory {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.name.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SharedMemory {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<SharedMemory, D::Error> {
        let name = String::deserialize(deserializer)?;
        SharedMemory::attach(&name).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn unique(what: &str) -> String {
        format!("multiproc-test-{what}-{}", std::process::id())
    }

    #[test]
    fn planted_symlink_is_refused() {
        let victim = std::env::temp_dir().join(unique("victim"));
        std::fs::write(&victim, b"precious").unwrap();
        let name = unique("link");
        std::os::unix::fs::symlink(&victim, path_of(&name)).unwrap();
        let attached = SharedMemory::attach(&name);
        let created = SharedMemory::create(&name, 4096);
        let _ = std::fs::remove_file(path_of(&name));
        let contents = std::fs::read(&victim).unwrap();
        let _ = std::fs::remove_file(&victim);
        assert!(
            matches!(attached, Err(SharedError::Refused { .. })),
            "{attached:?}"
        );
        assert!(created.is_err());
        assert_eq!(contents, b"precious");
    }

    #[test]
    fn block_open_to_others_is_refused() {
        let block = SharedMemory::create_unique(4096).unwrap();
        let path = path_of(block.name());
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        let attached = SharedMemory::attach(block.name());
        block.unlink().unwrap();
        let Err(SharedError::Refused { reason, .. }) = attached else {
            panic!("{attached:?}")
        };
        assert!(reason.contains("0666"), "{reason}");
    }
}
