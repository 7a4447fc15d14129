//! Naming functions across processes, calling them, and catching their panics.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{CallError, PanicInfo};
use crate::sys;
use crate::tag::{Kind, Sealed, Verified};
use crate::target::{Portable, Target, TargetMustCaptureNothing};

/// A function of this executable that any process running the same executable can call: the
/// unit of work a process pool ships to its workers.
///
/// It is built from a [`Target`] and calls it with arguments and results encoded with
/// [postcard](https://docs.rs/postcard): [`FunctionRef::call`] takes the encoding of a `Vec` of
/// argument tuples and returns the encoding of a `Vec<Result<Output, CallError>>`, one entry per
/// call, each call's panic caught on its own.
///
/// ```
/// use multiproc_process::{CallError, FunctionRef};
/// fn square(x: u64) -> u64 { x * x }
/// let f = FunctionRef::new::<_, (u64,)>(square);
/// let input = postcard::to_stdvec(&vec![(3u64,), (4,)]).unwrap();
/// let output = f.call(&input).unwrap();
/// let results: Vec<Result<u64, CallError>> = postcard::from_bytes(&output).unwrap();
/// assert_eq!(results, vec![Ok(9), Ok(16)]);
/// ```
///
/// # Across processes
///
/// A `FunctionRef` serializes to the function's offset in the binary and a keyed tag (an
/// HMAC under a secret that only the processes started by this crate from one program share).
/// Decoding checks the tag: bytes that do not come from a `FunctionRef::new` of this process
/// tree fail to decode, and can never make a process call an arbitrary address.
///
/// ```
/// use multiproc_process::FunctionRef;
/// fn square(x: u64) -> u64 { x * x }
/// let f = FunctionRef::new::<_, (u64,)>(square);
/// let bytes = postcard::to_stdvec(&f).unwrap();
/// assert_eq!(postcard::from_bytes::<FunctionRef>(&bytes).unwrap(), f);
///
/// let mut forged = bytes.clone();
/// forged[0] ^= 2; // another offset, same tag
/// assert!(postcard::from_bytes::<FunctionRef>(&forged).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct FunctionRef {
    /// Made by `Sealed::seal` here, or verified when decoded.
    sealed: Sealed<BatchFn>,
}

impl<'de> Deserialize<'de> for FunctionRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let sealed = Sealed::<BatchFn>::deserialize(deserializer)?;
        sealed.verify().map_err(serde::de::Error::custom)?;
        Ok(FunctionRef { sealed })
    }
}

/// Calls a batch; the observer hears of each finished call (see [`FunctionRef::call_observed`]).
pub(crate) type BatchFn = fn(&[u8], &mut dyn FnMut(&[u8], usize)) -> Result<Vec<u8>, String>;

impl Kind for BatchFn {
    fn address(self) -> usize {
        self as usize
    }

    fn verified() -> &'static Verified {
        static VERIFIED: Verified = Verified::new();
        &VERIFIED
    }
}

impl FunctionRef {
    /// Names `f`, a function item or non-capturing closure taking the tuple `Args`.
    ///
    /// ```
    /// use multiproc_process::FunctionRef;
    /// fn add(a: u32, b: u32) -> u32 { a + b }
    /// let add_ref = FunctionRef::new::<_, (u32, u32)>(add);
    /// let bytes = postcard::to_stdvec(&add_ref).unwrap(); // what a pool sends with each task
    /// let decoded: FunctionRef = postcard::from_bytes(&bytes).unwrap();
    /// assert!(decoded.call(&postcard::to_stdvec(&vec![(1u32, 2u32)]).unwrap()).is_ok());
    /// ```
    pub fn new<F, Args>(f: F) -> FunctionRef
    where
        F: Target<Args>,
        Args: Portable,
        F::Output: Portable,
    {
        let () = TargetMustCaptureNothing::<F>::CHECK;
        let _ = f;
        let batch: BatchFn = call_batch::<F, Args>;
        FunctionRef {
            sealed: Sealed::seal(batch),
        }
    }

    /// Calls the function once per argument tuple in `input` (postcard of `Vec<Args>`) and
    /// returns postcard of `Vec<Result<Output, CallError>>`. Panics are caught per call and
    /// not printed. `Err` means that `input` did not decode or a result did not encode.
    ///
    /// A `FunctionRef` names a function of this executable by construction: it was made by
    /// [`FunctionRef::new`] or decoded with a tag that verified (the tag is checked again
    /// here, against a small table of verified pairs, before the call).
    ///
    /// ```
    /// use multiproc_process::{CallError, FunctionRef};
    /// fn halve(x: u32) -> u32 { assert!(x % 2 == 0, "odd"); x / 2 }
    /// let halve_ref = FunctionRef::new::<_, (u32,)>(halve);
    /// let output = halve_ref.call(&postcard::to_stdvec(&vec![(4u32,), (3u32,)]).unwrap())?;
    /// let results: Vec<Result<u32, CallError>> = postcard::from_bytes(&output).unwrap();
    /// assert_eq!(results[0], Ok(2));
    /// assert!(matches!(&results[1], Err(CallError::Panicked(info)) if info.message == "odd"));
    /// assert!(halve_ref.call(b"\xff").is_err()); // not a postcard Vec<(u32,)>
    /// # Ok::<(), String>(())
    /// ```
    pub fn call(&self, input: &[u8]) -> Result<Vec<u8>, String> {
        self.call_observed(input, &mut |_, _| {})
    }

