//! `--callgrind`: instructions per operation of the hot paths, counted by
//! `valgrind --tool=callgrind` (Debian's `valgrind` package). Instruction counts do not
//! move with machine noise, so a regression shows in one run.
//!
//! Each path runs in a re-exec of this binary under callgrind twice, with `N` and `2N`
//! operations; the difference of the two totals over `N` is the cost of one operation,
//! with start-up, first-use set-up and exit cancelled out. Both ends of a channel run in the
//! one process (a send, then the receive), so a figure is one send plus one receive, in
//! user space: the kernel's share of a system call is not counted (callgrind cannot see
//! it), only the instructions that lead to it.

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

use multiproc::channel::{Pipe, Queue};
use multiproc::shared::{Lock, Value};

/// The environment variable that makes this binary run one path `n` times and exit.
pub(crate) const MARKER: &str = "MULTIPROC_BENCH_CALLGRIND";

/// The environment variable that carries a serialized manager proxy to a path.
const PROXY: &str = "MULTIPROC_BENCH_CALLGRIND_PROXY";

/// Operations in the shorter of the two runs.
const N: u64 = 2000;

/// The measured paths: name and what one operation is.
const PATHS: &[(&str, &str)] = &[
    ("send_bytes_8b", "send_bytes + recv_bytes of 8 bytes, Pipe"),
    (
        "pipe_vec_u8_4k",
        "send + recv of a Vec<u8> of 4 KiB (a clone per send), Pipe<Vec<u8>>",
    ),
    ("queue_u64", "put + get of a u64, Queue<u64>"),
    (
        "queue_vec_u8_4k",
        "put + get of a Vec<u8> of 4 KiB (a clone per put), Queue<Vec<u8>>",
    ),
    (
        "queue_vec_u8_1m",
        "put + get of a Vec<u8> of 1 MiB (a clone per put), Queue<Vec<u8>>",
    ),
    (
        "lock_uncontended",
        "acquire + release of an uncontended Lock",
    ),
    (
        "value_locked_increment",
        "*value.lock()? += 1 on a Value<i64>, uncontended",
    ),
    (
        "manager_dict_set",
        "d.insert(k, v) on a manager's DictProxy<u64, u64>: the client's side only (the server is another process, not counted)",
    ),
];

/// In the re-exec'd child: runs path `spec` (`name:n`) and exits.
pub(crate) fn child_main(spec: &str) -> ! {
    let code = match run_path(spec) {
        Ok(()) => 0,
        Err(err) => {
            eprintln!("multiproc-bench callgrind {spec}: {err}");
            1
        }
    };
    std::process::exit(code)
}

fn run_path(spec: &str) -> Result<(), Box<dyn std::error::Error>> {
    let (name, n) = spec.split_once(':').ok_or("bad spec")?;
    let n: u64 = n.parse()?;
    match name {
        "send_bytes_8b" => {
            let (reader, writer) = Pipe::<()>::new()?;
            let message = [7u8; 8];
            for _ in 0..n {
                writer.send_bytes(&message)?;
                std::hint::black_box(reader.recv_bytes()?);
            }
        }
        "pipe_vec_u8_4k" => {
            let (reader, writer) = Pipe::<Vec<u8>>::new()?;
            let item = vec![7u8; 4096];
            for _ in 0..n {
                writer.send(item.clone()).map_err(|err| err.to_string())?;
                std::hint::black_box(reader.recv()?);
            }
        }
        "queue_u64" => {
            let queue = Queue::<u64>::new()?;
            for i in 0..n {
                queue.put(i).map_err(|err| err.to_string())?;
                std::hint::black_box(queue.get()?);
            }
        }
        "queue_vec_u8_4k" => {
            let queue = Queue::<Vec<u8>>::new()?;
            let item = vec![7u8; 4096];
            for _ in 0..n {
                queue.put(item.clone()).map_err(|err| err.to_string())?;
                std::hint::black_box(queue.get()?);
            }
        }
        "queue_vec_u8_1m" => {
            let queue = Queue::<Vec<u8>>::new()?;
            let item = vec![7u8; 1 << 20];
            for _ in 0..n {
                queue.put(item.clone()).map_err(|err| err.to_string())?;
                std::hint::black_box(queue.get()?);
            }
        }
        "lock_uncontended" => {
            let lock = Lock::new()?;
            for _ in 0..n {
                let guard = lock.acquire().map_err(|err| err.to_string())?;
                drop(guard);
            }
        }
        "value_locked_increment" => {
            let value = Value::<i64>::new(0)?;
            for _ in 0..n {
                *value.lock().map_err(|_| "owner died")? += 1;
            }
        }
        "manager_dict_set" => {
            // The manager runs outside valgrind (which cannot start it: no pidfd_open), in
            // the process that runs valgrind; its proxy arrives in JSON.
            let dict: multiproc::manager::DictProxy<u64, u64> =
                serde_json::from_str(&std::env::var(PROXY)?)?;
            for i in 0..n {
                dict.insert(i % 1000, i)?;
            }
        }
        other => return Err(format!("unknown path {other}").into()),
    }
    Ok(())
}

