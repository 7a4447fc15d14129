//! Fallible targets under every start method: an `Err` reaches `join` as
//! `ProcessError::Failed` with the error's whole chain, apart from a panic, and the child exits
//! with code 1; an `Ok` is the value.

use std::error::Error;
use std::fmt;
use std::time::Duration;

use multiproc_process::{ExitReason, ProcessError, StartMethod, fallible, get_context};
use multiproc_test_support::watchdog;

const LIMIT: Duration = Duration::from_secs(60);

fn each_method(test: fn(StartMethod)) {
    for method in StartMethod::ALL {
        watchdog(LIMIT, &format!("{method}"), move || test(method));
    }
}

/// A local error with a two-link source chain: "loading config: bad port: invalid digit...".
#[derive(Debug)]
struct LoadError {
    path: String,
    source: PortError,
}

#[derive(Debug)]
struct PortError(std::num::ParseIntError);

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "loading {}", self.path)
    }
}

impl Error for LoadError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

impl fmt::Display for PortError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("bad port")
    }
}

impl Error for PortError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

fn load(path: String, port: String) -> Result<u16, LoadError> {
    port.parse().map_err(|e| LoadError {
        path,
        source: PortError(e),
    })
}

fn boxed(x: i32) -> Result<i32, Box<dyn Error + Send + Sync>> {
    if x < 0 {
        return Err(format!("{x} is negative").into());
    }
    Ok(x * 2)
}

fn panics_instead(_: i32) -> Result<i32, String> {
    panic!("not an Err")
}

#[test]
fn an_error_arrives_with_its_chain() {
    each_method(|method| {
        let ctx = get_context(method);
        let mut p = ctx.process(fallible(load), ("app.toml".to_owned(), "http".to_owned()));
        p.start().unwrap();
        match p.join() {
            Err(ProcessError::Failed {
                message, status, ..
            }) => {
                assert_eq!(
                    message,
                    "loading app.toml: bad port: invalid digit found in string"
                );
                assert_eq!(status, Some(ExitReason::Code(1)));
            }
            other => panic!("{method}: {other:?}"),
        }
        assert_eq!(p.exitcode().unwrap(), Some(1));

        let mut ok = ctx.process(fallible(load), ("app.toml".to_owned(), "8080".to_owned()));
        ok.start().unwrap();
        assert_eq!(ok.join().unwrap(), 8080);
    });
}

#[test]
fn a_boxed_error_arrives_and_a_panic_stays_a_panic() {
    each_method(|method| {
        let ctx = get_context(method);
        let mut p = ctx.process(fallible(boxed), (-3,));
        p.start().unwrap();
        let error = p.join().unwrap_err();
        assert!(
            matches!(&error, ProcessError::Failed { message, .. } if message == "-3 is negative"),
            "{method}: {error:?}"
        );
        assert!(error.panic().is_none());

        let mut ok = ctx.process(fallible(boxed), (21,));
        ok.start().unwrap();
        assert_eq!(ok.join().unwrap(), 42);

        let mut p = ctx.process(fallible(panics_instead), (1,));
        p.start().unwrap();
        let error = p.join().unwrap_err();
        assert_eq!(
            error.panic().map(|p| p.message.as_str()),
            Some("not an Err")
        );
    });
}

#[test]
fn without_fallible_a_result_is_a_value() {
    each_method(|method| {
        let mut p = get_context(method).process(boxed_to_string, (-1,));
        p.start().unwrap();
        assert_eq!(p.join().unwrap(), Err("-1 is negative".to_owned()));
    });
}

fn boxed_to_string(x: i32) -> Result<i32, String> {
    boxed(x).map_err(|e| e.to_string())
}
