//! `imap` over an endless input runs in constant memory, and an early `break` leaves no
//! workers behind. (Alone in its test binary: other tests would disturb the RSS figures.)

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{GONE_LIMIT, METHODS};
use multiproc_pool::Pool;
use multiproc_test_support::{gone, rss_kib, stat_of, watchdog};

static PULLED: AtomicUsize = AtomicUsize::new(0);

fn double(x: u64) -> u64 {
    x * 2
}

#[test]
fn endless_imap_is_bounded_and_break_cleans_up() {
    watchdog(Duration::from_secs(240), "endless imap", || {
        for method in METHODS {
            let pool = Pool::builder()
                .processes(2)
                .start_method(method)
                .build()
                .unwrap();
            let pids = pool.worker_pids();
            PULLED.store(0, Ordering::SeqCst);
            let input = (0u64..).inspect(|_| {
                PULLED.fetch_add(1, Ordering::SeqCst);
            });
            let mut baseline = 0;
            for (i, result) in pool.imap(double, input).enumerate() {
                assert_eq!(result.unwrap(), i as u64 * 2);
                let consumed = i + 1;
                // The window: 16 chunks of 1 per worker.
                assert!(
                    PULLED.load(Ordering::SeqCst) <= consumed + 32,
                    "{method}: input read ahead too far"
                );
                if consumed == 5_000 {
                    baseline = rss_kib();
                }
                if consumed == 60_000 {
                    let grown = rss_kib().saturating_sub(baseline);
                    assert!(grown < 8 * 1024, "{method}: RSS grew by {grown} KiB");
                    break;
                }
            }
            drop(pool);
            for pid in pids {
                assert!(
                    gone(pid, GONE_LIMIT),
                    "{method}: worker {pid} still exists: {:?}",
                    stat_of(pid)
                );
            }
        }
    });
}
