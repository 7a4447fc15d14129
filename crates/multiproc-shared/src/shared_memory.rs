//! Named shared memory in `/dev/shm` (Python's `multiprocessing.shared_memory`).

use std::fmt;
use std::fs::OpenOptions;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use memmap2::MmapRaw;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Error, sys};

/// Where POSIX shared memory lives on Linux (shm_overview(7)).
const SHM_DIR: &str = "/dev/shm";
/// The longest file name the file system takes (NAME_MAX, limits.h).
const NAME_MAX: usize = 255;

fn validate(name: &str) -> Result<(), Error> {
    let reject = |reason| {
        Err(Error::InvalidName {
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
/// let mut block = SharedMemory::create_unique(4096)?;
/// block.as_mut_slice()[..5].copy_from_slice(b"hello");
/// let other = SharedMemory::attach(block.name())?;
/// assert_eq!(&other.as_slice()[..5], b"hello");
/// block.unlink()?;
/// # Ok::<(), multiproc_shared::Error>(())
/// ```
#[doc(alias = "multiprocessing.shared_memory.SharedMemory")]
pub struct SharedMemory {
    name: String,
    map: MmapRaw,
}

impl SharedMemory {
    /// Creates a new block `name` of `size` bytes, zero-filled; fails if the name exists,
    /// is invalid ([`Error::InvalidName`]), or `size` is 0 ([`Error::ZeroSize`]).
    ///
    /// ```
    /// # let name = format!("multiproc-doc-create-{}", std::process::id());
    /// let block = multiproc_shared::SharedMemory::create(&name, 100)?;
    /// assert_eq!(block.size(), 100);
    /// block.unlink()?;
    /// assert!(multiproc_shared::SharedMemory::create("../etc", 1).is_err());
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn create(name: &str, size: usize) -> Result<SharedMemory, Error> {
        validate(name)?;
        if size == 0 {
            return Err(Error::ZeroSize);
        }
        let path = path_of(name);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        let mapped = file
            .set_len(size as u64)
            .and_then(|()| sys::map_shared(&file, size));
        match mapped {
            Ok(map) => Ok(SharedMemory {
                name: name.to_owned(),
                map,
            }),
            Err(err) => {
                let _ = std::fs::remove_file(&path);
                Err(err.into())
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
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn create_unique(size: usize) -> Result<SharedMemory, Error> {
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
                Err(Error::Io(err)) if err.kind() == io::ErrorKind::AlreadyExists => continue,
                other => return other,
            }
        }
    }

    /// Attaches to the existing block `name` (Python's `SharedMemory(name)`).
    ///
    /// ```
    /// assert!(multiproc_shared::SharedMemory::attach("multiproc-no-such-block").is_err());
    /// ```
    pub fn attach(name: &str) -> Result<SharedMemory, Error> {
        validate(name)?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path_of(name))?;
        let size = usize::try_from(file.metadata()?.len()).map_err(|_| Error::TooLarge)?;
        if size == 0 {
            return Err(Error::ZeroSize);
        }
        Ok(SharedMemory {
            name: name.to_owned(),
            map: sys::map_shared(&file, size)?,
        })
    }

    /// The block's name, for [`attach`](SharedMemory::attach) in other processes.
    ///
    /// ```
    /// let block = multiproc_shared::SharedMemory::create_unique(1)?;
    /// assert!(!block.name().is_empty());
    /// block.unlink()?;
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its size in bytes.
    ///
    /// ```
    /// let block = multiproc_shared::SharedMemory::create_unique(9)?;
    /// assert_eq!(block.size(), 9);
    /// block.unlink()?;
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn size(&self) -> usize {
        self.map.len()
    }

    /// The start of the mapping in this process (page-aligned).
    ///
    /// ```
    /// let block = multiproc_shared::SharedMemory::create_unique(1)?;
    /// assert_eq!(block.as_ptr() as usize % 4096, 0);
    /// block.unlink()?;
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn as_ptr(&self) -> *mut u8 {
        self.map.as_mut_ptr()
    }

    /// The bytes (Python's `.buf`). Other processes may write them meanwhile; coordinate
    /// with a lock or an event.
    ///
    /// ```
    /// let block = multiproc_shared::SharedMemory::create_unique(4)?;
    /// assert_eq!(block.as_slice(), [0; 4]);
    /// block.unlink()?;
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: the mapping is `size` bytes, readable, and lives as long as `&self`;
        // every byte pattern is a valid u8. Writers in other processes are the caller's
        // to coordinate, as documented.
        unsafe { std::slice::from_raw_parts(self.as_ptr(), self.size()) }
    }

    /// The bytes, writable. Other processes may access them meanwhile; coordinate with
    /// a lock or an event.
    ///
    /// ```
    /// let mut block = multiproc_shared::SharedMemory::create_unique(4)?;
    /// block.as_mut_slice()[0] = 1;
    /// block.unlink()?;
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`; the mapping is writable and `&mut self` makes the
        // borrow unique within this process.
        unsafe { std::slice::from_raw_parts_mut(self.as_ptr(), self.size()) }
    }

    /// Unmaps the block in this process (the same as dropping it); the name stays.
    ///
    /// ```
    /// let block = multiproc_shared::SharedMemory::create_unique(1)?;
    /// let name = block.name().to_owned();
    /// block.close();
    /// multiproc_shared::SharedMemory::attach(&name)?.unlink()?;
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn close(self) {}

    /// Removes the name; the memory is freed once every process has unmapped it.
    ///
    /// ```
    /// let block = multiproc_shared::SharedMemory::create_unique(1)?;
    /// block.unlink()?;
    /// assert!(block.unlink().is_err());
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn unlink(&self) -> Result<(), Error> {
        std::fs::remove_file(path_of(&self.name))?;
        Ok(())
    }
}

impl fmt::Debug for SharedMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedMemory")
            .field("name", &self.name)
            .field("size", &self.size())
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
