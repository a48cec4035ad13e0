//! Unit tests of the fault reports: the table's numbers and layout, the log formats, the
//! plot, and refused paths.

use std::collections::BTreeMap;

use super::*;
use crate::observe::FaultAccess;

fn record(n: u64, kind: FaultKind, cycles: u64) -> FaultRecord {
    FaultRecord {
        n,
        pid: 3,
        kind,
        major: false,
        va: 0x4000_0000 + n * 0x1000,
        pc: 0x1_0074,
        access: FaultAccess::Store,
        start_cycle: n * 1_000_000,
        cycles,
        instructions: cycles / 4,
        pte_reads: 3,
        tlb_misses: 2,
        disk_requests: 0,
        wait_cycles: 0,
        nested_traps: 0,
        segments: 1,
    }
}

/// 100 demand-zero faults of 1..=100 cycles (shuffled) and two swap-ins.
fn profile() -> FaultProfile {
    let mut records: Vec<FaultRecord> = (1..=100u64)
        .map(|i| record(i, FaultKind::DemandZero, (i * 37) % 100 + 1))
        .collect();
    for (n, cycles, wait) in [(101, 25_000, 20_000), (102, 31_000, 24_000)] {
        records.push(FaultRecord {
            major: true,
            disk_requests: 1,
            wait_cycles: wait,
            segments: 2,
            instructions: 900,
            ..record(n, FaultKind::SwapIn, cycles)
        });
    }
    let mut functions = BTreeMap::new();
    functions.insert(
        FaultKind::DemandZero,
        BTreeMap::from([
            (
                "sv39_kernel::mm::space::AddressSpace::handle_fault".to_string(),
                1_010,
            ),
            ("sv39_kernel::mm::frame::zero".to_string(), 2_525),
            ("a".to_string(), 5),
            ("b".to_string(), 4),
            ("c".to_string(), 4),
            ("d".to_string(), 3),
            ("e".to_string(), 1),
        ]),
    );
    functions.insert(
        FaultKind::SwapIn,
        BTreeMap::from([("sv39_kernel::swap::read".to_string(), 6_000)]),
    );
    FaultProfile {
        records,
        functions,
        symbols: true,
    }
}

