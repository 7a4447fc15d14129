//! Runs each implementation of a scenario in a fresh process: a re-exec of this binary for
//! our code and the floor, `python3` for CPython. A fresh process per measurement means
//! no thread, child or mapping left by one scenario skews the next, a crash shows as a
//! failed row instead of ending the run, and a hang is cut off by a timeout.

use std::fs;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::measure::{Outcome, Params, Pinning};
use crate::scenario::{self, Scenario};
use crate::sys;

/// The environment variable that makes this binary measure one implementation and exit;
/// its value is `ours` or `floor`.
pub(crate) const RUN_MARKER: &str = "MULTIPROC_BENCH_RUN";
const SCENARIO_VAR: &str = "MULTIPROC_BENCH_SCENARIO";
const N_VAR: &str = "MULTIPROC_BENCH_N";
const REPEATS_VAR: &str = "MULTIPROC_BENCH_REPEATS";
const OUT_VAR: &str = "MULTIPROC_BENCH_OUT";
const PINNING_VAR: &str = "MULTIPROC_BENCH_PINNING";

/// The Python half of the benchmark, committed beside this crate.
pub(crate) const PYTHON_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python/bench_mp.py");

/// What a measuring process writes to its result file (the Python script writes the same).
#[derive(Debug, Default, Serialize, Deserialize)]
struct ResultFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    samples: Option<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    unavailable: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    label: Option<String>,
}

/// Which implementation a measuring process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Which {
    /// Our code.
    Ours,
    /// The floor.
    Floor,
}

/// The body of a measuring process started by [`run_rust`]: read the job from the
/// environment, measure, write the result file, exit.
pub(crate) fn child_main(which: &str) -> ! {
    let result = measure_here(which);
    let file = match result {
        Ok(Outcome::Samples(samples)) => ResultFile {
            samples: Some(samples),
            ..Default::default()
        },
        Ok(Outcome::Unavailable(why)) => ResultFile {
            unavailable: Some(why),
            ..Default::default()
        },
        Ok(Outcome::Failed(why)) | Err(why) => ResultFile {
            error: Some(why),
            ..Default::default()
        },
    };
    let written = std::env::var(OUT_VAR)
        .map_err(|err| err.to_string())
        .and_then(|path| {
            let json = serde_json::to_string(&file).map_err(|err| err.to_string())?;
            fs::write(path, json).map_err(|err| err.to_string())
        });
    match written {
        Ok(()) => std::process::exit(0),
        Err(err) => {
            eprintln!("multiproc-bench: cannot write the result file: {err}");
            std::process::exit(2)
        }
    }
}

fn measure_here(which: &str) -> Result<Outcome, String> {
    let var = |name: &str| std::env::var(name).map_err(|err| format!("{name}: {err}"));
    let name = var(SCENARIO_VAR)?;
    let scenario = scenario::find(&name).ok_or_else(|| format!("no scenario {name}"))?;
    let params = Params {
        n: var(N_VAR)?
            .parse()
            .map_err(|err| format!("{N_VAR}: {err}"))?,
        repeats: var(REPEATS_VAR)?
            .parse()
            .map_err(|err| format!("{REPEATS_VAR}: {err}"))?,
        pinning: Pinning::parse(&var(PINNING_VAR)?).ok_or("bad pinning")?,
    };
    params
        .pinning
        .parent_setup()
        .map_err(|err| format!("pinning: {err}"))?;
    let run = match which {
        "ours" => scenario.ours,
        "floor" => scenario.floor.ok_or("this scenario has no floor")?.run,
        other => return Err(format!("{RUN_MARKER}={other}")),
    };
    Ok(run(&params))
}

/// How long one measuring process may take before it and its process group are killed.
fn timeout(params: &Params) -> Duration {
    Duration::from_secs(60 + 30 * params.repeats as u64)
}

/// A fresh result-file path in the temporary directory.
fn result_path() -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let index = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!(
        "multiproc-bench-{}-{index}.json",
        std::process::id()
    ))
}

/// Measures our code or the floor for `scenario` in a re-exec of this binary.
pub(crate) fn run_rust(scenario: &Scenario, which: Which, params: &Params) -> Outcome {
    let out = result_path();
    let mut command = Command::new("/proc/self/exe");
    command
        .env(
            RUN_MARKER,
            if which == Which::Ours {
                "ours"
            } else {
                "floor"
            },
        )
        .env(SCENARIO_VAR, scenario.name)
        .env(N_VAR, params.n.to_string())
        .env(REPEATS_VAR, params.repeats.to_string())
        .env(PINNING_VAR, params.pinning.as_str())
        .env(OUT_VAR, &out);
    run_measuring_process(command, &out, params).0
}

/// Measures CPython's `multiprocessing` for `scenario` with the committed script; gives
/// the outcome and the implementation label the script reports.
pub(crate) fn run_python(scenario: &Scenario, params: &Params) -> (Outcome, Option<String>) {
    let out = result_path();
    let mut command = Command::new("python3");
    command
        .arg(PYTHON_SCRIPT)
        .args(["--scenario", scenario.name])
        .args(["--n", &params.n.to_string()])
        .args(["--repeats", &params.repeats.to_string()])
        .arg("--out")
        .arg(&out);
    command.args(["--pin", params.pinning.as_str()]);
    run_measuring_process(command, &out, params)
}

fn run_measuring_process(
    mut command: Command,
    out: &Path,
    params: &Params,
) -> (Outcome, Option<String>) {
    // Whatever the measured code prints goes to stderr, so stdout stays the table.
    let stdout = match io::stderr().as_fd().try_clone_to_owned() {
        Ok(fd) => Stdio::from(fd),
        Err(err) => return (Outcome::Failed(err.to_string()), None),
    };
    command.stdin(Stdio::null()).stdout(stdout).process_group(0);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(err) => return (Outcome::Failed(format!("cannot start: {err}")), None),
    };
    let deadline = Instant::now() + timeout(params);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if Instant::now() >= deadline => {
                // The group is the child's own (process_group(0)), so this reaches only
                // processes it started.
                let pgid = child.id() as i32;
                let _ = sys::kill_process_group(pgid);
                let _ = child.wait();
                break Err(format!("timed out after {:?}", timeout(params)));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(err) => break Err(err.to_string()),
        }
    };
    let file = fs::read_to_string(out);
    let _ = fs::remove_file(out);
    let status = match status {
        Ok(status) => status,
        Err(why) => return (Outcome::Failed(why), None),
    };
    let file: ResultFile = match file
        .map_err(|err| err.to_string())
        .and_then(|text| serde_json::from_str(&text).map_err(|err| err.to_string()))
    {
        Ok(file) => file,
        Err(err) => {
            return (
                Outcome::Failed(format!("no result ({status}): {err}")),
                None,
            );
        }
    };
    let outcome = if let Some(samples) = file.samples {
        Outcome::Samples(samples)
    } else if let Some(why) = file.unavailable {
        Outcome::Unavailable(why)
    } else {
        Outcome::Failed(
            file.error
                .unwrap_or_else(|| format!("empty result ({status})")),
        )
    };
    (outcome, file.label)
}
