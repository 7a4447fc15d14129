//! Type-level promises: a capturing closure, a function pointer and a non-serde argument are
//! refused at compile time, each with its own message (`tests/ui/*.stderr`); calling
//! `Process::fork` without `unsafe`, and building a `FunctionRef` other than through
//! `FunctionRef::new` (its field is private), do not compile either (forging one from bytes is
//! a decode error, `tests/hostile.rs`); a function item and a closure that captures nothing
//! compile and run (`tests/ui-pass`). The passing case makes
//! trybuild build rather than only check, so the post-monomorphisation size assertion fires.
//!
//! A closure that captures only `Copy` values, and a `fn` pointer, pass every trait bound and
//! are refused by that size assertion, at build time only (the `Target` docs say why no
//! design refuses them at `cargo check` without reversing Python's argument order): their
//! `.stderr` pins one error, whose "evaluation of `TargetMustCaptureNothing::<..>::CHECK`" line
//! names the user's closure with its file and line (inside `Fallible<..>` when wrapped in
//! `fallible`). `fallible` of a target that does not return a `Result` fails `cargo check`.

#[test]
fn refused_targets_and_arguments() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui-pass/*.rs");
    cases.compile_fail("tests/ui/*.rs");
}