    /// [`call`](FunctionRef::call), telling `observe` after each call how far the batch got:
    /// `observe(results, calls)` gets the encodings of the first `calls` results, one after
    /// the other (the output without its leading length). A process pool uses it to hand
    /// finished results over before the whole batch is done, and to know which call is
    /// running.
    ///
    /// ```
    /// use multiproc_process::{FunctionRef, PanicInfo};
    /// fn square(x: u64) -> u64 { x * x }
    /// let f = FunctionRef::new::<_, (u64,)>(square);
    /// let input = postcard::to_stdvec(&vec![(3u64,), (4,)]).unwrap();
    /// let mut seen = Vec::new();
    /// let output = f.call_observed(&input, &mut |results, calls| {
    ///     seen.push((results.len(), calls));
    /// });
    /// assert_eq!(seen, vec![(2, 1), (4, 2)]); // `Ok` and 9, then `Ok` and 16
    /// let results: Vec<Result<u64, PanicInfo>> = postcard::from_bytes(&output.unwrap()).unwrap();
    /// assert_eq!(results, vec![Ok(9), Ok(16)]);
    /// ```
    pub fn call_observed(
        &self,
        input: &[u8],
        observe: &mut dyn FnMut(&[u8], usize),
    ) -> Result<Vec<u8>, String> {
        let batch: BatchFn = sys::open(&self.sealed).map_err(|e| e.to_string())?;
        batch(input, observe)
    }
}

fn call_batch<F, Args>(
    input: &[u8],
    observe: &mut dyn FnMut(&[u8], usize),
) -> Result<Vec<u8>, String>
where
    F: Target<Args>,
    Args: Portable,
    F::Output: Portable,
{
    // The batch is decoded one call at a time and each result encoded straight into the
    // output, which is byte for byte the encoding of the whole `Vec` (postcard writes a
    // sequence as its varint length followed by its elements).
    let decode_error = |e: postcard::Error| format!("could not decode the arguments: {e}");
    let encode_error = |e: postcard::Error| format!("could not encode the results: {e}");
    let (count, mut rest): (usize, &[u8]) =
        postcard::take_from_bytes(input).map_err(decode_error)?;
    let mut output =
        postcard::to_extend(&count, Vec::with_capacity(input.len() + 16)).map_err(encode_error)?;
    let prefix = output.len();
    // `FunctionRef::new::<F, Args>`, the only code that names this function, held a value.
    let f: F = sys::conjure_target::<F, Args>();
    // One quiet scope for the whole batch (panics are reported, not printed); each call's
    // panic is caught on its own, and only a panicking call pays for fetching its record.
    let batch = catch_panic(true, move || {
        for call in 0..count {
            let (args, tail) = postcard::take_from_bytes::<Args>(rest).map_err(decode_error)?;
            rest = tail;
            let result: Result<F::Output, CallError> =
                match panic::catch_unwind(AssertUnwindSafe(move || f.try_call(args))) {
                    Ok(Ok(value)) => Ok(value),
                    Ok(Err(chain)) => Err(CallError::Failed(chain)),
                    Err(payload) => Err(CallError::Panicked(recorded(payload))),
                };
            match &result {
                // Postcard's `Ok(value)`: the variant index 0 as one byte, then the value;
                // written here without serde's `Result` wrapper, which costs a third of
                // the encoding of a small value.
                Ok(value) => {
                    output.push(0);
                    crate::encode::encode_into(value, &mut output).map_err(|e| {
                        output.pop();
                        encode_error(e)
                    })?;
                }
                Err(_) => crate::encode::encode_into(&result, &mut output).map_err(encode_error)?,
            }
            observe(&output[prefix..], call + 1);
        }
        Ok(output)
    });
    batch.unwrap_or_else(|panic| Err(format!("the batch panicked: {panic}")))
}

/// The message and location that the panic hook recorded for the panic that produced
/// `payload`: unwinding it again does not run the hook, so a `catch_panic` around that hands
/// back the record of the original panic.
fn recorded(payload: Box<dyn Any + Send>) -> PanicInfo {
    match catch_panic(true, move || panic::resume_unwind(payload)) {
        Err(info) => info,
    }
}

