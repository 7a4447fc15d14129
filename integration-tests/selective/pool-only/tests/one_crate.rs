//! `multiproc-pool` alone: the types its signatures name (start method, errors, exit status,
//! panic report) come from the pool crate itself, and the TCP listener of `multiproc-channel`
//! (with its `hmac`/`sha2` handshake) is not compiled in for it.

use std::process::Command;

use multiproc_pool::{ExitReason, PanicInfo, Pool, PoolError, ProcessError, StartMethod};

fn crash(x: u32) -> u32 {
    match x {
        1 => panic!("one"),
        2 => std::process::abort(),
        _ => x,
    }
}

#[test]
fn every_type_in_a_pool_signature_is_named_through_the_pool() {
    for method in StartMethod::ALL {
        let built: Result<Pool, PoolError> =
            Pool::builder().processes(2).start_method(method).build();
        let pool = built.unwrap();
        // A process's error converts into the pool's.
        let _: fn(ProcessError) -> PoolError = PoolError::from;
        let results: Vec<Result<u32, PoolError>> = pool.chunksize(1).imap(crash, 0..4).collect();
        assert_eq!(results[0], Ok(0), "{method}");
        let panic: &PanicInfo = match &results[1] {
            Err(PoolError::Panicked { panic, .. }) => panic,
            other => panic!("{method}: expected a panic, got {other:?}"),
        };
        assert_eq!(panic.message, "one");
        match &results[2] {
            Err(PoolError::WorkerDied { status, .. }) => {
                let status: Option<ExitReason> = *status;
                assert_eq!(status, Some(ExitReason::Signal(6)), "{method}");
            }
            other => panic!("{method}: expected a dead worker, got {other:?}"),
        }
        assert_eq!(results[3], Ok(3), "{method}");
        pool.close();
        pool.join().unwrap();
    }
}

/// Resolves the features of a build of `multiproc-pool` alone (what a user who depends on it
/// gets) and checks that `multiproc-channel` comes without its `listener` feature.
#[test]
fn the_pool_alone_builds_the_channel_crate_without_its_listener() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "-p",
            "multiproc-pool",
            "-e",
            "features",
        ])
        .args(["-i", "multiproc-channel"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("could not run cargo tree");
    let tree = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        tree.contains("multiproc-channel v"),
        "unexpected tree:\n{tree}"
    );
    assert!(
        !tree.contains("feature \"listener\""),
        "the pool enables the listener:\n{tree}"
    );
    assert!(
        !tree.contains("multiproc-channel feature \"default\""),
        "the pool enables the channel's default features:\n{tree}"
    );
}
