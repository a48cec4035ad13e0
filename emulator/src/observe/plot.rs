//! The `--fault-plot` histogram: the cycles per fault in logarithmic bins, one colour per kind,
//! stacked, drawn as SVG by `plotters`.
//!
//! The SVG names its fonts (`sans-serif`) and leaves the text to the viewer, so drawing it reads
//! no font file; plotters only estimates text widths to lay out the labels. The output depends
//! on the profile alone: the same profile gives the same bytes.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{FaultKind, FaultProfile};

/// Bins per decade of cycles: bin `k` holds the faults of `10^(k/8)` up to (without)
/// `10^((k+1)/8)` cycles, each bin a third wider than the one before.
pub const BINS_PER_DECADE: i32 = 8;

const WIDTH: u32 = 960;
const HEIGHT: u32 = 560;
/// The strip on the right that holds the legend, so that it never hides a bar.
const LEGEND_WIDTH: u32 = 220;
const FONT: &str = "sans-serif";

/// Draws the histogram of `profile`'s cycles per fault; a profile without faults gives an SVG
/// that says so.
pub fn render_svg(profile: &FaultProfile) -> anyhow::Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        let body = root
            .margin(8, 0, 0, 0)
            .titled(&title(profile), (FONT, 24))?;
        if profile.records.is_empty() {
            let style =
                TextStyle::from((FONT, 20).into_font()).pos(Pos::new(HPos::Center, VPos::Center));
            let (width, height) = body.dim_in_pixel();
            body.draw_text(
                "no page faults were taken",
                &style,
                (width as i32 / 2, height as i32 / 2),
            )?;
        } else {
            draw_histogram(&body, profile)?;
        }
        root.present()?;
    }
    Ok(svg)
}

fn title(profile: &FaultProfile) -> String {
    let major = profile.records.iter().filter(|r| r.major).count();
    match profile.records.len() {
        0 => "Page faults: cycles per fault".to_string(),
        n => format!("Page faults: cycles per fault ({n} faults, {major} major)"),
    }
}

/// The histogram's bins: for each, the number of faults of each kind (in [`FaultKind::ALL`]
/// order).
struct Histogram {
    /// The bin of `counts[0]`.
    first_bin: i32,
    counts: Vec<[u64; FaultKind::ALL.len()]>,
}

impl Histogram {
    fn new(profile: &FaultProfile) -> Histogram {
        let bins: Vec<i32> = profile.records.iter().map(|r| bin_of(r.cycles)).collect();
        let first_bin = bins.iter().copied().min().unwrap_or(0);
        let last_bin = bins.iter().copied().max().unwrap_or(0);
        let mut counts = vec![[0; FaultKind::ALL.len()]; (last_bin - first_bin + 1) as usize];
        for (record, bin) in profile.records.iter().zip(bins) {
            counts[(bin - first_bin) as usize][kind_index(record.kind)] += 1;
        }
        Histogram { first_bin, counts }
    }

    /// The tallest stack.
    fn max_total(&self) -> u64 {
        self.counts
            .iter()
            .map(|c| c.iter().sum())
            .max()
            .unwrap_or(0)
    }
}

fn kind_index(kind: FaultKind) -> usize {
    FaultKind::ALL.iter().position(|&k| k == kind).unwrap_or(0)
}

/// The lower edge of bin `bin`, in cycles: `10^(bin / BINS_PER_DECADE)`, exact at decades.
fn bin_edge(bin: i32) -> f64 {
    let decade = 10f64.powi(bin.div_euclid(BINS_PER_DECADE));
    let step = f64::from(bin.rem_euclid(BINS_PER_DECADE)) / f64::from(BINS_PER_DECADE);
    decade * 10f64.powf(step)
}

/// The bin of a fault of `cycles` cycles (0 counts as 1).
fn bin_of(cycles: u64) -> i32 {
    let cycles = cycles.max(1) as f64;
    let mut bin = (cycles.log10() * f64::from(BINS_PER_DECADE)).floor() as i32;
    // log10 may round across an edge; the edges themselves decide.
    while bin_edge(bin + 1) <= cycles {
        bin += 1;
    }
    while bin_edge(bin) > cycles {
        bin -= 1;
    }
    bin
}