fn table(profile: &FaultProfile) -> String {
    let mut out = Vec::new();
    write_table(profile, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn cells(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

#[test]
fn nearest_rank_percentiles() {
    let values: Vec<u64> = (1..=100).collect();
    assert_eq!(nearest_rank(&values, 50), 50);
    assert_eq!(nearest_rank(&values, 90), 90);
    assert_eq!(nearest_rank(&values, 99), 99);
    assert_eq!(nearest_rank(&values, 100), 100);
    assert_eq!(nearest_rank(&values, 0), 1);
    // Rank ⌈p·n/100⌉: of 10, 20, 30, 40 the median is the 2nd and p90 the 4th.
    assert_eq!(nearest_rank(&[10, 20, 30, 40], 50), 20);
    assert_eq!(nearest_rank(&[10, 20, 30, 40], 90), 40);
    assert_eq!(nearest_rank(&[7], 99), 7);
}

#[test]
fn table_rows() {
    let text = table(&profile());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "page faults: 102 (2 major)");
    assert!(lines[1].contains("- cycles per fault -"), "{text}");
    assert_eq!(
        cells(lines[2]),
        [
            "kind", "faults", "major", "min", "median", "p90", "p99", "max", "instrs", "PTE",
            "reads", "disk", "wait"
        ]
    );
    // instructions are cycles / 4: the median of 0..=25 by nearest rank is 12.
    assert_eq!(
        cells(lines[3]),
        [
            "demand-zero",
            "100",
            "0",
            "1",
            "50",
            "90",
            "99",
            "100",
            "12",
            "3",
            "0"
        ]
    );
    // Two values: the median is the first, p90 and p99 the second.
    assert_eq!(
        cells(lines[4]),
        [
            "swap-in", "2", "2", "25000", "25000", "31000", "31000", "31000", "900", "3", "20000"
        ]
    );
    assert!(lines[5].starts_with("cycles: from the faulting access to its retry"));
    assert!(text.contains("percentiles by nearest rank"));
}

#[test]
fn table_is_aligned_and_narrow() {
    let text = table(&profile());
    let lines: Vec<&str> = text.lines().collect();
    // Right-aligned numbers: every row of the table ends its columns where the header does.
    let header = lines[2];
    let ends = |line: &str| -> Vec<usize> {
        let bytes = line.as_bytes();
        (0..bytes.len())
            .filter(|&i| bytes[i] != b' ' && (i + 1 == bytes.len() || bytes[i + 1] == b' '))
            .collect()
    };
    let mut header_ends = ends(header);
    // "PTE reads" and "disk wait" are one column each.
    header_ends.retain(|&i| !header[..=i].ends_with("PTE") && !header[..=i].ends_with("disk"));
    for row in &lines[3..5] {
        assert_eq!(ends(row)[1..], header_ends[1..], "{text}");
    }
    for line in text.lines() {
        assert!(line.chars().count() <= TABLE_WIDTH, "too wide: {line}");
    }
    assert_eq!(text, table(&profile()));
}

#[test]
fn table_functions() {
    let text = table(&profile());
    let start = text.find("kernel functions, top 5").unwrap();
    let lines: Vec<Vec<&str>> = text[start..].lines().skip(1).map(cells).collect();
    // Demand-zero handler cycles: 1 + 2 + ... + 100 = 5050.
    assert_eq!(lines[0], ["demand-zero"]);
    assert_eq!(lines[1], ["50.0%", "2525", "sv39_kernel::mm::frame::zero"]);
    assert_eq!(
        lines[2],
        [
            "20.0%",
            "1010",
            "sv39_kernel::mm::space::AddressSpace::handle_fault"
        ]
    );
    assert_eq!(lines[3], ["0.1%", "5", "a"]);
    // A tie keeps name order; the sixth and seventh are left out.
    assert_eq!(lines[4], ["0.1%", "4", "b"]);
    assert_eq!(lines[5], ["0.1%", "4", "c"]);
    assert_eq!(lines[6], ["swap-in"]);
    // Swap-in handler cycles: 5000 + 7000, the disk wait left out.
    assert_eq!(lines[7], ["50.0%", "6000", "sv39_kernel::swap::read"]);
    assert_eq!(lines.len(), 8);
}

#[test]
fn table_without_symbols() {
    let mut profile = profile();
    profile.symbols = false;
    profile.functions.clear();
    let text = table(&profile);
    assert!(
        text.ends_with("kernel symbols were not available\n"),
        "{text}"
    );
    assert!(!text.contains("sv39_kernel"));
}

#[test]
fn table_of_nothing() {
    let text = table(&FaultProfile::default());
    assert_eq!(text.lines().count(), 1);
    assert!(text.contains("no page faults were taken"));
}

#[test]
fn long_function_names_lose_leading_segments() {
    let name = "sv39_kernel::mm::space::AddressSpace::handle_fault";
    assert_eq!(shorten_path(name, 100), name);
    assert_eq!(shorten_path(name, 30), "..::AddressSpace::handle_fault");
    assert_eq!(shorten_path(name, 29), "..::handle_fault");
    assert_eq!(shorten_path(name, 8), ".._fault");
    let generic = "<alloc::vec::Vec<u8> as core::ops::Drop>::drop";
    assert_eq!(shorten_path(generic, 20), "..::drop");

    let mut profile = profile();
    let long = format!("{}::{name}", "very_long_crate_name".repeat(4));
    profile
        .functions
        .get_mut(&FaultKind::SwapIn)
        .unwrap()
        .insert(long, 9_999);
    let text = table(&profile);
    assert!(text.contains("  ..::sv39_kernel::mm::space::AddressSpace::handle_fault\n"));
    assert!(text.lines().all(|l| l.chars().count() <= TABLE_WIDTH));
}

#[test]
fn csv_log() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("faults.csv");
    write_log(&profile(), &path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "n,pid,kind,major,va,pc,access,start_cycle,cycles,handler_cycles,instructions,\
         pte_reads,tlb_misses,disk_requests,wait_cycles,nested_traps,segments"
    );
    assert_eq!(lines.len(), 103);
    assert_eq!(
        lines[102],
        "102,3,swap-in,1,0x40066000,0x10074,store,102000000,31000,7000,900,3,2,1,24000,0,2"
    );
    // Nothing left beside it.
    assert_eq!(std::fs::read_dir(directory.path()).unwrap().count(), 1);
}

#[test]
fn json_lines_log_reads_back() {
    let directory = tempfile::tempdir().unwrap();
    let profile = profile();
    for name in ["faults.jsonl", "faults.json-lines", "faults.NDJSON"] {
        let path = directory.path().join(name);
        write_log(&profile, &path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), profile.records.len());
        for (line, r) in text.lines().zip(&profile.records) {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            let object = value.as_object().unwrap();
            let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
            let mut columns = LOG_COLUMNS.to_vec();
            keys.sort_unstable();
            columns.sort_unstable();
            assert_eq!(keys, columns);
            let hex = |key: &str| {
                let text = value[key].as_str().unwrap().strip_prefix("0x").unwrap();
                u64::from_str_radix(text, 16).unwrap()
            };
            assert_eq!(hex("va"), r.va);
            assert_eq!(hex("pc"), r.pc);
            assert_eq!(value["n"], r.n);
            assert_eq!(value["pid"], r.pid);
            assert_eq!(value["kind"], r.kind.name());
            assert_eq!(value["major"], r.major);
            assert_eq!(value["access"], r.access.name());
            assert_eq!(value["start_cycle"], r.start_cycle);
            assert_eq!(value["cycles"], r.cycles);
            assert_eq!(value["handler_cycles"], r.cycles - r.wait_cycles);
            assert_eq!(value["instructions"], r.instructions);
            assert_eq!(value["pte_reads"], r.pte_reads);
            assert_eq!(value["tlb_misses"], r.tlb_misses);
            assert_eq!(value["disk_requests"], r.disk_requests);
            assert_eq!(value["wait_cycles"], r.wait_cycles);
            assert_eq!(value["nested_traps"], r.nested_traps);
            assert_eq!(value["segments"], r.segments);
        }
    }
    // The keys come in the CSV's order.
    let text = std::fs::read_to_string(directory.path().join("faults.jsonl")).unwrap();
    assert!(text.starts_with(
        "{\"n\":1,\"pid\":3,\"kind\":\"demand-zero\",\"major\":false,\"va\":\"0x40001000\""
    ));
}

