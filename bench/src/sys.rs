//! The raw OS calls behind the floor measurements: `fork`, `waitpid`, pipes, socket pairs,
//! `MAP_SHARED` memory, a process-shared pthread mutex, POSIX shared memory and CPU
//! affinity. Every `unsafe` block of the benchmark lives in this file.
//!
//! This is the one place in the workspace outside `multiproc-sys` that calls the OS
//! directly, on purpose: a floor measures the bare system call, so it must not go through the
//! layer whose cost it is there to show.

use std::ffi::CStr;
use std::fs::{self, File};
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

/// Turns the `-1` convention of libc into an `io::Error`.
fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Turns the "error number as return value" convention of pthread into an `io::Error`.
fn check_pthread(ret: libc::c_int) -> io::Result<()> {
    if ret == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(ret))
    }
}

/// How many threads this process has, from `/proc/self/status`.
fn thread_count() -> io::Result<usize> {
    let status = fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|count| count.trim().parse().ok())
        .ok_or_else(|| io::Error::other("no Threads line in /proc/self/status"))
}

/// Forks; the child runs `child` and leaves with `_exit(0)` (or `_exit(101)` if `child`
/// returned an error), never returning into the caller. Returns the child's pid.
///
/// Refuses to fork a process that has more than one thread: after `fork(2)` only the
/// calling thread exists in the child, so a lock held by another thread (the allocator's,
/// stdio's) would stay locked forever. In a single-threaded process the child may do
/// anything the parent could.
pub(crate) fn fork_single_threaded(child: impl FnOnce() -> io::Result<()>) -> io::Result<i32> {
    let threads = thread_count()?;
    if threads != 1 {
        return Err(io::Error::other(format!(
            "refusing to fork a process with {threads} threads"
        )));
    }
    // SAFETY: the process is single-threaded (checked just above), so the child starts
    // with every lock free and may run arbitrary code; it never returns from this
    // function, so no destructor of the parent's state runs twice.
    let pid = check(unsafe { libc::fork() })?;
    if pid == 0 {
        // A panic must not unwind out of this function into the parent's code.
        let code = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)) {
            Ok(Ok(())) => 0,
            Ok(Err(_)) | Err(_) => 101,
        };
        // SAFETY: `_exit` ends the child without running atexit handlers or flushing
        // stdio buffers that it shares with the parent (fork(2), _exit(2)).
        unsafe { libc::_exit(code) }
    }
    Ok(pid)
}

/// Waits for the child `pid` (ours, from [`fork_single_threaded`]) and returns its exit
/// code, or an error if it was killed by a signal. See waitpid(2).
pub(crate) fn wait_child(pid: i32) -> io::Result<i32> {
    let mut status: libc::c_int = 0;
    loop {
        // SAFETY: `status` is a valid out-pointer for the duration of the call.
        let ret = unsafe { libc::waitpid(pid, &mut status, 0) };
        match check(ret) {
            Ok(_) => break,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        }
    }
    if libc::WIFEXITED(status) {
        Ok(libc::WEXITSTATUS(status))
    } else {
        Err(io::Error::other(format!(
            "child {pid} ended with wait status {status:#x}"
        )))
    }
}

/// Waits for `pid` and fails unless it exited with code 0.
pub(crate) fn wait_success(pid: i32) -> io::Result<()> {
    match wait_child(pid)? {
        0 => Ok(()),
        code => Err(io::Error::other(format!(
            "child {pid} exited with code {code}"
        ))),
    }
}

/// A pipe as `(read end, write end)`, both close-on-exec. See pipe2(2).
pub(crate) fn pipe() -> io::Result<(File, File)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    check(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: pipe2 succeeded, so both descriptors are open and owned by nobody else.
    let ends = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    Ok((File::from(ends.0), File::from(ends.1)))
}

/// A connected pair of `AF_UNIX` stream sockets, close-on-exec. See socketpair(2).
pub(crate) fn stream_socketpair() -> io::Result<(File, File)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors socketpair writes.
    check(unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    })?;
    // SAFETY: socketpair succeeded, so both descriptors are open and owned by nobody else.
    let ends = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    Ok((File::from(ends.0), File::from(ends.1)))
}