/// A tick label: 100, 1k, 10k, 100k, 1M.
fn cycles_label(cycles: f64) -> String {
    let cycles = cycles.round() as u64;
    match cycles {
        c if c >= 1_000_000 && c % 1_000_000 == 0 => format!("{}M", c / 1_000_000),
        c if c >= 1_000 && c % 1_000 == 0 => format!("{}k", c / 1_000),
        c => c.to_string(),
    }
}

/// The colour of each kind, in [`FaultKind::ALL`] order (Okabe–Ito first: told apart with
/// most colour blindness).
const COLOURS: [RGBColor; FaultKind::ALL.len()] = [
    RGBColor(0x00, 0x72, 0xb2), // demand-zero: blue
    RGBColor(0x56, 0xb4, 0xe9), // file-backed: sky blue
    RGBColor(0xe6, 0x9f, 0x00), // cow-copy: orange
    RGBColor(0xf0, 0xe4, 0x42), // cow-reuse: yellow
    RGBColor(0xd5, 0x5e, 0x00), // swap-in: vermilion
    RGBColor(0x00, 0x9e, 0x73), // upgrade: green
    RGBColor(0xcc, 0x79, 0xa7), // spurious: pink
    RGBColor(0x33, 0x33, 0x33), // sigsegv: near black
    RGBColor(0x7f, 0x3c, 0x8d), // sigbus: purple
    RGBColor(0x8b, 0x00, 0x00), // oom-kill: dark red
    RGBColor(0x99, 0x99, 0x99), // unreported: grey
];

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

fn draw_histogram(area: &Area<'_>, profile: &FaultProfile) -> anyhow::Result<()> {
    let histogram = Histogram::new(profile);
    let (plot_area, legend_area) = area.split_horizontally(WIDTH - LEGEND_WIDTH);

    // Whole decades on the axis. The ends are nudged outwards by a hair: plotters finds the
    // decade ticks through logarithms that may round a decade at an end off the axis.
    let first_decade = histogram.first_bin.div_euclid(BINS_PER_DECADE);
    let last_bin = histogram.first_bin + histogram.counts.len() as i32 - 1;
    let end_decade = (last_bin + 1 + BINS_PER_DECADE - 1).div_euclid(BINS_PER_DECADE);
    let x_range = bin_edge(first_decade * BINS_PER_DECADE) * (1.0 - 1e-9)
        ..bin_edge(end_decade * BINS_PER_DECADE) * (1.0 + 1e-9);
    let y_max = (histogram.max_total() * 11).div_ceil(10).max(1);

    let mut chart = ChartBuilder::on(&plot_area)
        .margin(16)
        .x_label_area_size(56)
        .y_label_area_size(64)
        .build_cartesian_2d(x_range.log_scale(), 0u64..y_max)?;
    chart
        .configure_mesh()
        // Plotters labels each decade, and 2..9 as well when there is only one.
        .x_label_formatter(&|&cycles| cycles_label(cycles))
        .y_label_formatter(&|&faults| faults.to_string())
        .max_light_lines(4)
        .x_desc(format!(
            "cycles per fault (1 cycle = 1 ns; logarithmic scale, {BINS_PER_DECADE} bins per decade)"
        ))
        .y_desc("faults")
        .axis_desc_style((FONT, 16))
        .label_style((FONT, 14))
        .draw()?;

    let mut below = vec![0u64; histogram.counts.len()];
    for (index, &kind) in FaultKind::ALL.iter().enumerate() {
        let colour = COLOURS[index];
        let mut bars = Vec::new();
        for (offset, counts) in histogram.counts.iter().enumerate() {
            let count = counts[index];
            if count == 0 {
                continue;
            }
            let bin = histogram.first_bin + offset as i32;
            let bottom = below[offset];
            below[offset] += count;
            let mut bar = Rectangle::new(
                [(bin_edge(bin), bottom), (bin_edge(bin + 1), bottom + count)],
                colour.filled(),
            );
            // A pixel of white between neighbouring bins.
            bar.set_margin(0, 0, 1, 1);
            bars.push(bar);
        }
        if !bars.is_empty() {
            chart
                .draw_series(bars)
                .map_err(|e| anyhow::anyhow!("{kind}: {e}"))?;
        }
    }

    draw_legend(&legend_area, profile)
}

