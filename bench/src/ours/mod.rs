//! Our code: one function per scenario, grouped by crate, each with the signature
//! `fn(&Params) -> Outcome` and doing exactly what the floor function and the Python
//! script do for the same scenario.
//!
//! A scenario whose crate API has not landed yet returns [`Outcome::pending`] naming the
//! API it needs; its row in the table then says "not yet available". Filling one in means
//! replacing that function's body and nothing else.
//!
//! [`Outcome::pending`]: crate::measure::Outcome::pending

pub(crate) mod cases;
pub(crate) mod channel;
pub(crate) mod manager;
pub(crate) mod pool;
pub(crate) mod process;
pub(crate) mod shared;
pub(crate) mod typed;

use std::fmt::Display;

use crate::measure::BoxError;

/// Turns any printable error (ours are generic over payloads) into the error of
/// implementation bodies.
pub(crate) fn fail(err: impl Display) -> BoxError {
    err.to_string().into()
}
