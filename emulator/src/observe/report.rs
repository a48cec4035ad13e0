//! The fault reports: the table printed by `--faults`, the `--fault-log` file and the
//! `--fault-plot` histogram.
//!
//! Cycles come from the cost model of a simple in-order core at 1 GHz, so one cycle is one
//! nanosecond. A fault's cycles run from the faulting access (its hardware walk) to the retry
//! of the faulting instruction (see [`super::faults`]), the wait for the disk included; its
//! handler cycles leave the wait out.
//!
//! Percentiles are taken by the nearest-rank method: the p-th percentile of n sorted values is
//! the value of rank ⌈p·n/100⌉ (ranks from 1), so it is always one of the measured values.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, bail};
use serde::Serialize;

use super::{FaultKind, FaultProfile, FaultRecord};

/// The table's width limit, in columns.
const TABLE_WIDTH: usize = 100;
/// How many kernel functions the table lists per kind.
const TOP_FUNCTIONS: usize = 5;

/// Writes the `--faults` summary: one row per kind of fault that occurred, then the kernel
/// functions that took the most cycles for each kind.
pub fn write_table(profile: &FaultProfile, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    out.write_all(render_table(profile).as_bytes())
}

/// Writes one row per fault to `path`: CSV when it ends in `.csv`, JSON lines when it ends in
/// `.jsonl`, `.json-lines` or `.ndjson`.
///
/// Both carry the same fields under the same names, `va` and `pc` as `0x`-prefixed hex. The
/// file is written beside its final name and renamed into place, so a failed write leaves no
/// half file.
pub fn write_log(profile: &FaultProfile, path: &Path) -> anyhow::Result<()> {
    let format = LogFormat::from_path(path)?;
    let mut text = String::new();
    match format {
        LogFormat::Csv => {
            text.push_str(&LOG_COLUMNS.join(","));
            text.push('\n');
            for record in &profile.records {
                text.push_str(&csv_row(record));
                text.push('\n');
            }
        }
        LogFormat::JsonLines => {
            for record in &profile.records {
                let line = serde_json::to_string(&LogRow::from(record))
                    .context("cannot encode a fault as JSON")?;
                text.push_str(&line);
                text.push('\n');
            }
        }
    }
    write_file(path, text.as_bytes())
}

/// Checks, before a run, that `--fault-log` can write `path`: its format, and that a file
/// can be created there.
pub fn check_log_path(path: &Path) -> anyhow::Result<()> {
    LogFormat::from_path(path)?;
    check_writable(path)
}

/// Whether a report can be written at `path`: not a directory, in a directory where files
/// can be created (or a file, pipe or device that can be opened for writing).
fn check_writable(path: &Path) -> anyhow::Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => bail!("{}: is a directory", path.display()),
        Ok(m) if !m.is_file() => {
            std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(plain)
                .with_context(|| format!("cannot write {}", path.display()))?;
            return Ok(());
        }
        _ => {}
    }
    let directory = directory_of(path);
    match std::fs::metadata(directory) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => bail!(
            "cannot create {}: {} is not a directory",
            path.display(),
            directory.display()
        ),
        Err(e) => bail!(
            "cannot create {}: {}: {e}",
            path.display(),
            directory.display()
        ),
    }
    tempfile::Builder::new()
        .prefix(".sv39-check.")
        .tempfile_in(directory)
        .map_err(plain)
        .with_context(|| format!("cannot create {}", path.display()))?;
    Ok(())
}

/// The directory a file at `path` goes in.
fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// An I/O error without the temporary file's name that `tempfile` adds to it.
fn plain(e: std::io::Error) -> std::io::Error {
    e.raw_os_error()
        .map_or_else(|| e.kind().into(), std::io::Error::from_raw_os_error)
}

/// Checks, before a run, that `--fault-plot` can write `path`'s format.
pub fn check_plot_path(path: &Path) -> anyhow::Result<()> {
    if !has_extension(path, &["svg"]) {
        bail!(
            "{}: the fault plot is an SVG file; its name must end in .svg",
            path.display()
        );
    }
    check_writable(path)
}

/// Writes an SVG histogram of the cycles per fault to `path` (which must end in `.svg`): bins
/// on a logarithmic scale, one colour per kind, stacked.
pub fn write_plot(profile: &FaultProfile, path: &Path) -> anyhow::Result<()> {
    check_plot_path(path)?;
    let svg = super::plot::render_svg(profile)
        .with_context(|| format!("cannot draw the fault plot for {}", path.display()))?;
    write_file(path, svg.as_bytes())
}