/// The legend: a swatch, the kind and its number of faults, for every kind that occurred.
fn draw_legend(area: &Area<'_>, profile: &FaultProfile) -> anyhow::Result<()> {
    const LEFT: i32 = 8;
    const TOP: i32 = 24;
    const LINE: i32 = 24;
    const SWATCH: i32 = 14;
    let text = TextStyle::from((FONT, 15).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    area.draw_text("kind (faults)", &text, (LEFT, TOP))?;
    let mut y = TOP + LINE + LINE / 2;
    for (index, &kind) in FaultKind::ALL.iter().enumerate() {
        let count = profile.records.iter().filter(|r| r.kind == kind).count();
        if count == 0 {
            continue;
        }
        area.draw(&Rectangle::new(
            [(LEFT, y - SWATCH / 2), (LEFT + SWATCH, y + SWATCH / 2)],
            COLOURS[index].filled(),
        ))?;
        area.draw_text(
            &format!("{} ({count})", kind.name()),
            &text,
            (LEFT + SWATCH + 8, y),
        )?;
        y += LINE;
    }
    let note = TextStyle::from((FONT, 12).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    y += LINE / 2;
    for line in [
        "cycles: from the faulting access",
        "to its retry, the disk wait included",
    ] {
        area.draw_text(line, &note, (LEFT, y))?;
        y += LINE * 3 / 4;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::{FaultAccess, FaultRecord};

    #[test]
    fn bins_are_eighths_of_a_decade() {
        assert_eq!(bin_edge(0), 1.0);
        assert_eq!(bin_edge(24), 1000.0);
        assert_eq!(bin_edge(40), 100_000.0);
        assert_eq!(bin_of(0), 0);
        assert_eq!(bin_of(1), 0);
        assert_eq!(bin_of(999), 23);
        assert_eq!(bin_of(1000), 24);
        // 10^(1/8) = 1.3335: 1333 is in the first bin of the decade, 1334 in the second.
        assert_eq!(bin_of(1333), 24);
        assert_eq!(bin_of(1334), 25);
        assert_eq!(bin_of(99_999), 39);
        assert_eq!(bin_of(100_000), 40);
        for cycles in [3, 17, 640, 2_345, 31_000, 99_999] {
            let bin = bin_of(cycles);
            let cycles = cycles as f64;
            assert!(
                bin_edge(bin) <= cycles && cycles < bin_edge(bin + 1),
                "{cycles}"
            );
        }
    }

    #[test]
    fn histogram_counts_each_kind_in_its_bin() {
        let record = |cycles, kind| FaultRecord {
            n: 1,
            pid: 1,
            kind,
            major: false,
            va: 0,
            pc: 0,
            access: FaultAccess::Load,
            start_cycle: 0,
            cycles,
            instructions: 0,
            pte_reads: 0,
            tlb_misses: 0,
            disk_requests: 0,
            wait_cycles: 0,
            nested_traps: 0,
            segments: 1,
        };
        let profile = FaultProfile {
            records: vec![
                record(1_000, FaultKind::DemandZero),
                record(1_200, FaultKind::CowCopy),
                record(1_400, FaultKind::DemandZero),
                record(30_000, FaultKind::SwapIn),
            ],
            ..FaultProfile::default()
        };
        let histogram = Histogram::new(&profile);
        assert_eq!(histogram.first_bin, 24);
        // 30 000 cycles: 10^4.477, and 0.477 × 8 = 3.8: bin 3 of the decade from 10k.
        assert_eq!(histogram.counts.len(), 32 + 3 - 24 + 1);
        let (zero, copy, swap) = (0, 2, 4);
        assert_eq!(histogram.counts[0][zero], 1);
        assert_eq!(histogram.counts[0][copy], 1);
        assert_eq!(histogram.counts[1][zero], 1);
        assert_eq!(histogram.counts[11][swap], 1);
        let total: u64 = histogram.counts.iter().flatten().sum();
        assert_eq!(total, 4);
        assert_eq!(histogram.max_total(), 2);
        assert_eq!(FaultKind::ALL[copy], FaultKind::CowCopy);
        assert_eq!(FaultKind::ALL[swap], FaultKind::SwapIn);
    }

    #[test]
    fn tick_labels() {
        assert_eq!(cycles_label(100.0), "100");
        assert_eq!(cycles_label(1000.0000001), "1k");
        assert_eq!(cycles_label(100_000.0), "100k");
        assert_eq!(cycles_label(1e6), "1M");
        assert_eq!(cycles_label(2500.0), "2500");
    }
}