/// Pins the calling process (and so every child it starts afterwards) to `cpu`.
/// See sched_setaffinity(2).
pub(crate) fn pin_to_cpu(cpu: usize) -> io::Result<()> {
    // SAFETY: an all-zero cpu_set_t is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    if cpu >= 8 * size_of::<libc::cpu_set_t>() {
        return Err(io::Error::other(format!("CPU {cpu} is beyond cpu_set_t")));
    }
    // SAFETY: `cpu` is within the set's capacity (checked above).
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: `set` is a valid cpu_set_t of the size passed.
    check(unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) })?;
    Ok(())
}

/// An anonymous `MAP_SHARED` mapping: memory that a forked child shares with its parent.
/// See mmap(2).
#[derive(Debug)]
struct SharedMapping {
    addr: NonNull<u8>,
    len: usize,
}

impl SharedMapping {
    fn new(len: usize) -> io::Result<Self> {
        // SAFETY: a fresh anonymous mapping aliases no Rust object; the result is checked.
        let addr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if addr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let addr = NonNull::new(addr.cast()).ok_or_else(|| io::Error::other("mmap gave null"))?;
        Ok(Self { addr, len })
    }
}

impl Drop for SharedMapping {
    fn drop(&mut self) {
        // SAFETY: `addr`/`len` describe a mapping made in `new` and unmapped only here.
        unsafe { libc::munmap(self.addr.as_ptr().cast(), self.len) };
    }
}

/// A `u64` counter in `MAP_SHARED` memory, updated atomically from several processes.
#[derive(Debug)]
pub(crate) struct SharedAtomic {
    mapping: SharedMapping,
}

impl SharedAtomic {
    /// A counter starting at zero.
    pub(crate) fn new() -> io::Result<Self> {
        Ok(Self {
            mapping: SharedMapping::new(4096)?,
        })
    }

    /// The shared atomic.
    pub(crate) fn get(&self) -> &AtomicU64 {
        // SAFETY: the mapping is page-aligned (so aligned for AtomicU64), zero-initialised
        // by the kernel (a valid 0), lives as long as `self`, and is only ever accessed
        // through atomics.
        unsafe { &*self.mapping.addr.as_ptr().cast::<AtomicU64>() }
    }
}

/// A one-producer, one-consumer ring of `slots` slots of `slot` bytes in `MAP_SHARED`
/// memory, both sides spinning while it is full or empty: the least a queue in shared memory
/// can do to move items between two processes (no lock, no wake-up, one copy in and one
/// out). The head (next slot to read) and the tail (next slot to write) sit on cache lines
/// of their own; the slots follow, page-aligned.
///
/// One process pushes and one pops: each side claims its role once, after the fork, from a
/// flag in the mapping ([`producer`](Self::producer), [`consumer`](Self::consumer)), and a
/// role's handle is neither `Clone` nor `Sync`, so no two pushes or pops ever overlap.
#[derive(Debug)]
pub(crate) struct SharedSlots {
    mapping: SharedMapping,
    slot: usize,
    slots: u64,
}

/// Byte offsets of the control words, each on a cache line of its own.
const SLOTS_HEAD: usize = 0;
const SLOTS_TAIL: usize = 64;
const SLOTS_PRODUCER: usize = 128;
const SLOTS_CONSUMER: usize = 192;
const SLOTS_DATA: usize = 4096;

/// The pushing side of a [`SharedSlots`].
#[derive(Debug)]
pub(crate) struct SlotProducer<'a> {
    ring: &'a SharedSlots,
    _not_sync: std::marker::PhantomData<std::cell::Cell<()>>,
}

/// The popping side of a [`SharedSlots`].
#[derive(Debug)]
pub(crate) struct SlotConsumer<'a> {
    ring: &'a SharedSlots,
    _not_sync: std::marker::PhantomData<std::cell::Cell<()>>,
}

