//! Turns outcomes into figures, ratios and verdicts, and writes them as a Markdown table
//! and as JSON.

use std::fmt::Write as _;

use serde::Serialize;

use crate::measure::Outcome;
use crate::scenario::{Better, Reference, Scenario};

/// Which side of the comparison a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    /// Our crates.
    Ours,
    /// CPython's `multiprocessing`.
    Cpython,
    /// The raw OS floor (or rayon).
    Floor,
}

/// Median, minimum and maximum of the figures of one row.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct Summary {
    /// The median (the mean of the middle two for an even count).
    pub(crate) median: f64,
    /// The smallest figure.
    pub(crate) min: f64,
    /// The largest figure.
    pub(crate) max: f64,
}

impl Summary {
    fn of(figures: &[f64]) -> Option<Self> {
        let mut sorted = figures.to_vec();
        sorted.sort_by(f64::total_cmp);
        let count = sorted.len();
        if count == 0 {
            return None;
        }
        let median = if count % 2 == 1 {
            sorted[count / 2]
        } else {
            (sorted[count / 2 - 1] + sorted[count / 2]) / 2.0
        };
        Some(Self {
            median,
            min: sorted[0],
            max: sorted[count - 1],
        })
    }
}

/// One implementation's result in one scenario.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Row {
    /// What ran.
    pub(crate) implementation: String,
    /// Ours, CPython or floor.
    pub(crate) kind: Kind,
    /// `ok`, `not yet available`, `n/a` or `failed`.
    pub(crate) status: &'static str,
    /// Why it is unavailable or failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<String>,
    /// The figures, in the scenario's unit, one per repeat.
    pub(crate) figures: Vec<f64>,
    /// Their median and range.
    #[serde(flatten)]
    pub(crate) summary: Option<Summary>,
    /// This median ÷ CPython's median.
    pub(crate) ratio_vs_cpython: Option<f64>,
    /// This median ÷ the floor's median.
    pub(crate) ratio_vs_floor: Option<f64>,
}

impl Row {
    /// A row from an outcome, its raw samples converted with the scenario's metric.
    pub(crate) fn new(
        scenario: &Scenario,
        n: u64,
        kind: Kind,
        implementation: String,
        outcome: Outcome,
    ) -> Self {
        let (status, reason, figures) = match outcome {
            Outcome::Samples(samples) => {
                let figures = samples
                    .iter()
                    .map(|&s| scenario.metric.convert(s, n))
                    .collect();
                ("ok", None, figures)
            }
            Outcome::Unavailable(why) if kind == Kind::Ours => {
                ("not yet available", Some(why), Vec::new())
            }
            Outcome::Unavailable(why) => ("n/a", Some(why), Vec::new()),
            Outcome::Failed(why) => ("failed", Some(why), Vec::new()),
        };
        let summary = Summary::of(&figures);
        Self {
            implementation,
            kind,
            status,
            reason,
            figures,
            summary,
            ratio_vs_cpython: None,
            ratio_vs_floor: None,
        }
    }
}

/// All rows of one scenario, with our verdict against the targets.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ScenarioResult {
    /// Stable scenario name.
    pub(crate) name: &'static str,
    /// What one operation is.
    pub(crate) what: &'static str,
    /// Display unit.
    pub(crate) unit: &'static str,
    /// `lower` or `higher` is better.
    pub(crate) better: &'static str,
    /// Operations per sample.
    pub(crate) n: u64,
    /// Samples per implementation.
    pub(crate) repeats: usize,
    /// Where the processes ran: `none`, `same` (all on CPU 0) or `cross` (parent on CPU 0,
    /// child on CPU 1).
    pub(crate) pinning: &'static str,
    /// The targets, as text.
    pub(crate) targets: Vec<String>,
    /// `yes`, `no`, `pending` (our code not there), `unknown` (a reference missing), or
    /// `—` (no target).
    pub(crate) met: &'static str,
    /// Ours, CPython, floor.
    pub(crate) rows: Vec<Row>,
}

impl ScenarioResult {
    /// Computes ratios and the verdict for `rows` (ours first, then CPython, then floor).
    pub(crate) fn new(scenario: &Scenario, n: u64, repeats: usize, mut rows: Vec<Row>) -> Self {
        let median_of = |rows: &[Row], kind: Kind| {
            rows.iter()
                .find(|row| row.kind == kind)
                .and_then(|row| row.summary)
                .map(|s| s.median)
        };
        let python = median_of(&rows, Kind::Cpython);
        let floor = median_of(&rows, Kind::Floor);
        for row in &mut rows {
            let Some(summary) = row.summary else { continue };
            if row.kind != Kind::Cpython {
                row.ratio_vs_cpython = python.map(|python| summary.median / python);
            }
            if row.kind != Kind::Floor {
                row.ratio_vs_floor = floor.map(|floor| summary.median / floor);
            }
        }
        let unit = scenario.metric.unit();
        let ours = rows.iter().find(|row| row.kind == Kind::Ours);
        let met = if scenario.targets.is_empty() {
            "—"
        } else {
            match ours {
                Some(row) if row.status == "ok" => {
                    let verdicts: Vec<Option<bool>> = scenario
                        .targets
                        .iter()
                        .map(|target| {
                            let figure = match target.reference() {
                                Reference::Python => row.ratio_vs_cpython,
                                Reference::Floor => row.ratio_vs_floor,
                                Reference::Absolute => row.summary.map(|s| s.median),
                            };
                            figure.map(|figure| target.met_by(figure))
                        })
                        .collect();
                    if verdicts.contains(&Some(false)) {
                        "no"
                    } else if verdicts.contains(&None) {
                        "unknown"
                    } else {
                        "yes"
                    }
                }
                Some(row) if row.status == "failed" => "failed",
                _ => "pending",
            }
        };
        Self {
            name: scenario.name,
            what: scenario.what,
            unit,
            better: match scenario.metric.better() {
                Better::Lower => "lower",
                Better::Higher => "higher",
            },
            n,
            repeats,
            pinning: scenario.pinning.as_str(),
            targets: scenario
                .targets
                .iter()
                .map(|target| target.describe(unit))
                .collect(),
            met,
            rows,
        }
    }
}