/// The `p`-th percentile of `sorted` (ascending, not empty) by the nearest-rank method.
fn nearest_rank(sorted: &[u64], p: u64) -> u64 {
    let rank = (p * sorted.len() as u64).div_ceil(100).max(1);
    sorted[(rank - 1) as usize]
}

/// What the table says about one kind.
struct KindSummary {
    kind: FaultKind,
    count: usize,
    major: usize,
    /// Min, median, p90, p99, max of the cycles per fault.
    cycles: [u64; 5],
    median_instructions: u64,
    median_pte_reads: u64,
    median_wait_cycles: u64,
    /// Sum of the handler cycles: what function shares are a share of.
    handler_cycles: u64,
}

impl KindSummary {
    /// The summary of `records` (all of `kind`, at least one).
    fn new(kind: FaultKind, records: &[&FaultRecord]) -> KindSummary {
        let sorted = |field: fn(&FaultRecord) -> u64| {
            let mut values: Vec<u64> = records.iter().map(|r| field(r)).collect();
            values.sort_unstable();
            values
        };
        let median = |field: fn(&FaultRecord) -> u64| nearest_rank(&sorted(field), 50);
        let cycles = sorted(|r| r.cycles);
        KindSummary {
            kind,
            count: records.len(),
            major: records.iter().filter(|r| r.major).count(),
            cycles: [
                cycles[0],
                nearest_rank(&cycles, 50),
                nearest_rank(&cycles, 90),
                nearest_rank(&cycles, 99),
                cycles[cycles.len() - 1],
            ],
            median_instructions: median(|r| r.instructions),
            median_pte_reads: median(|r| r.pte_reads),
            median_wait_cycles: median(|r| r.wait_cycles),
            handler_cycles: records.iter().map(|r| r.handler_cycles()).sum(),
        }
    }
}

/// One summary per kind that occurred, in [`FaultKind::ALL`] order.
fn summarize(profile: &FaultProfile) -> Vec<KindSummary> {
    FaultKind::ALL
        .iter()
        .filter_map(|&kind| {
            let records: Vec<&FaultRecord> =
                profile.records.iter().filter(|r| r.kind == kind).collect();
            (!records.is_empty()).then(|| KindSummary::new(kind, &records))
        })
        .collect()
}

/// A table column: its header, its cells, and on which side it is aligned.
struct Column {
    header: &'static str,
    cells: Vec<String>,
    left: bool,
}

impl Column {
    fn numbers(header: &'static str, values: impl Iterator<Item = u64>) -> Column {
        Column {
            header,
            cells: values.map(|v| v.to_string()).collect(),
            left: false,
        }
    }

    fn width(&self) -> usize {
        self.cells
            .iter()
            .map(|c| c.chars().count())
            .chain([self.header.len()])
            .max()
            .unwrap_or(0)
    }
}

/// Headers over runs of columns: (label, first column, last column).
const GROUPS: [(&str, usize, usize); 2] = [(" cycles per fault ", 3, 7), (" median ", 8, 10)];