impl SharedSlots {
    /// An empty ring of `slots` slots of `slot` bytes each.
    pub(crate) fn new(slot: usize, slots: usize) -> io::Result<Self> {
        let len = slot
            .checked_mul(slots)
            .and_then(|bytes| bytes.checked_add(SLOTS_DATA))
            .ok_or_else(|| io::Error::other("ring too large"))?;
        Ok(Self {
            mapping: SharedMapping::new(len)?,
            slot,
            slots: slots.max(1) as u64,
        })
    }

    fn word(&self, offset: usize) -> &AtomicU64 {
        // SAFETY: every offset used is a multiple of 64 below `SLOTS_DATA`, inside the
        // page-aligned, zero-initialised mapping, which lives as long as `self` and whose
        // control words are only ever accessed through atomics.
        unsafe { &*self.mapping.addr.as_ptr().add(offset).cast::<AtomicU64>() }
    }

    fn claim(&self, offset: usize) -> bool {
        self.word(offset)
            .compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// The pushing side, to the first process that asks.
    pub(crate) fn producer(&self) -> Option<SlotProducer<'_>> {
        self.claim(SLOTS_PRODUCER).then_some(SlotProducer {
            ring: self,
            _not_sync: std::marker::PhantomData,
        })
    }

    /// The popping side, to the first process that asks.
    pub(crate) fn consumer(&self) -> Option<SlotConsumer<'_>> {
        self.claim(SLOTS_CONSUMER).then_some(SlotConsumer {
            ring: self,
            _not_sync: std::marker::PhantomData,
        })
    }

    fn slot_ptr(&self, position: u64) -> *mut u8 {
        let index = (position % self.slots) as usize;
        // In bounds: `index < slots`, and the mapping holds `slots` slots after the header.
        self.mapping
            .addr
            .as_ptr()
            .wrapping_add(SLOTS_DATA + index * self.slot)
    }
}

impl SlotProducer<'_> {
    /// Copies `item` (at most a slot) into the next slot, spinning while the ring is full.
    pub(crate) fn push(&mut self, item: &[u8]) {
        let ring = self.ring;
        let len = item.len().min(ring.slot);
        let tail = ring.word(SLOTS_TAIL).load(Ordering::Relaxed);
        while tail - ring.word(SLOTS_HEAD).load(Ordering::Acquire) >= ring.slots {
            std::hint::spin_loop();
        }
        // SAFETY: the slot is inside the mapping (`slot_ptr`), `len` fits it, and nothing
        // else touches it now: the one consumer reads a slot only once the tail is past it
        // (the `Release` store below), and this slot's last read finished before the head
        // passed it (its `Release` store, read above with `Acquire`); the one producer is
        // this handle, borrowed exclusively. `item` is private memory.
        unsafe { std::ptr::copy_nonoverlapping(item.as_ptr(), ring.slot_ptr(tail), len) };
        ring.word(SLOTS_TAIL).store(tail + 1, Ordering::Release);
    }
}

impl SlotConsumer<'_> {
    /// Copies the next slot's `len` bytes (at most a slot) into a fresh `Vec`, spinning
    /// while the ring is empty.
    pub(crate) fn pop(&mut self, len: usize) -> Vec<u8> {
        let ring = self.ring;
        let len = len.min(ring.slot);
        let head = ring.word(SLOTS_HEAD).load(Ordering::Relaxed);
        while ring.word(SLOTS_TAIL).load(Ordering::Acquire) == head {
            std::hint::spin_loop();
        }
        let mut out = Vec::with_capacity(len);
        // SAFETY: the slot is inside the mapping and `len` fits it; the producer finished
        // writing it before moving the tail past it (read above with `Acquire`) and will
        // not write it again until the head passes it (the `Release` store below); `out`
        // has room for `len` bytes, all of which the copy initialises.
        unsafe {
            std::ptr::copy_nonoverlapping(ring.slot_ptr(head), out.as_mut_ptr(), len);
            out.set_len(len);
        }
        ring.word(SLOTS_HEAD).store(head + 1, Ordering::Release);
        out
    }
}

