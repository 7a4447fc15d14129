//! The child side of a named target: the trampoline that receives the arguments, calls the
//! target, and sends its outcome back.

use std::marker::PhantomData;

use crate::exit;
use crate::function::{catch_child_panic, guard_decode};
use crate::sys;
use crate::tag::Sealed;
use crate::target::{Portable, Target, TargetMustCaptureNothing};
use crate::wire::{ChildIo, Outcome, Trampoline};

/// A target bound to its argument and result types, for a re-executed or fork-server child.
pub(crate) struct Entry<F, Args>(PhantomData<fn(F, Args)>);

impl<F, Args> Entry<F, Args>
where
    F: Target<Args>,
    Args: Portable,
    F::Output: Portable,
{
    pub(crate) fn sealed() -> Sealed<Trampoline> {
        let () = TargetMustCaptureNothing::<F>::CHECK;
        Sealed::seal(Self::run as Trampoline)
    }

    fn run(io: ChildIo) -> i32 {
        let result = io.result.to::<Outcome<F::Output>>();
        let args_rx = io.args.to::<Args>();
        let args = match guard_decode(|| args_rx.recv()) {
            Ok(args) => args,
            Err(e) => {
                let _ = result.send(Outcome::Failed(format!(
                    "could not receive the arguments: {e}"
                )));
                return 1;
            }
        };
        // `Process::new`, the only code that names this trampoline, held a value of `F`.
        let f: F = sys::conjure_target::<F, Args>();
        let process = crate::tree::current_process();
        let outcome = match catch_child_panic(process.name(), move || f.try_call(args)) {
            Ok(Ok(value)) => Outcome::Returned(value),
            Ok(Err(chain)) => Outcome::Error(chain),
            Err(panic) => Outcome::Panicked(panic),
        };
        let code = if matches!(outcome, Outcome::Returned(_)) {
            0
        } else {
            1
        };
        exit::before_child_exit();
        match result.send(outcome) {
            Ok(()) => code,
            // The parent dropped its handle without joining: nobody wants the result.
            Err(ipc_channel::IpcError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => code,
            Err(e) => {
                crate::leave::write_stderr_raw(&format!(
                    "multiproc: could not send the result to the parent: {e}"
                ));
                1
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nothing(_: ChildIo) -> i32 {
        0
    }

    #[test]
    fn a_sealed_offset_verifies_only_under_its_key_and_kind() {
        let sealed = Sealed::seal(nothing as Trampoline);
        assert!(sealed.verify().is_ok());
        assert!(sealed.verify_with(&crate::tag::tree_key()).is_ok());
        assert!(
            sealed
                .verify_with(&crate::tag::TreeKey::from_bytes([0; 32]))
                .is_err()
        );
        // The same offset and tag, claimed to be a batch function.
        let bytes = postcard::to_stdvec(&sealed).unwrap();
        let relabelled: Sealed<crate::function::BatchFn> = postcard::from_bytes(&bytes).unwrap();
        assert!(relabelled.verify().is_err());
        assert!(crate::sys::open(&relabelled).is_err());
    }
}
