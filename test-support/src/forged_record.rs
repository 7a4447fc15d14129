//! Forged ipc-channel records: a header and a first fragment written raw with `sendmsg(2)`,
//! saying whatever a hostile peer likes (a 2^62-byte message, lengths that do not add up).
//!
//! An ipc-channel record on a socket begins with two native `usize`s: the length of this
//! first fragment (the 16 header bytes included) and the total length of the message.

use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};

use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags};

use crate::own_sockets::seqpacket_sockets_to;

/// The size of a record's header: the fragment's length and the message's total.
pub const RECORD_HEADER: usize = 16;

/// Writes one raw record on `socket`: a header announcing a first fragment of `fragment`
/// bytes and a message of `total` bytes, then `payload`, optionally with descriptor `attach`
/// (as a large message's dedicated channel would be). Never blocks (`EAGAIN` is an error) and
/// never raises SIGPIPE.
///
/// ```
/// use std::io::Read;
/// use std::os::fd::OwnedFd;
/// use multiproc_test_support::{RECORD_HEADER, raw_record};
/// let (ours, mut theirs) = std::os::unix::net::UnixStream::pair()?;
/// raw_record(&OwnedFd::from(ours), RECORD_HEADER + 2, 1 << 62, &[1, 2], None)?;
/// let mut record = [0; RECORD_HEADER + 2];
/// theirs.read_exact(&mut record)?;
/// assert_eq!(record[8..16], (1usize << 62).to_ne_bytes());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn raw_record(
    socket: &OwnedFd,
    fragment: usize,
    total: usize,
    payload: &[u8],
    attach: Option<&OwnedFd>,
) -> io::Result<()> {
    let (fragment, total) = (fragment.to_ne_bytes(), total.to_ne_bytes());
    let iov = [
        IoSlice::new(&fragment),
        IoSlice::new(&total),
        IoSlice::new(payload),
    ];
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    let attached;
    if let Some(fd) = attach {
        attached = [fd.as_fd()];
        if !control.push(SendAncillaryMessage::ScmRights(&attached)) {
            return Err(io::Error::other("no room for the descriptor"));
        }
    }
    let flags = SendFlags::DONTWAIT | SendFlags::NOSIGNAL;
    rustix::net::sendmsg(socket, &iov, &mut control, flags)?;
    Ok(())
}

/// Writes a forged record header claiming a 2^62-byte message, with nothing after it, on
/// every `SOCK_SEQPACKET` socket of this process whose peer is process `peer` (see
/// [`seqpacket_sockets_to`]); returns how many took it. Run in a child, with its parent's
/// pid, it forges the header on the child's result channel whatever the start method.
///
/// ```
/// use std::os::fd::OwnedFd;
/// use rustix::net::{AddressFamily, SocketFlags, SocketType, socketpair};
/// let (a, b) = socketpair(AddressFamily::UNIX, SocketType::SEQPACKET, SocketFlags::CLOEXEC, None)?;
/// assert!(multiproc_test_support::forge_huge_record_to(std::process::id()) >= 2);
/// let mut header = [0u8; 16];
/// assert_eq!(rustix::net::recv(&b, &mut header, rustix::net::RecvFlags::DONTWAIT)?.0, 16);
/// assert_eq!(header[8..], (1usize << 62).to_ne_bytes());
/// # drop(a);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn forge_huge_record_to(peer: u32) -> usize {
    seqpacket_sockets_to(peer)
        .iter()
        .filter(|socket| raw_record(socket, RECORD_HEADER, 1 << 62, &[], None).is_ok())
        .count()
}
