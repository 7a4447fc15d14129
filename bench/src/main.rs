//! The multiproc benchmark: every scenario of the crates, run with our code, CPython's
//! `multiprocessing` and the raw OS floor in one run, printed as a Markdown table and
//! written to `bench-results/latest.md` and `bench-results/latest.json`.
//!
//! ```text
//! cargo run --release -p multiproc-bench [-- --quick] [--filter <substring>] [--no-python]
//! ```
//!
//! The figures are what they are: nothing here asserts on time. See `bench/README.md` for
//! how to read the table.

mod callgrind;
mod chart;
mod floor;
mod measure;
mod ours;
mod report;
mod runner;
mod scenario;
mod sys;
mod work;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use measure::Params;
use report::{Environment, Kind, Report, Row, ScenarioResult};
use runner::Which;
use scenario::SCENARIOS;

/// Where the results are written: `bench-results/` at the workspace root.
const RESULTS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../bench-results");

const USAGE: &str = "\
usage: cargo run --release -p multiproc-bench -- [options]

  --quick             few repeats and small sizes (a smoke run, well under a minute)
  --filter <text>     only scenarios whose name contains <text> (may be repeated)
  --no-python         skip CPython's multiprocessing
  --repeats <n>       samples per implementation (default 7, 3 with --quick)
  --out <dir>         where to write latest.{md,json,svg} (default: bench-results/ at the
                      workspace root)
  --callgrind         instead of timing: instructions per operation of the hot paths,
                      counted by valgrind --tool=callgrind (--filter applies to the paths)
  --list              list the scenarios and exit
  --help              this text";

/// Parsed command line.
#[derive(Debug)]
struct Options {
    quick: bool,
    filters: Vec<String>,
    python: bool,
    repeats: Option<usize>,
    out: PathBuf,
    list: bool,
    callgrind: bool,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        quick: false,
        filters: Vec::new(),
        python: true,
        repeats: None,
        out: PathBuf::from(RESULTS_DIR),
        list: false,
        callgrind: false,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--no-python" => options.python = false,
            "--filter" => {
                options
                    .filters
                    .push(args.next().ok_or("--filter needs a value")?.clone());
            }
            "--repeats" => {
                let value = args.next().ok_or("--repeats needs a value")?;
                let repeats = value
                    .parse()
                    .map_err(|_| format!("bad --repeats {value}"))?;
                if repeats == 0 {
                    return Err("--repeats must be at least 1".into());
                }
                options.repeats = Some(repeats);
            }
            "--out" => options.out = args.next().ok_or("--out needs a directory")?.into(),
            "--list" => options.list = true,
            "--callgrind" => options.callgrind = true,
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    // Children of this binary are routed first: a raw re-exec (the floor) and a measuring
    // process each have their own marker. The crates' own children never get here: they
    // are routed before `main`, on the crates' own environment variable.
    if let Ok(mode) = std::env::var(floor::REEXEC_MARKER) {
        floor::reexec_child(&mode);
    }
    if let Ok(spec) = std::env::var(callgrind::MARKER) {
        callgrind::child_main(&spec);
    }
    if let Ok(which) = std::env::var(runner::RUN_MARKER) {
        runner::child_main(&which);
    }

    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse_options(&args) {
        Ok(options) => options,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("multiproc-bench: {message}");
            }
            eprintln!("{USAGE}");
            return if message.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    if options.list {
        for scenario in SCENARIOS {
            println!(
                "{:<40} {:<12} {}",
                scenario.name,
                scenario.metric.unit(),
                scenario.what
            );
        }
        return ExitCode::SUCCESS;
    }
    if options.callgrind {
        return callgrind::run(&options.filters, &options.out);
    }
    let repeats = options.repeats.unwrap_or(if options.quick { 3 } else { 7 });
    let python_version = if options.python {
        python_version()
    } else {
        None
    };
    if options.python && python_version.is_none() {
        eprintln!("multiproc-bench: python3 not found; CPython rows will say failed");
    }