/// Where and how the run happened.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Environment {
    /// UTC date and time of the start of the run.
    pub(crate) date: String,
    /// The command that produced the run.
    pub(crate) command: String,
    /// CPU model, kernel, memory, host name.
    pub(crate) machine: String,
    /// Logical CPUs.
    pub(crate) cpus: usize,
    /// The compiler that built the benchmark.
    pub(crate) rustc: String,
    /// The workspace's git commit (`-dirty` with uncommitted changes), if known.
    pub(crate) commit: Option<String>,
    /// `python3 --version`, if Python ran.
    pub(crate) python: Option<String>,
    /// Whether this was a `--quick` run.
    pub(crate) quick: bool,
    /// The load averages when the run started.
    pub(crate) load_average_before: Option<String>,
    /// The load averages when the run ended.
    pub(crate) load_average_after: Option<String>,
}

/// A whole run, as written to `latest.json`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Report {
    /// Where and how.
    #[serde(flatten)]
    pub(crate) environment: Environment,
    /// Every scenario that ran.
    pub(crate) scenarios: Vec<ScenarioResult>,
}

/// A figure with three significant digits (whole numbers from 1000 up).
pub(crate) fn format_figure(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    if value == 0.0 {
        return "0".into();
    }
    let magnitude = value.abs().log10().floor() as i32;
    let decimals = (2 - magnitude).clamp(0, 6) as usize;
    format!("{value:.decimals$}")
}

fn format_ratio(ratio: Option<f64>) -> String {
    ratio.map_or_else(String::new, |ratio| format!("{}×", format_figure(ratio)))
}

impl Report {
    /// The Markdown document: header, table, notes.
    pub(crate) fn markdown(&self) -> String {
        let env = &self.environment;
        let mut out = String::new();
        let _ = writeln!(out, "## multiproc benchmark\n");
        let _ = writeln!(out, "- date: {}", env.date);
        let _ = writeln!(out, "- command: `{}`", env.command);
        let _ = writeln!(
            out,
            "- machine: {} ({} logical CPUs)",
            env.machine, env.cpus
        );
        let _ = writeln!(out, "- rustc: {}", env.rustc);
        if let Some(commit) = &env.commit {
            let _ = writeln!(out, "- commit: {commit}");
        }
        if let Some(python) = &env.python {
            let _ = writeln!(out, "- python: {python}");
        }
        if let (Some(before), Some(after)) = (&env.load_average_before, &env.load_average_after) {
            let _ = writeln!(
                out,
                "- load average (1, 5, 15 min): {before} at the start, {after} at the end"
            );
        }
        let _ = writeln!(
            out,
            "- figures: median and min–max over the repeats; a ratio is this row's median ÷ \
             the reference's median in the row's unit (for times lower is better, for rates \
             higher is better); targets compare our median the same way\n"
        );
        let _ = writeln!(
            out,
            "| scenario | implementation | median | min–max | unit | vs CPython | vs floor | target | met? |"
        );
        let _ = writeln!(out, "|---|---|---:|---:|---|---:|---:|---|---|");
        let mut notes = Vec::new();
        for scenario in &self.scenarios {
            for row in &scenario.rows {
                let (median, range) = match row.summary {
                    Some(s) => (
                        format_figure(s.median),
                        format!("{}–{}", format_figure(s.min), format_figure(s.max)),
                    ),
                    None => (row.status.to_string(), String::new()),
                };
                if let (Some(reason), true) = (&row.reason, row.status != "not yet available") {
                    notes.push(format!(
                        "{} / {}: {} ({reason})",
                        scenario.name, row.implementation, row.status
                    ));
                }
                let (target, met) = if row.kind == Kind::Ours {
                    (scenario.targets.join(", "), scenario.met)
                } else {
                    (String::new(), "")
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    scenario.name,
                    row.implementation,
                    median,
                    range,
                    scenario.unit,
                    format_ratio(row.ratio_vs_cpython),
                    format_ratio(row.ratio_vs_floor),
                    target,
                    met,
                );
            }
        }
        let _ = writeln!(out, "\nScenarios (n operations per repeat):\n");
        for scenario in &self.scenarios {
            let _ = writeln!(
                out,
                "- `{}` (n = {}, {} repeats): {}",
                scenario.name, scenario.n, scenario.repeats, scenario.what
            );
        }
        if !notes.is_empty() {
            let _ = writeln!(out, "\nNotes:\n");
            for note in notes {
                let _ = writeln!(out, "- {note}");
            }
        }
        out
    }
}

/// The current UTC date and time as `YYYY-MM-DD HH:MM UTC`.
pub(crate) fn utc_now() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let (days, of_day) = (seconds / 86_400, seconds % 86_400);
    // Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        of_day / 3600,
        of_day % 3600 / 60
    )
}