/// What sits at the start of the mapping of a [`SharedMutexCounter`].
#[repr(C)]
struct MutexCounter {
    mutex: libc::pthread_mutex_t,
    counter: u64,
}

/// A `PTHREAD_PROCESS_SHARED` mutex guarding a `u64`, both in `MAP_SHARED` memory: the
/// floor for a lock-protected value shared between processes. See
/// pthread_mutexattr_setpshared(3).
#[derive(Debug)]
pub(crate) struct SharedMutexCounter {
    mapping: SharedMapping,
}

impl SharedMutexCounter {
    /// A fresh mutex and a counter at zero.
    pub(crate) fn new() -> io::Result<Self> {
        let mapping = SharedMapping::new(4096)?;
        let shared = mapping.addr.as_ptr().cast::<MutexCounter>();
        // SAFETY: an all-zero attribute object is valid storage for pthread_mutexattr_init.
        let mut attr: libc::pthread_mutexattr_t = unsafe { std::mem::zeroed() };
        // SAFETY: `attr` is valid storage; it is initialised before use and destroyed
        // after; `shared` points to page-aligned, writable memory large enough for a
        // MutexCounter that nothing else uses yet.
        unsafe {
            check_pthread(libc::pthread_mutexattr_init(&mut attr))?;
            let result = check_pthread(libc::pthread_mutexattr_setpshared(
                &mut attr,
                libc::PTHREAD_PROCESS_SHARED,
            ))
            .and_then(|()| {
                check_pthread(libc::pthread_mutex_init(
                    std::ptr::addr_of_mut!((*shared).mutex),
                    &attr,
                ))
            });
            libc::pthread_mutexattr_destroy(&mut attr);
            result?;
        }
        Ok(Self { mapping })
    }

    fn shared(&self) -> *mut MutexCounter {
        self.mapping.addr.as_ptr().cast()
    }

    /// Takes the mutex, adds one to the counter, releases the mutex.
    pub(crate) fn increment_locked(&self) {
        let shared = self.shared();
        // SAFETY: the mutex was initialised in `new` and lives as long as `self`; the
        // counter is only touched while the mutex is held, in every process.
        unsafe {
            libc::pthread_mutex_lock(std::ptr::addr_of_mut!((*shared).mutex));
            let counter = std::ptr::addr_of_mut!((*shared).counter);
            counter.write_volatile(counter.read_volatile() + 1);
            libc::pthread_mutex_unlock(std::ptr::addr_of_mut!((*shared).mutex));
        }
    }

    /// Takes and releases the mutex, touching nothing else.
    pub(crate) fn lock_unlock(&self) {
        let shared = self.shared();
        // SAFETY: the mutex was initialised in `new` and lives as long as `self`.
        unsafe {
            libc::pthread_mutex_lock(std::ptr::addr_of_mut!((*shared).mutex));
            libc::pthread_mutex_unlock(std::ptr::addr_of_mut!((*shared).mutex));
        }
    }

    /// The counter, read under the mutex.
    pub(crate) fn value(&self) -> u64 {
        let shared = self.shared();
        // SAFETY: as in `increment_locked`.
        unsafe {
            libc::pthread_mutex_lock(std::ptr::addr_of_mut!((*shared).mutex));
            let value = std::ptr::addr_of!((*shared).counter).read_volatile();
            libc::pthread_mutex_unlock(std::ptr::addr_of_mut!((*shared).mutex));
            value
        }
    }
}

impl Drop for SharedMutexCounter {
    fn drop(&mut self) {
        // SAFETY: the mutex was initialised in `new`; a forked child that still uses it
        // has exited by now (every user of this type waits for its children), and a
        // child that drops its copy leaves with `_exit` before running this destructor.
        unsafe { libc::pthread_mutex_destroy(std::ptr::addr_of_mut!((*self.shared()).mutex)) };
    }
}