/// Completes, in the parent, the lazy initialisations a forked child relies on: the panic
/// hook and ipc-channel's send-buffer size (a `LazyLock`: a child forked while another thread
/// was initialising it would block on it forever).
pub(crate) fn prepare_for_fork() {
    multiproc_sys::panic::install();
    // The child must share this process tree's key, so it must exist before the fork.
    let _ = crate::tag::tree_key();
    let _ = ipc_channel::platform::OsIpcSender::get_max_fragment_size();
    warm_thread_locals();
}

/// Gives the forking thread, once, the thread-locals a forked child's path uses (the panic
/// report's name, ipc-channel's serialization tables). A thread-local with a destructor
/// registers it on first use, and in a fresh child that first use writes to pages of the C
/// library and the dynamic linker that it shares with the parent: five copy-on-write page
/// faults per child, where one use in the parent makes it none.
fn warm_thread_locals() {
    use std::cell::Cell;
    thread_local! {
        static WARM: Cell<bool> = const { Cell::new(false) };
    }
    if WARM.with(|warm| warm.replace(true)) {
        return;
    }
    let _ = multiproc_sys::panic::catch_reported("", || ());
    // A send on a channel of our own, which nothing reads: ipc-channel asserts on some
    // failures (an exhausted descriptor table), so under `catch`; the warm-up is only an
    // optimisation and a failure is ignored.
    let _ = multiproc_sys::panic::catch(true, || {
        if let Ok((sender, _receiver)) = ipc_channel::ipc::channel::<()>() {
            let _ = sender.send(());
        }
    });
}

/// Runs `f`, turning a panic into a [`PanicInfo`] with its message and location.
///
/// With `quiet`, the panic is not printed to stderr (the pool reports it to the parent
/// instead); otherwise the usual panic message is printed too, as a child process would.
///
/// ```
/// let caught = multiproc_process::catch_panic(true, || -> u32 { panic!("boom") });
/// let info = caught.unwrap_err();
/// assert_eq!(info.message, "boom");
/// assert!(info.location.unwrap().contains(".rs:"));
/// ```
pub fn catch_panic<R>(quiet: bool, f: impl FnOnce() -> R) -> Result<R, PanicInfo> {
    multiproc_sys::panic::catch(quiet, f).map_err(|caught| PanicInfo {
        message: caught.message,
        location: caught.location,
    })
}

/// Runs the target of child process `process`, turning a panic into a [`PanicInfo`]; the
/// panic is also printed to stderr under the process's name (not `thread '<unnamed>'`),
/// with a backtrace only when `RUST_BACKTRACE` is set.
pub(crate) fn catch_child_panic<R>(process: &str, f: impl FnOnce() -> R) -> Result<R, PanicInfo> {
    multiproc_sys::panic::catch_reported(process, f).map_err(|caught| PanicInfo {
        message: caught.message,
        location: caught.location,
    })
}

/// Runs a receive whose decoding may panic: ipc-channel 0.23 indexes its descriptor table
/// without a bounds check when it decodes a channel from corrupt bytes (`ipc.rs`,
/// `deserialize_os_ipc_sender`, marked FIXME upstream). A hostile or corrupt message must be an
/// error, not a panic.
pub(crate) fn guard_decode<T, E: std::fmt::Display>(
    recv: impl FnOnce() -> Result<T, E>,
) -> Result<T, String> {
    match catch_panic(true, recv) {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(panic) => Err(format!("malformed message: {}", panic.message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn half(x: u32) -> u32 {
        if x % 2 == 1 {
            panic!("odd: {x}");
        }
        x / 2
    }

    #[test]
    fn each_call_of_a_batch_reports_its_own_panic_with_its_location() {
        let f = FunctionRef::new::<_, (u32,)>(half);
        let input = postcard::to_stdvec(&vec![(2u32,), (3,), (8,)]).unwrap();
        let output = f.call(&input).unwrap();
        let results: Vec<Result<u32, CallError>> = postcard::from_bytes(&output).unwrap();
        assert_eq!(results[0], Ok(1));
        assert_eq!(results[2], Ok(4));
        let Err(CallError::Panicked(panic)) = results[1].clone() else {
            panic!("{:?}", results[1]);
        };
        assert_eq!(panic.message, "odd: 3");
        assert!(panic.location.unwrap().contains("function.rs:"));
    }

    fn halve_even(x: u32) -> Result<u32, String> {
        if x % 2 == 1 {
            return Err(format!("odd: {x}"));
        }
        Ok(x / 2)
    }

    #[test]
    fn a_fallible_target_reports_its_error_apart_from_a_panic() {
        let f = FunctionRef::new::<_, (u32,)>(crate::fallible(halve_even));
        let input = postcard::to_stdvec(&vec![(2u32,), (3,)]).unwrap();
        let output = f.call(&input).unwrap();
        let results: Vec<Result<u32, CallError>> = postcard::from_bytes(&output).unwrap();
        assert_eq!(
            results,
            vec![Ok(1), Err(CallError::Failed("odd: 3".into()))]
        );
    }
}
