//! Starts and joins `n` no-op children with one start method, for `strace -c` and `perf`:
//! `cargo run --release -p multiproc-process --example start_join_profile -- fork 200`.
//! Prints the minor page faults of the parent and of its reaped children per start.

use multiproc_process::{StartMethod, get_context};

fn noop() {}

/// `(own, children)` minor faults so far, from `getrusage(2)`.
fn minor_faults() -> (i64, i64) {
    let usage = |who| {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: `usage` is a valid out-pointer for `getrusage`.
        unsafe { libc::getrusage(who, usage.as_mut_ptr()) };
        // SAFETY: zero-initialised and filled in by `getrusage`.
        unsafe { usage.assume_init() }.ru_minflt
    };
    (usage(libc::RUSAGE_SELF), usage(libc::RUSAGE_CHILDREN))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let method = match args.next().as_deref() {
        Some("spawn") => StartMethod::Spawn,
        Some("forkserver") => StartMethod::Forkserver,
        _ => StartMethod::Fork,
    };
    let n: u32 = args.next().map_or(Ok(200), |n| n.parse())?;
    let floor = std::env::args().nth(1).as_deref() == Some("floor");
    let context = get_context(method);
    let once = || -> Result<(), Box<dyn std::error::Error>> {
        if floor {
            // SAFETY: the child only calls `_exit`.
            match unsafe { libc::fork() } {
                // SAFETY: `_exit` is async-signal-safe.
                0 => unsafe { libc::_exit(0) },
                -1 => return Err(std::io::Error::last_os_error().into()),
                pid => {
                    let mut status = 0;
                    // SAFETY: `status` is a valid out-pointer.
                    unsafe { libc::waitpid(pid, &mut status, 0) };
                }
            }
            return Ok(());
        }
        let mut child = context.process(noop, ());
        child.start()?;
        child.join()?;
        Ok(())
    };
    once()?;
    let (own, children) = minor_faults();
    let mut times = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let start = std::time::Instant::now();
        once()?;
        times.push(start.elapsed().as_secs_f64() * 1e6);
    }
    let (own_after, children_after) = minor_faults();
    times.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let index = (q * times.len() as f64) as usize;
        times.get(index).copied().unwrap_or(0.0)
    };
    println!(
        "{}: µs per start+join: min {:.1}, p10 {:.1}, median {:.1}; \
         minor faults per start: parent {:.1}, child {:.1}",
        if floor {
            "fork+waitpid".to_string()
        } else {
            format!("{method:?}")
        },
        at(0.0),
        at(0.1),
        at(0.5),
        (own_after - own) as f64 / f64::from(n),
        (children_after - children) as f64 / f64::from(n),
    );
    Ok(())
}
