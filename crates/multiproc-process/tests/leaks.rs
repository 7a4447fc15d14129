//! 1,000 start/join cycles per start method leave no descriptors and no zombies behind.
//! (Alone in its test binary: other tests running in parallel would change the counts.)

use std::time::Duration;

use multiproc_process::{StartMethod, get_context};
use multiproc_test_support::{fd_count, watchdog, zombie_children};

fn plus_one(x: u64) -> u64 {
    x + 1
}

#[test]
fn start_join_cycles_leak_nothing() {
    watchdog(
        Duration::from_secs(240),
        "1,000 cycles per start method",
        || {
            for method in StartMethod::ALL {
                let ctx = get_context(method);
                // Warm up: the fork server, the launcher thread and lazily created state.
                for i in 0..3 {
                    let mut p = ctx.process(plus_one, (i,));
                    p.start().unwrap();
                    p.join().unwrap();
                }
                let fds_before = fd_count();
                for i in 0..1000u64 {
                    let mut p = ctx.process(plus_one, (i,));
                    p.start().unwrap();
                    assert_eq!(p.join().unwrap(), i + 1);
                }
                assert_eq!(fd_count(), fds_before, "{method}: descriptors leaked");
                assert_eq!(
                    zombie_children(),
                    Vec::<u32>::new(),
                    "{method}: zombies left"
                );
            }
        },
    );
}
