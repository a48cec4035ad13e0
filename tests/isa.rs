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
);

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
