//! ISA and privilege programs: each bare-metal program in `tests/programs/`
//! runs under sv39 and must print exactly what QEMU printed (the golden file
//! in `tests/expected/`, and a live QEMU run when QEMU is installed) and end
//! with the same exit status. `SV39_BLESS=1` regenerates the golden files.

mod common;

macro_rules! program_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                common::check_program(stringify!($name));
            }
        )*
    };
}

program_tests!(
    hello,
    exit_code,
    htif_pass,
    htif_fail,
    rv64i,
    rv64m,
    rv64a,
    rv64c,
    rv64f,
    rv64d,
    fcvt,
    smc,
    priv_traps,
    priv_interrupts,
    sv39_walk,
    sv39_priv,
    sv39_ad,
    sv39_tlb,
);

/// The page `tests/programs/sv39_tlb.c` loads from after rewriting its PTE without a fence
/// (`VA_STALE` there).
const SV39_TLB_STALE_VA: u64 = 0x1b_8000;
/// The page it calls after rewriting its PTE without a fence (`VA_CODE` there).
const SV39_TLB_STALE_CODE_VA: u64 = 0x1b_f000;
/// The pages whose PTEs it rewrites: the only ones a stale hit may name.
const SV39_TLB_REWRITTEN_PAGES: [u64; 7] = [
    0x1b_8000, 0x1b_a000, 0x1b_b000, 0x1b_c000, 0x1b_d000, 0x1b_e000, 0x1b_f000,
];

/// `--tlb-check` makes sv39 report every TLB hit whose PTE has changed in memory since the
/// entry was filled. sv39_tlb reads through stale entries on purpose: the report must name
/// them (and only pages the program rewrote), and the guest's output must not change.
#[test]
fn sv39_tlb_with_tlb_check() {
    let (_, stderr) = common::check_program_with_args(
        "sv39_tlb",
        &["--tlb-check"],
        common::Expect::SameAsDefault,
    );
    let hits = common::stale_tlb_hits(&stderr);
    let page = |va: u64| va & !0xfff;
    assert!(
        hits.iter()
            .any(|h| h.tlb == "dTLB" && page(h.va) == SV39_TLB_STALE_VA && h.asid == 1),
        "no stale dTLB hit reported for va={SV39_TLB_STALE_VA:#x} asid=1; stderr:\n{stderr}"
    );
    assert!(
        hits.iter()
            .any(|h| h.tlb == "iTLB" && page(h.va) == SV39_TLB_STALE_CODE_VA),
        "no stale iTLB hit reported for va={SV39_TLB_STALE_CODE_VA:#x}; stderr:\n{stderr}"
    );
    for hit in &hits {
        assert!(
            SV39_TLB_REWRITTEN_PAGES.contains(&page(hit.va)) && hit.now != Some(hit.cached),
            "stale hit on a page whose PTE the program never rewrote: {hit:?}"
        );
    }
}

/// `--ad hardware` is the default: the same transcript as QEMU.
#[test]
fn sv39_ad_with_ad_hardware() {
    common::check_program_with_args(
        "sv39_ad",
        &["--ad", "hardware"],
        common::Expect::SameAsDefault,
    );
}

/// `--ad trap` (Spike's policy): an access that needs A or D set raises a page fault, which
/// sv39_ad's M-mode handler fixes and retries. The PTEs it prints are the same as under
/// hardware update; the count of fixed faults is not, hence the sv39-only golden
/// `tests/expected/sv39_ad.trap.out`.
#[test]
fn sv39_ad_with_ad_trap() {
    let (ours, _) = common::check_program_with_args(
        "sv39_ad",
        &["--ad", "trap"],
        common::Expect::Sv39Only("trap"),
    );
    let text = String::from_utf8_lossy(&ours.stdout);
    let count: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("A/D page faults fixed by the M-mode handler: "))
        .and_then(|n| n.trim().parse().ok())
        .expect("sv39_ad prints its count of A/D faults");
    assert!(count > 0, "--ad trap raised no A/D page fault");
}

/// Every program in tests/programs/ has a test above and a golden file.
#[test]
fn every_program_is_listed() {
    let listed = [
        "hello",
        "exit_code",
        "htif_pass",
        "htif_fail",
        "rv64i",
        "rv64m",
        "rv64a",
        "rv64c",
        "rv64f",
        "rv64d",
        "fcvt",
        "smc",
        "priv_traps",
        "priv_interrupts",
        "sv39_walk",
        "sv39_priv",
        "sv39_ad",
        "sv39_tlb",
    ];
    for entry in std::fs::read_dir(common::programs_dir()).unwrap() {
        let path = entry.unwrap().path();
        let (Some(stem), Some(ext)) = (path.file_stem(), path.extension()) else {
            continue;
        };
        if ext != "c" && ext != "S" {
            continue;
        }
        let stem = stem.to_str().unwrap();
        assert!(
            listed.contains(&stem),
            "tests/programs/{stem}.{} has no #[test] in tests/isa.rs",
            ext.to_str().unwrap()
        );
        assert!(
            common::expected_dir().join(format!("{stem}.out")).exists(),
            "tests/expected/{stem}.out is missing (SV39_BLESS=1 cargo test --test isa)"
        );
    }
}