#[test]
fn unknown_extensions_are_refused_before_writing() {
    let directory = tempfile::tempdir().unwrap();
    for name in ["faults.txt", "faults", "faults.json"] {
        let path = directory.path().join(name);
        let error = write_log(&profile(), &path).unwrap_err().to_string();
        assert!(error.contains(&path.display().to_string()), "{error}");
        assert!(
            error.contains(".csv, .jsonl, .json-lines or .ndjson"),
            "{error}"
        );
        let error = write_plot(&profile(), &path).unwrap_err().to_string();
        assert!(error.contains(&path.display().to_string()), "{error}");
        assert!(error.contains(".svg"), "{error}");
    }
    assert_eq!(std::fs::read_dir(directory.path()).unwrap().count(), 0);
}

#[test]
fn write_errors_name_the_path() {
    let path = Path::new("/nonexistent-sv39-directory/faults.csv");
    let error = format!("{:#}", write_log(&profile(), path).unwrap_err());
    assert!(
        error.contains("/nonexistent-sv39-directory/faults.csv"),
        "{error}"
    );
}

#[test]
fn svg_plot() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("faults.svg");
    let profile = profile();
    write_plot(&profile, &path).unwrap();
    let first = std::fs::read(&path).unwrap();
    write_plot(&profile, &path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), first);
    let text = String::from_utf8(first).unwrap();
    assert!(text.starts_with("<svg"), "{text}");
    assert!(text.trim_end().ends_with("</svg>"));
    assert!(text.contains("demand-zero (100)"));
    assert!(text.contains("swap-in (2)"));
    assert!(!text.contains("cow-copy"));
    assert!(
        text.contains("cycles per fault (1 cycle = 1 ns; logarithmic scale, 8 bins per decade)")
    );
    assert!(text.contains(">\nfaults\n<"));
    assert_eq!(text.matches("<svg").count(), text.matches("</svg>").count());
}

#[test]
fn svg_plot_of_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("faults.SVG");
    write_plot(&FaultProfile::default(), &path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("<svg"));
    assert!(text.contains("no page faults were taken"));
}