/// The whole `--faults` text.
fn render_table(profile: &FaultProfile) -> String {
    let mut text = String::new();
    if profile.records.is_empty() {
        text.push_str("no page faults were taken\n");
        return text;
    }
    let summaries = summarize(profile);
    let major: usize = summaries.iter().map(|s| s.major).sum();
    let _ = writeln!(
        text,
        "page faults: {} ({major} major)",
        profile.records.len()
    );

    let cycles = |i: usize| summaries.iter().map(move |s| s.cycles[i]);
    let columns = [
        Column {
            header: "kind",
            cells: summaries
                .iter()
                .map(|s| s.kind.name().to_string())
                .collect(),
            left: true,
        },
        Column::numbers("faults", summaries.iter().map(|s| s.count as u64)),
        Column::numbers("major", summaries.iter().map(|s| s.major as u64)),
        Column::numbers("min", cycles(0)),
        Column::numbers("median", cycles(1)),
        Column::numbers("p90", cycles(2)),
        Column::numbers("p99", cycles(3)),
        Column::numbers("max", cycles(4)),
        Column::numbers("instrs", summaries.iter().map(|s| s.median_instructions)),
        Column::numbers("PTE reads", summaries.iter().map(|s| s.median_pte_reads)),
        Column::numbers("disk wait", summaries.iter().map(|s| s.median_wait_cycles)),
    ];
    let widths: Vec<usize> = columns.iter().map(Column::width).collect();
    // Two spaces between columns, one when that would not fit.
    let total = |gap: usize| widths.iter().sum::<usize>() + gap * (widths.len() - 1);
    let gap = if total(2) <= TABLE_WIDTH { 2 } else { 1 };

    // The group headers: each label centred in dashes over its columns. The columns' headers
    // alone are wider than the labels, so a label always fits its span.
    let mut line = String::new();
    for (label, first, last) in GROUPS {
        let start: usize = widths[..first].iter().map(|w| w + gap).sum();
        let span = widths[first..=last].iter().sum::<usize>() + gap * (last - first);
        let _ = write!(line, "{:pad$}{label:-^span$}", "", pad = start - line.len());
    }
    text.push_str(line.trim_end());
    text.push('\n');

    let row = |cell: &dyn Fn(&Column) -> &str| {
        let mut line = String::new();
        for (index, (column, &width)) in columns.iter().zip(&widths).enumerate() {
            if index > 0 {
                line.push_str(&" ".repeat(gap));
            }
            if column.left {
                let _ = write!(line, "{:<width$}", cell(column));
            } else {
                let _ = write!(line, "{:>width$}", cell(column));
            }
        }
        line.trim_end().to_string()
    };
    text.push_str(&row(&|c| c.header));
    text.push('\n');
    for i in 0..summaries.len() {
        text.push_str(&row(&|c| c.cells[i].as_str()));
        text.push('\n');
    }
    text.push_str(
        "cycles: from the faulting access to its retry, the wait for the disk included (1 cycle = 1 ns);\n\
         percentiles by nearest rank; instrs, PTE reads, disk wait (cycles): medians per fault\n",
    );
    let records = &profile.records;
    let nested: u64 = records.iter().map(|r| r.nested_traps).sum();
    let with_nested = records.iter().filter(|r| r.nested_traps > 0).count();
    let waited = records.iter().filter(|r| r.wait_cycles > 0).count();
    let requests: u64 = records.iter().map(|r| r.disk_requests).sum();
    let _ = writeln!(
        text,
        "nested traps: {nested} in {with_nested} faults (firmware calls, interrupts); \
         {waited} faults waited; {requests} disk requests"
    );

    text.push('\n');
    render_functions(profile, &summaries, &mut text);
    text
}

/// The per-kind list of the kernel functions with the most cycles.
fn render_functions(profile: &FaultProfile, summaries: &[KindSummary], text: &mut String) {
    if !profile.symbols {
        text.push_str("kernel functions: not shown, kernel symbols were not available\n");
        return;
    }
    let top: Vec<Vec<(&str, u64)>> = summaries
        .iter()
        .map(|s| {
            let mut functions: Vec<(&str, u64)> = profile
                .functions
                .get(&s.kind)
                .into_iter()
                .flatten()
                .map(|(name, &cycles)| (name.as_str(), cycles))
                .collect();
            // Stable: ties stay in name order.
            functions.sort_by_key(|&(_, cycles)| std::cmp::Reverse(cycles));
            functions.truncate(TOP_FUNCTIONS);
            functions
        })
        .collect();
    let cycles_width = top
        .iter()
        .flatten()
        .map(|(_, cycles)| cycles.to_string().len())
        .max()
        .unwrap_or(1);
    const SHARE_WIDTH: usize = "100.0%".len();
    const INDENT: &str = "  ";
    let name_width = TABLE_WIDTH - INDENT.len() - SHARE_WIDTH - 2 - cycles_width - 2;

    let _ = writeln!(
        text,
        "kernel functions, top {TOP_FUNCTIONS} per kind by cycles \
         (% of the kind's handler cycles, no disk wait)"
    );
    for (summary, functions) in summaries.iter().zip(&top) {
        let _ = writeln!(text, "{}", summary.kind.name());
        if functions.is_empty() {
            let _ = writeln!(text, "{INDENT}(no cycles attributed to kernel functions)");
        }
        for &(name, cycles) in functions {
            let share = if summary.handler_cycles == 0 {
                "-".to_string()
            } else {
                format!(
                    "{:.1}%",
                    cycles as f64 * 100.0 / summary.handler_cycles as f64
                )
            };
            let _ = writeln!(
                text,
                "{INDENT}{share:>SHARE_WIDTH$}  {cycles:>cycles_width$}  {}",
                shorten_path(name, name_width)
            );
        }
    }
}

