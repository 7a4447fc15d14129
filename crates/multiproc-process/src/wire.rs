//! The messages between a parent and its children, one module for both sides: the child's
//! hello and the parent's bootstrap (spawn), the fork server's requests and replies, and the
//! outcome a child sends back. Everything here is decoded from bytes another process wrote:
//! the function offsets inside are sealed (`tag.rs`) and checked before use.

use ipc_channel::ipc::{IpcSender, OpaqueIpcReceiver, OpaqueIpcSender};
use serde::{Deserialize, Serialize};

use crate::error::PanicInfo;
use crate::identity::Identity;
use crate::logging::LogSink;
use crate::tag::{Kind, Sealed, TreeKey, Verified};

/// The environment variable that marks a process as a multiproc child: the one-shot server's
/// name and the parent's pid, tab-separated. The token that proves the child's hello comes
/// over the rendezvous socket (see `rendezvous.rs`), never through the environment.
pub(crate) const ENV_CHILD: &str = "MULTIPROC_CHILD";

/// The child's first message: proof that it is the child we started, and a channel to it.
#[derive(Serialize, Deserialize)]
pub(crate) struct Hello {
    pub(crate) token: u64,
    pub(crate) pid: u32,
    pub(crate) fingerprint: [u64; 4],
    pub(crate) to_child: IpcSender<Bootstrap>,
}

/// What the parent tells a new child: the process tree's key, and what to be.
#[derive(Serialize, Deserialize)]
pub(crate) struct Bootstrap {
    /// The key that seals function offsets in this process tree (see `tag.rs`); the child
    /// checks its trampoline's tag with it, then adopts it.
    pub(crate) key: TreeKey,
    pub(crate) role: Role,
}

/// What a new child is to be.
#[derive(Serialize, Deserialize)]
pub(crate) enum Role {
    /// Run this trampoline; its arguments follow on the same channel.
    Run(ChildSpec),
    /// Become the fork server.
    Forkserver(Identity),
}

/// A child's identity, entry point and logging.
#[derive(Serialize, Deserialize)]
pub(crate) struct ChildSpec {
    pub(crate) identity: Identity,
    /// Checked against the tree's key before the child calls it.
    pub(crate) trampoline: Sealed<Trampoline>,
    pub(crate) log: Option<LogSink>,
    /// The method that starts the child: its default start method.
    pub(crate) method: crate::method::StartMethod,
    /// What the child applies before its target runs (for a re-executed child, only what
    /// its program was not started with).
    pub(crate) settings: crate::settings::ChildSettings,
}

/// A request to the fork server.
// One is built per fork and sent at once: its size on the stack does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Serialize, Deserialize)]
pub(crate) enum Request {
    /// Fork a child that runs `spec` with these channel ends.
    Fork {
        spec: ChildSpec,
        args: OpaqueIpcReceiver,
        result: OpaqueIpcSender,
    },
    /// The parent has read this child's exit status: reap it.
    Reap { pid: u32 },
    /// The parent has taken its ends of the last child's pipes: close the server's copies.
    Release,
}

/// The fork server's answer to `Fork`.
#[derive(Serialize, Deserialize)]
pub(crate) enum Reply {
    /// `ends`: the server's descriptor numbers of the parent's ends of the child's piped
    /// streams (stdin, stdout, stderr), held until `Release`.
    Forked {
        pid: u32,
        ends: [Option<i32>; 3],
    },
    Failed {
        error: String,
    },
}

/// What a child sends back when its target finished.
#[derive(Serialize, Deserialize)]
pub(crate) enum Outcome<R> {
    Returned(R),
    Panicked(PanicInfo),
    /// A fallible target returned `Err`: its chain.
    Error(String),
    /// The child could not even call the target (arguments did not decode, ...).
    Failed(String),
    /// The child could not apply its settings (environment, directory, streams, limits).
    Setting(String),
}

/// The child's ends of its two channels with the parent, type-erased.
pub(crate) struct ChildIo {
    pub(crate) args: ipc_channel::ipc::OpaqueIpcReceiver,
    pub(crate) result: ipc_channel::ipc::OpaqueIpcSender,
}

/// The signature of every trampoline: receives the arguments, calls, sends the outcome, and
/// returns the exit code.
pub(crate) type Trampoline = fn(ChildIo) -> i32;

impl Kind for Trampoline {
    fn address(self) -> usize {
        self as usize
    }

    fn verified() -> &'static Verified {
        static VERIFIED: Verified = Verified::new();
        &VERIFIED
    }
}
