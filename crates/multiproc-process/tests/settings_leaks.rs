//! Children with piped standard streams leave no descriptors behind, in the parent or in the
//! fork server, whether the parent takes its ends or not. (Alone in its test binary: other
//! tests running in parallel would change the counts.)

use std::io::Write;
use std::time::Duration;

use multiproc_process::{StartMethod, Stdio, get_context};
use multiproc_test_support::{fd_count, watchdog};

fn echo() -> usize {
    let text = std::io::read_to_string(std::io::stdin()).unwrap();
    std::io::stdout().write_all(text.as_bytes()).unwrap();
    // A child forked from a thread other than the main one is not flushed at exit.
    std::io::stdout().flush().unwrap();
    text.len()
}

fn plus_one(x: u64) -> u64 {
    x + 1
}

fn server_fds() -> Option<usize> {
    let server = multiproc_process::forkserver_pid()?;
    Some(
        std::fs::read_dir(format!("/proc/{server}/fd"))
            .ok()?
            .count(),
    )
}

#[test]
fn piped_children_leak_no_descriptors() {
    watchdog(
        Duration::from_secs(240),
        "100 piped children per method",
        || {
            for method in StartMethod::ALL {
                let ctx = get_context(method);
                let cycle = |take: bool| {
                    let mut p = ctx
                        .process(echo, ())
                        .stdin(Stdio::piped())
                        .stdout(Stdio::piped())
                        .stderr(Stdio::piped());
                    p.start().unwrap();
                    let mut input = p.take_stdin().unwrap();
                    input.write_all(b"abc").unwrap();
                    drop(input);
                    if take {
                        let out = p.take_stdout().unwrap();
                        assert_eq!(std::io::read_to_string(out).unwrap(), "abc");
                    }
                    assert_eq!(p.join().unwrap(), 3, "{method}");
                };
                // Warm up: the fork server, the launcher thread and lazily created state.
                for _ in 0..3 {
                    cycle(true);
                }
                // A child without pipes: its fork request is answered only after the server
                // handled every earlier request (the releases of the pipes among them).
                let settle = || {
                    let mut p = ctx.process(plus_one, (1,));
                    p.start().unwrap();
                    assert_eq!(p.join().unwrap(), 2);
                };
                settle();
                let (fds_before, server_before) = (fd_count(), server_fds());
                for i in 0..100 {
                    cycle(i % 2 == 0);
                }
                settle();
                assert_eq!(fd_count(), fds_before, "{method}: descriptors leaked");
                assert_eq!(
                    server_fds(),
                    server_before,
                    "{method}: the fork server leaked"
                );
            }
        },
    );
}