/// One named POSIX shared-memory cycle, the way `multiprocessing.shared_memory` does it:
/// create `name` with `size` bytes and map it, open and map it again (attach), unmap and
/// close both, unlink the name. See shm_open(3), shm_unlink(3).
pub(crate) fn shm_cycle(name: &CStr, size: usize) -> io::Result<()> {
    let create_flags = libc::O_CREAT | libc::O_EXCL | libc::O_RDWR | libc::O_CLOEXEC;
    // SAFETY: `name` is a valid NUL-terminated string.
    let created = check(unsafe { libc::shm_open(name.as_ptr(), create_flags, 0o600) })?;
    // SAFETY: `created` is open and owned only here.
    let created = unsafe { OwnedFd::from_raw_fd(created) };
    let size_off = libc::off_t::try_from(size).map_err(io::Error::other)?;
    // SAFETY: `created` is an open shared-memory descriptor.
    check(unsafe { libc::ftruncate(std::os::fd::AsRawFd::as_raw_fd(&created), size_off) })?;
    let first = map_fd(&created, size)?;
    // SAFETY: `name` is a valid NUL-terminated string.
    let attached =
        check(unsafe { libc::shm_open(name.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC, 0) })?;
    // SAFETY: `attached` is open and owned only here.
    let attached = unsafe { OwnedFd::from_raw_fd(attached) };
    let second = map_fd(&attached, size)?;
    drop(second);
    drop(attached);
    drop(first);
    drop(created);
    // SAFETY: `name` is a valid NUL-terminated string.
    check(unsafe { libc::shm_unlink(name.as_ptr()) })?;
    Ok(())
}

/// Maps `len` bytes of `fd` shared and read-write.
fn map_fd(fd: &OwnedFd, len: usize) -> io::Result<SharedMapping> {
    // SAFETY: a fresh mapping of an open descriptor aliases no Rust object; the result is
    // checked.
    let addr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            std::os::fd::AsRawFd::as_raw_fd(fd),
            0,
        )
    };
    if addr == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    let addr = NonNull::new(addr.cast()).ok_or_else(|| io::Error::other("mmap gave null"))?;
    Ok(SharedMapping { addr, len })
}

/// Sends SIGKILL to every process of the process group `pgid`, which the caller created
/// (a child started with `process_group(0)`, so `pgid` is that child's pid). See killpg(3).
pub(crate) fn kill_process_group(pgid: i32) -> io::Result<()> {
    // SAFETY: killpg has no memory-safety preconditions.
    check(unsafe { libc::killpg(pgid, libc::SIGKILL) })?;
    Ok(())
}

/// `len` `f64`s in a fresh `memfd` mapped `MAP_SHARED`, untouched (see memfd_create(2)):
/// the floor for an `Array` filled by a child, page faults included.
#[derive(Debug)]
pub(crate) struct MemfdF64s {
    mapping: SharedMapping,
    len: usize,
}

impl MemfdF64s {
    /// `len` zeroed `f64`s, no page touched yet.
    pub(crate) fn new(len: usize) -> io::Result<Self> {
        let bytes = len
            .checked_mul(8)
            .filter(|bytes| *bytes > 0)
            .ok_or_else(|| io::Error::other("bad length"))?;
        // SAFETY: the name is a valid NUL-terminated string.
        let fd =
            check(unsafe { libc::memfd_create(c"mpbench-floor".as_ptr(), libc::MFD_CLOEXEC) })?;
        // SAFETY: `fd` is open and owned only here.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let size = libc::off_t::try_from(bytes).map_err(io::Error::other)?;
        // SAFETY: `fd` is an open memfd.
        check(unsafe { libc::ftruncate(std::os::fd::AsRawFd::as_raw_fd(&fd), size) })?;
        Ok(Self {
            mapping: map_fd(&fd, bytes)?,
            len,
        })
    }

    /// The values.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [f64] {
        // SAFETY: the mapping holds `len * 8` bytes, page-aligned, zero-filled (a valid
        // f64), lives as long as `self`, and `&mut self` makes this the only view in this
        // process (a forked child writes through its own view while this process only
        // waits for it).
        unsafe { std::slice::from_raw_parts_mut(self.mapping.addr.as_ptr().cast(), self.len) }
    }
}