    let mut command = String::from("cargo run --release -p multiproc-bench");
    if !args.is_empty() {
        command.push_str(" -- ");
        command.push_str(&args.join(" "));
    }
    let mut environment = Environment {
        date: report::utc_now(),
        command,
        machine: machine_description(),
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        rustc: env!("MULTIPROC_BENCH_RUSTC").to_string(),
        commit: workspace_commit(),
        python: python_version,
        quick: options.quick,
        load_average_before: load_average(),
        load_average_after: None,
    };

    let selected: Vec<_> = SCENARIOS
        .iter()
        .filter(|s| {
            options.filters.is_empty()
                || options.filters.iter().any(|f| s.name.contains(f.as_str()))
        })
        .collect();
    if selected.is_empty() {
        eprintln!("multiproc-bench: no scenario matches the filter");
        return ExitCode::from(2);
    }

    let mut results = Vec::new();
    for scenario in selected {
        let n = if options.quick {
            scenario.n_quick
        } else {
            scenario.n_full
        };
        let params = Params {
            n,
            repeats,
            pinning: scenario.pinning,
        };
        eprintln!(
            "multiproc-bench: {} (n = {n}, {repeats} repeats)",
            scenario.name
        );
        let mut rows = Vec::new();
        let outcome = runner::run_rust(scenario, Which::Ours, &params);
        rows.push(Row::new(
            scenario,
            n,
            Kind::Ours,
            "multiproc".into(),
            outcome,
        ));
        if options.python && scenario.python {
            let (outcome, label) = runner::run_python(scenario, &params);
            let label = label.unwrap_or_else(|| "CPython multiprocessing".into());
            rows.push(Row::new(scenario, n, Kind::Cpython, label, outcome));
        }
        if let Some(floor) = scenario.floor {
            let outcome = runner::run_rust(scenario, Which::Floor, &params);
            rows.push(Row::new(
                scenario,
                n,
                Kind::Floor,
                floor.label.into(),
                outcome,
            ));
        }
        results.push(ScenarioResult::new(scenario, n, repeats, rows));
    }

    environment.load_average_after = load_average();
    let report = Report {
        environment,
        scenarios: results,
    };
    let markdown = report.markdown();
    print!("{markdown}");
    match write_results(&options.out, &report, &markdown) {
        Ok(dir) => {
            eprintln!(
                "multiproc-bench: wrote latest.md, latest.json and latest.svg in {}",
                dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("multiproc-bench: cannot write the results: {err}");
            ExitCode::FAILURE
        }
    }
}

fn write_results(dir: &Path, report: &Report, markdown: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let dir = dir.canonicalize()?;
    std::fs::write(dir.join("latest.md"), markdown)?;
    let json = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("latest.json"), json + "\n")?;
    std::fs::write(dir.join("latest.svg"), chart::svg(report))?;
    Ok(dir)
}

/// The 1, 5 and 15 minute load averages, from `/proc/loadavg`: other work on the machine
/// during a run skews its figures.
fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(
        text.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// The workspace's git commit, with `-dirty` when the work tree has changes.
fn workspace_commit() -> Option<String> {
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(env!("CARGO_MANIFEST_DIR"))
            .args(args)
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
    };
    let commit = git(&["rev-parse", "--short", "HEAD"])?;
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
        .is_some_and(|status| !status.is_empty());
    Some(if dirty {
        format!("{commit}-dirty")
    } else {
        commit
    })
}

fn python_version() -> Option<String> {
    let output = Command::new("python3").arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout).trim().to_string();
    (output.status.success() && !text.is_empty()).then_some(text)
}

/// CPU model, kernel release, memory and host name, from `/proc`.
fn machine_description() -> String {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let cpu = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let memory_gib = read("/proc/meminfo")
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map(|kib| kib / 1_048_576.0);
    let kernel = read("/proc/sys/kernel/osrelease");
    let mut description = format!("{cpu}, Linux {}", kernel.trim());
    if let Some(gib) = memory_gib {
        description.push_str(&format!(", {gib:.0} GiB RAM"));
    }
    description
}
