//! The child side of the spawn and forkserver start methods.
//!
//! A re-executed child must never reach the program's `main`: that would run the parent's
//! program again (and, if it starts processes, again and again). A constructor that runs before
//! `main`, in every binary that links this crate (programs, integration tests, doc tests,
//! under `cargo test` and `cargo nextest`), recognises a child by its environment marker and
//! runs the child there, leaving with `exit` without ever returning.

use ipc_channel::ipc::{self, IpcSender};

use crate::forkserver;
use crate::function::guard_decode;
use crate::identity::Identity;
use crate::leave::exit;
use crate::logging;
use crate::registry;
use crate::rendezvous;
use crate::sys;
use crate::tag;
use crate::wire::{Bootstrap, ChildIo, ENV_CHILD, Hello, Outcome, Role};

// `ctor` puts `#[allow(unsafe_code)]` on the function it wraps (its registration in
// `.init_array` is unsafe), so the function only calls a plain one: nothing of ours runs under
// that allowance.
#[ctor::ctor(unsafe)]
fn multiproc_child_entry() {
    from_constructor();
}

/// Runs this process as a child, if the environment marks it as one, and never returns then.
fn from_constructor() {
    let Ok(marker) = std::env::var(ENV_CHILD) else {
        return;
    };
    // Constructors run before `main`, where the process normally has one thread; should
    // another library's constructor have started one, the marker stays (harmless: this
    // process runs as a child and exits below, and a grandchild's bootstrap gets a new one).
    sys::remove_env_single_threaded(ENV_CHILD);
    let code = run_child(&marker);
    exit(code);
}

/// Makes sure the constructor above is linked into every binary that starts processes: it is
/// referenced from the code that starts them.
pub(crate) fn ensure_linked() {
    std::hint::black_box(multiproc_child_entry as fn());
}

fn run_child(marker: &str) -> i32 {
    // Shared memory that another thread of the parent was sending when this program was
    // executed may have come along (ipc-channel's copies lack `FD_CLOEXEC`): not ours.
    multiproc_sys::inherited::close_ipc_memfds();
    multiproc_sys::signal::ignore_sigpipe();
    let Some((server, parent)) = marker
        .split_once('\t')
        .and_then(|(server, parent)| Some((server, parent.parse::<u32>().ok()?)))
    else {
        crate::leave::write_stderr_raw(&format!("multiproc: malformed {ENV_CHILD} marker"));
        return 70;
    };
    if !multiproc_sys::fork::set_parent_death_signal(parent) {
        // The parent is already gone: nobody waits for this child.
        return 71;
    }
    match connect(server, parent) {
        Ok(code) => code,
        Err(message) => {
            crate::leave::write_stderr_raw(&format!(
                "multiproc: child bootstrap failed: {message}"
            ));
            72
        }
    }
}

fn connect(server: &str, parent: u32) -> Result<i32, String> {
    let rendezvous = rendezvous::path_beside(server).map_err(|e| e.to_string())?;
    // Connected before the rendezvous, on purpose: once the parent admits us, our connection
    // already waits in its bootstrap socket's queue, so its `accept` returns at once and its
    // receive of the hello ends with a disconnect if we die. It needs no thread to watch us.
    // Nothing is sent on it before the rendezvous has shown that our parent listens there.
    let up = IpcSender::<Hello>::connect(server.to_owned()).map_err(|e| e.to_string())?;
    let token = rendezvous::enter(&rendezvous, parent)
        .map_err(|e| format!("rendezvous with the parent: {e}"))?;
    let (to_child, from_parent) = ipc::channel::<Bootstrap>().map_err(|e| e.to_string())?;
    let fingerprint = multiproc_sys::exe::fingerprint().map_err(|e| e.to_string())?;
    up.send(Hello {
        token,
        pid: multiproc_sys::process::pid(),
        fingerprint,
        to_child,
    })
    .map_err(|e| e.to_string())?;
    let Bootstrap { key, role } = guard_decode(|| from_parent.recv())?;
    // The key came from our parent over a channel only it holds; check what it asks us to
    // call before adopting anything.
    if let Role::Run(spec) = &role {
        spec.trampoline
            .verify_with(&key)
            .map_err(|e| e.to_string())?;
    }
    tag::adopt_tree_key(key)?;
    match role {
        Role::Run(spec) => {
            let trampoline = sys::open(&spec.trampoline).map_err(|e| e.to_string())?;
            registry::set_child_identity(with_pid(spec.identity));
            crate::method::started_by(spec.method);
            // A re-executed child applies only its limits: the rest was set on the program.
            if let Err(detail) = spec.settings.apply_in_child([None, None, None]) {
                let _ = up
                    .to_opaque()
                    .to::<Outcome<()>>()
                    .send(Outcome::Setting(detail));
                return Ok(1);
            }
            if let Some(sink) = spec.log {
                logging::install_forwarder(sink);
            }
            Ok(trampoline(ChildIo {
                args: from_parent.to_opaque(),
                result: up.to_opaque(),
            }))
        }
        Role::Forkserver(identity) => {
            registry::set_child_identity(with_pid(identity));
            Ok(forkserver::serve(
                from_parent.to_opaque().to(),
                up.to_opaque().to(),
            ))
        }
    }
}

fn with_pid(mut identity: Identity) -> Identity {
    identity.pid = multiproc_sys::process::pid();
    identity
}