/// The total instruction count of one callgrind run of `name` with `n` operations.
fn total_instructions(name: &str, n: u64, dir: &Path, proxy: Option<&str>) -> Result<u64, String> {
    let out = dir.join(format!("callgrind.{name}.{n}.out"));
    let exe = std::env::current_exe().map_err(|err| err.to_string())?;
    let status = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(exe)
        .env(MARKER, format!("{name}:{n}"))
        .envs(proxy.map(|json| (PROXY, json)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|err| format!("cannot run valgrind (apt-get install valgrind): {err}"))?;
    if !status.success() {
        return Err(format!("valgrind run of {name} failed: {status}"));
    }
    let text = std::fs::read_to_string(&out).map_err(|err| err.to_string())?;
    let _ = std::fs::remove_file(&out);
    text.lines()
        .find_map(|line| {
            line.strip_prefix("summary:")
                .or(line.strip_prefix("totals:"))
        })
        .and_then(|count| count.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("no instruction total in the callgrind output of {name}"))
}

/// Runs every path (or those whose name contains one of `filters`) and prints a table of
/// instructions per operation.
pub(crate) fn run(filters: &[String], dir: &Path) -> ExitCode {
    if let Err(err) = std::fs::create_dir_all(dir) {
        eprintln!("multiproc-bench: cannot create {}: {err}", dir.display());
        return ExitCode::FAILURE;
    }
    println!("| path | what one operation is | instructions per operation |");
    println!("|---|---|---:|");
    let mut failed = false;
    for (name, what) in PATHS {
        if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        eprintln!(
            "multiproc-bench: callgrind {name} ({N} and {} operations)",
            2 * N
        );
        // A manager path gets a manager started here, natively.
        let manager = name
            .starts_with("manager_")
            .then(manager_dict_proxy)
            .transpose();
        let figure = manager.and_then(|manager| {
            let proxy = manager.as_ref().map(|(_, json)| json.as_str());
            let short = total_instructions(name, N, dir, proxy)?;
            let long = total_instructions(name, 2 * N, dir, proxy)?;
            Ok(long.saturating_sub(short) / N)
        });
        match figure {
            Ok(per_op) => println!("| {name} | {what} | {per_op} |"),
            Err(err) => {
                failed = true;
                println!("| {name} | {what} | failed: {err} |");
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// A manager and a `DictProxy<u64, u64>` of it in JSON.
fn manager_dict_proxy() -> Result<(multiproc::manager::Manager, String), String> {
    let manager = multiproc::manager::Manager::start().map_err(|err| err.to_string())?;
    let dict = manager.dict::<u64, u64>().map_err(|err| err.to_string())?;
    let json = serde_json::to_string(&dict).map_err(|err| err.to_string())?;
    Ok((manager, json))
}
