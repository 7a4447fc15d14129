//! The first contact between a parent and the child it re-executed, checked by the kernel.
//!
//! ipc-channel's one-shot server is the only way into a re-executed process, and it hides its
//! sockets' descriptors, so their peers cannot be asked who they are. So before the child
//! connects to it, the child connects to this socket, bound beside the one-shot server's in
//! the same directory. ipc-channel makes that directory with `tempfile`, under the umask (so
//! usually mode 0755); [`Rendezvous::beside`] closes it to 0700 before the child exists, and
//! refuses a directory that is not ours. The parent accepts a connection only from the process
//! it started, of the same user (`SO_PEERCRED`), and only then sends it the token that its
//! hello on the one-shot server must carry. Another user can neither reach the directory nor,
//! were it reachable, pass the credential check; without the token its hello is refused and
//! nothing is run. The fork server has no listening socket at all: its requests arrive on a
//! socket pair that only its parent holds.

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use multiproc_sys::{poll, socket};

/// The socket's file name, beside ipc-channel's `socket`.
const FILE_NAME: &str = "peer";

/// The parent's listening end.
pub(crate) struct Rendezvous {
    listener: UnixListener,
}

/// Why no child came through.
#[derive(Debug)]
pub(crate) enum Refused {
    /// The child ended first. `refused` connections from other processes were turned away.
    ChildGone {
        refused: usize,
    },
    Io(io::Error),
}

/// Where the rendezvous socket of the one-shot server `server_name` is.
pub(crate) fn path_beside(server_name: &str) -> io::Result<PathBuf> {
    Path::new(server_name)
        .parent()
        .map(|dir| dir.join(FILE_NAME))
        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))
}

impl Rendezvous {
    /// Closes the directory of the one-shot server `server_name` to everyone but us (mode
    /// 0700), checks that it is ours, and binds beside the server.
    pub(crate) fn beside(server_name: &str) -> io::Result<Rendezvous> {
        let path = path_beside(server_name)?;
        let dir = path.parent().unwrap_or(Path::new("/"));
        let meta = std::fs::symlink_metadata(dir)?;
        if meta.is_dir() && meta.uid() == socket::own_uid() {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        let meta = std::fs::symlink_metadata(dir)?;
        if !meta.is_dir() || meta.uid() != socket::own_uid() || meta.mode() & 0o077 != 0 {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "{} is not a private directory of this user (mode {:o})",
                    dir.display(),
                    meta.mode() & 0o7777
                ),
            ));
        }
        Rendezvous::bind(&path)
    }

    fn bind(path: &Path) -> io::Result<Rendezvous> {
        let listener = UnixListener::bind(path)?;
        listener.set_nonblocking(true)?;
        Ok(Rendezvous { listener })
    }

    /// Waits for process `pid` (watched through `pidfd`) to connect, turning away every other
    /// connection, and sends it `token`.
    pub(crate) fn admit(&self, pid: u32, pidfd: BorrowedFd<'_>, token: u64) -> Result<(), Refused> {
        let mut refused = 0;
        loop {
            let ready =
                poll::readable(&[self.listener.as_fd(), pidfd], None).map_err(Refused::Io)?;
            if ready.first() != Some(&true) {
                if ready.get(1) == Some(&true) {
                    return Err(Refused::ChildGone { refused });
                }
                continue;
            }
            let mut stream = match self.listener.accept() {
                Ok((stream, _)) => stream,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Refused::Io(e)),
            };
            if !is_peer(&stream, pid) {
                refused += 1;
                continue;
            }
            stream.set_nonblocking(false).map_err(Refused::Io)?;
            return stream.write_all(&token.to_le_bytes()).map_err(Refused::Io);
        }
    }
}

/// Whether `stream`'s peer is process `pid` of our user.
fn is_peer(stream: &UnixStream, pid: u32) -> bool {
    socket::peer_uid(stream.as_fd()).is_ok_and(|uid| uid == socket::own_uid())
        && socket::peer_pid(stream.as_fd()).is_ok_and(|peer| peer == pid)
}

/// In the child: connects to the parent's rendezvous socket, checks that the parent (pid
/// `parent`, our user) listens there, and reads the token.
pub(crate) fn enter(path: &Path, parent: u32) -> io::Result<u64> {
    let mut stream = UnixStream::connect(path)?;
    if !is_peer(&stream, parent) {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "the rendezvous socket is not our parent's",
        ));
    }
    let mut token = [0u8; 8];
    stream.read_exact(&mut token)?;
    Ok(u64::from_le_bytes(token))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A directory that everyone may enter, with a socket that everyone may connect to: only
    /// the credential check stands between another user and the token.
    fn open_rendezvous() -> (Rendezvous, PathBuf, PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "multiproc-rendezvous-test-{}-{}",
            std::process::id(),
            multiproc_sys::random::u64()
        ));
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = dir.join(FILE_NAME);
        let rendezvous = Rendezvous::bind(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777)).unwrap();
        (rendezvous, path, dir)
    }

    #[test]
    fn a_peer_of_another_uid_is_refused() {
        if socket::own_uid() != 0 {
            println!(
                "skipped: acting as another user needs root (this test runs as uid {})",
                socket::own_uid()
            );
            return;
        }
        let (rendezvous, path, dir) = open_rendezvous();
        let child = multiproc_test_support::fork(move || {
            rustix::thread::set_thread_uid(rustix::process::Uid::from_raw(65534))
                .expect("setuid(nobody)");
            let mut stream = UnixStream::connect(&path).expect("connect as nobody");
            let mut token = Vec::new();
            // The parent turns us away: end of file, and no token.
            stream.read_to_end(&mut token).expect("read");
            assert!(token.is_empty(), "another user received the token");
        });
        let pidfd = multiproc_sys::pidfd::open(child.pid() as u32).unwrap();
        let outcome = rendezvous.admit(child.pid() as u32, pidfd.as_fd(), 42);
        assert_eq!(child.join(Duration::from_secs(30)), 0);
        assert!(
            matches!(outcome, Err(Refused::ChildGone { refused: 1 })),
            "{outcome:?}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn the_expected_child_is_admitted_and_others_are_not() {
        let (rendezvous, path, dir) = open_rendezvous();
        // A connection from this process (not the child): turned away.
        let mut stranger = UnixStream::connect(&path).unwrap();
        let parent = std::process::id();
        let child = multiproc_test_support::fork(move || {
            let token = enter(&path, parent).expect("enter");
            assert_eq!(token, 42);
        });
        let pidfd = multiproc_sys::pidfd::open(child.pid() as u32).unwrap();
        rendezvous
            .admit(child.pid() as u32, pidfd.as_fd(), 42)
            .unwrap();
        assert_eq!(child.join(Duration::from_secs(30)), 0);
        let mut got = Vec::new();
        stranger.read_to_end(&mut got).unwrap();
        assert!(got.is_empty());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn the_directory_is_closed_to_others() {
        let (_rendezvous, _path, dir) = open_rendezvous();
        std::fs::remove_file(dir.join(FILE_NAME)).unwrap();
        let server_name = dir.join("socket");
        Rendezvous::beside(server_name.to_str().unwrap()).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().mode();
        assert_eq!(mode & 0o777, 0o700);
        let _ = std::fs::remove_dir_all(dir);
    }
}
