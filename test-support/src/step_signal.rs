//! A one-byte-per-step channel for ordering steps between a parent and its forked child.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;

/// A one-byte-per-step channel between processes (inherited across fork).
#[derive(Debug)]
pub struct Signal {
    ours: UnixStream,
    theirs: UnixStream,
}

impl Signal {
    /// A connected pair of sockets: the parent's end and the child's.
    pub fn new() -> Signal {
        let (ours, theirs) = UnixStream::pair().unwrap();
        Signal { ours, theirs }
    }

    /// Sends a byte from the child side.
    pub fn child_send(&self, byte: u8) {
        (&self.theirs).write_all(&[byte]).unwrap();
    }

    /// Receives a byte on the parent side.
    pub fn parent_recv(&self) -> u8 {
        let mut buf = [0];
        (&self.ours).read_exact(&mut buf).unwrap();
        buf[0]
    }

    /// Sends a byte from the parent side.
    pub fn parent_send(&self, byte: u8) {
        (&self.ours).write_all(&[byte]).unwrap();
    }

    /// Receives a byte on the child side.
    pub fn child_recv(&self) -> u8 {
        let mut buf = [0];
        (&self.theirs).read_exact(&mut buf).unwrap();
        buf[0]
    }
}

impl Default for Signal {
    fn default() -> Signal {
        Signal::new()
    }
}