/// `name` in at most `width` characters: whole leading `::` segments dropped (outside `<...>`,
/// so a generic argument is never cut in half) and replaced by `..::`; a last segment still too
/// long keeps its end.
fn shorten_path(name: &str, width: usize) -> String {
    const ELISION: &str = "..";
    let length = |s: &str| s.chars().count();
    if length(name) <= width {
        return name.to_string();
    }
    let mut depth = 0i32;
    let mut cuts = Vec::new();
    let bytes = name.as_bytes();
    for (i, &byte) in bytes.iter().enumerate() {
        match byte {
            b'<' => depth += 1,
            b'>' if i > 0 && bytes[i - 1] != b'-' => depth -= 1,
            b':' if depth == 0 && i > 0 && bytes[i - 1] == b':' => cuts.push(i - 1),
            _ => {}
        }
    }
    for cut in cuts {
        let rest = &name[cut..];
        if ELISION.len() + length(rest) <= width {
            return format!("{ELISION}{rest}");
        }
    }
    let keep = width.saturating_sub(ELISION.len());
    let tail: String = name.chars().skip(length(name) - keep).collect();
    format!("{ELISION}{tail}")
}

/// The log's columns, in order; the JSON objects carry the same keys.
const LOG_COLUMNS: [&str; 17] = [
    "n",
    "pid",
    "kind",
    "major",
    "va",
    "pc",
    "access",
    "start_cycle",
    "cycles",
    "handler_cycles",
    "instructions",
    "pte_reads",
    "tlb_misses",
    "disk_requests",
    "wait_cycles",
    "nested_traps",
    "segments",
];

/// The formats `--fault-log` writes.
enum LogFormat {
    Csv,
    JsonLines,
}

impl LogFormat {
    /// The format named by the path's extension.
    fn from_path(path: &Path) -> anyhow::Result<LogFormat> {
        if has_extension(path, &["csv"]) {
            Ok(LogFormat::Csv)
        } else if has_extension(path, &["jsonl", "json-lines", "ndjson"]) {
            Ok(LogFormat::JsonLines)
        } else {
            bail!(
                "{}: unknown fault log format; the name must end in .csv, .jsonl, .json-lines \
                 or .ndjson",
                path.display()
            )
        }
    }
}

/// Whether `path`'s extension is one of `extensions` (lower case; compared ignoring case).
fn has_extension(path: &Path, extensions: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// One line of the CSV log, in [`LOG_COLUMNS`] order.
fn csv_row(r: &FaultRecord) -> String {
    format!(
        "{},{},{},{},{:#x},{:#x},{},{},{},{},{},{},{},{},{},{},{}",
        r.n,
        r.pid,
        r.kind.name(),
        u8::from(r.major),
        r.va,
        r.pc,
        r.access.name(),
        r.start_cycle,
        r.cycles,
        r.handler_cycles(),
        r.instructions,
        r.pte_reads,
        r.tlb_misses,
        r.disk_requests,
        r.wait_cycles,
        r.nested_traps,
        r.segments,
    )
}

/// One JSON line of the log: the fields of [`LOG_COLUMNS`], in that order.
#[derive(Serialize)]
struct LogRow {
    n: u64,
    pid: u32,
    kind: &'static str,
    major: bool,
    va: String,
    pc: String,
    access: &'static str,
    start_cycle: u64,
    cycles: u64,
    handler_cycles: u64,
    instructions: u64,
    pte_reads: u64,
    tlb_misses: u64,
    disk_requests: u64,
    wait_cycles: u64,
    nested_traps: u64,
    segments: u32,
}

impl From<&FaultRecord> for LogRow {
    fn from(r: &FaultRecord) -> LogRow {
        LogRow {
            n: r.n,
            pid: r.pid,
            kind: r.kind.name(),
            major: r.major,
            va: format!("{:#x}", r.va),
            pc: format!("{:#x}", r.pc),
            access: r.access.name(),
            start_cycle: r.start_cycle,
            cycles: r.cycles,
            handler_cycles: r.handler_cycles(),
            instructions: r.instructions,
            pte_reads: r.pte_reads,
            tlb_misses: r.tlb_misses,
            disk_requests: r.disk_requests,
            wait_cycles: r.wait_cycles,
            nested_traps: r.nested_traps,
            segments: r.segments,
        }
    }
}

/// Writes `contents` to `path`. A regular file (or a new one) is written beside its name and
/// renamed into place, so that a failed write leaves the old file or none; anything else (a
/// pipe, a device, a symbolic link) is written through.
fn write_file(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let in_place = match std::fs::symlink_metadata(path) {
        Ok(metadata) => !metadata.file_type().is_file(),
        Err(_) => false,
    };
    if in_place {
        return std::fs::write(path, contents)
            .with_context(|| format!("cannot write {}", path.display()));
    }
    let directory = directory_of(path);
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let mut file = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".partial")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(directory)
        .map_err(plain)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(contents)
        .and_then(|()| file.flush())
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
