//! An SVG chart of the run: for each scenario, how fast our code and CPython are relative
//! to the floor, on a logarithmic axis (1 = the floor; left of it is slower).

use std::fmt::Write as _;

use crate::report::{Kind, Report};

const WIDTH: f64 = 960.0;
const LABEL_WIDTH: f64 = 300.0;
const ROW_HEIGHT: f64 = 34.0;
const BAR_HEIGHT: f64 = 12.0;
const TOP: f64 = 56.0;
/// The axis spans 10^MIN_DECADE .. 10^MAX_DECADE times the floor's speed.
const MIN_DECADE: i32 = -3;
const MAX_DECADE: i32 = 1;

/// Speed relative to the floor: above 1 is faster than the floor, whatever the unit.
fn speed_vs_floor(ratio_vs_floor: f64, lower_is_better: bool) -> f64 {
    if lower_is_better {
        1.0 / ratio_vs_floor
    } else {
        ratio_vs_floor
    }
}

fn x_of(speed: f64) -> f64 {
    let span = f64::from(MAX_DECADE - MIN_DECADE);
    let clamped = speed
        .log10()
        .clamp(f64::from(MIN_DECADE), f64::from(MAX_DECADE));
    LABEL_WIDTH + (clamped - f64::from(MIN_DECADE)) / span * (WIDTH - LABEL_WIDTH - 20.0)
}

/// The chart as an SVG document.
pub(crate) fn svg(report: &Report) -> String {
    let rows: Vec<_> = report
        .scenarios
        .iter()
        .filter(|scenario| scenario.rows.iter().any(|row| row.ratio_vs_floor.is_some()))
        .collect();
    let height = TOP + ROW_HEIGHT * rows.len() as f64 + 40.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        out,
        r#"<text x="10" y="20" font-size="14" font-weight="bold">Speed relative to the raw OS floor (log scale; 1× = floor) — {}</text>"#,
        report.environment.date
    );
    let legend_y = 38.0;
    let _ = writeln!(
        out,
        r##"<rect x="10" y="{}" width="12" height="10" fill="#2b6cb0"/><text x="26" y="{legend_y}">multiproc</text><rect x="110" y="{}" width="12" height="10" fill="#d69e2e"/><text x="126" y="{legend_y}">CPython multiprocessing</text>"##,
        legend_y - 9.0,
        legend_y - 9.0
    );
    for decade in MIN_DECADE..=MAX_DECADE {
        let x = x_of(10f64.powi(decade));
        let label = if decade >= 0 {
            format!("{}×", 10u64.pow(decade as u32))
        } else {
            format!("1/{}", 10u64.pow((-decade) as u32))
        };
        let stroke = if decade == 0 { "#000" } else { "#ccc" };
        let _ = writeln!(
            out,
            r#"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}" stroke="{stroke}"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{label}</text>"#,
            height - 30.0,
            height - 14.0
        );
    }
    for (index, scenario) in rows.iter().enumerate() {
        let y = TOP + ROW_HEIGHT * index as f64;
        let _ = writeln!(
            out,
            r#"<text x="10" y="{:.1}">{}</text>"#,
            y + ROW_HEIGHT / 2.0 + 4.0,
            scenario.name
        );
        let lower_is_better = scenario.better == "lower";
        for (slot, kind, colour) in [
            (0.0, Kind::Ours, "#2b6cb0"),
            (1.0, Kind::Cpython, "#d69e2e"),
        ] {
            let Some(ratio) = scenario
                .rows
                .iter()
                .find(|row| row.kind == kind)
                .and_then(|row| row.ratio_vs_floor)
            else {
                continue;
            };
            let speed = speed_vs_floor(ratio, lower_is_better);
            let bar_y = y + 4.0 + slot * (BAR_HEIGHT + 2.0);
            let (from, to) = (x_of(10f64.powi(MIN_DECADE)), x_of(speed));
            let _ = writeln!(
                out,
                r#"<rect x="{from:.1}" y="{bar_y:.1}" width="{:.1}" height="{BAR_HEIGHT}" fill="{colour}"><title>{}</title></rect>"#,
                (to - from).max(1.0),
                crate::report::format_figure(speed)
            );
        }
    }
    out.push_str("</svg>\n");
    out
}
