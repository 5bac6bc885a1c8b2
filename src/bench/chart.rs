//! The bench's chart: throughput against each swept setting, one panel
//! per setting, averaged over the values of the others.

use std::path::Path;

use plotters::prelude::*;

use super::{Point, Sweep};

/// Draws `throughput.svg` at `path`.
pub(super) fn throughput(
    path: &Path,
    sweeps: &[Sweep],
    results: &[(Point, serde_json::Value)],
) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("cannot draw {}: {e}", path.display());
    let panels = sweeps.len().max(1);
    let root = SVGBackend::new(path, (560 * panels as u32, 380)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let areas = root.split_evenly((1, panels));
    if sweeps.is_empty() {
        let rate = results.first().map_or(0.0, |(p, _)| p.rows_per_s());
        areas[0]
            .draw_text(
                &format!("{rate:.0} rows/s (no setting swept)"),
                &("sans-serif", 20).into_text_style(&areas[0]),
                (20, 180),
            )
            .map_err(|e| err(&e))?;
    }
    for (s, (sweep, area)) in sweeps.iter().zip(areas.iter()).enumerate() {
        // Mean rows/s at each value of this setting, over the others.
        let points: Vec<(f64, f64)> = sweep
            .values
            .iter()
            .enumerate()
            .map(|(i, value)| {
                let rates: Vec<f64> = results
                    .iter()
                    .filter(|(p, _)| &p.values[s] == value)
                    .map(|(p, _)| p.rows_per_s())
                    .collect();
                (
                    i as f64,
                    rates.iter().sum::<f64>() / rates.len().max(1) as f64,
                )
            })
            .collect();
        let top = points.iter().map(|p| p.1).fold(1.0, f64::max) * 1.15;
        let last = (sweep.values.len().max(2) - 1) as f64;
        let labels: Vec<String> = sweep.values.iter().map(ToString::to_string).collect();
        let mut chart = ChartBuilder::on(area)
            .caption(format!("rows/s by {}", sweep.name), ("sans-serif", 20))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d(-0.3..last + 0.3, 0.0..top)
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_labels(labels.len())
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 {
                    labels.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|y| format!("{:.0}k", y / 1e3))
            .x_desc(sweep.name)
            .y_desc("rows per second")
            .draw()
            .map_err(|e| err(&e))?;
        chart
            .draw_series(LineSeries::new(points.iter().copied(), &BLUE))
            .map_err(|e| err(&e))?;
        chart
            .draw_series(
                points
                    .iter()
                    .map(|&(x, y)| Circle::new((x, y), 4, BLUE.filled())),
            )
            .map_err(|e| err(&e))?;
    }
    root.present().map_err(|e| err(&e))
}
