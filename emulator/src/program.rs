//! Program mode: what `sv39 run PROGRAM [ARGS...]` hands the guest kernel so that it runs
//! one static Linux riscv64 program.
//!
//! The contract with the kernel:
//! - an **initramfs** (a cpio newc archive, see [`crate::initramfs`]) holding the program,
//!   and the `--file`s, announced in `/chosen` as `linux,initrd-start` / `linux,initrd-end`,
//!   exactly as `--initrd` is;
//! - `/chosen/sv39,init-argv` and `/chosen/sv39,init-envp`, each a device-tree string list
//!   (NUL-separated strings): the kernel starts the first process with cwd `/` and execs
//!   `argv[0]` with these;
//! - the host I/O device ([`crate::devices::hostio`]) for the program's stdin, stdout and
//!   stderr;
//! - the exit status: the kernel powers off through SBI SRST with reason
//!   `0xF000_0000 + status`, which the firmware turns into the host's exit status (128 +
//!   signal for a program killed by a signal).
//!
//! Paths: the program goes into the guest at [`guest_path`] of the path as typed (`./hello`
//! is `/hello`, `build/hello` is `/build/hello`, `../x` is `/x`) and `argv[0]` is the path as
//! typed, so it resolves to the same file from `/`. An example built into sv39 goes to
//! `/bin/NAME` with that as `argv[0]`.
//!
//! Before any of that, the host checks the program itself ([`check_elf`]): a static
//! 64-bit RISC-V ELF, complete. The kernel checks too, but a host message is faster and
//! names the file as the user typed it.

use std::path::{Path, PathBuf};

use goblin::container::{Container, Ctx, Endian};
use goblin::elf::program_header::{PT_INTERP, PT_LOAD};
use goblin::elf::{Elf, ProgramHeader, header};

use crate::fdt::InitCommand;
use crate::initramfs::{Initramfs, InitramfsError};

/// The environment the program starts with before `--env`: a fixed, documented set,
/// nothing taken from the host, so runs do not depend on who runs them.
pub const DEFAULT_ENV: &[(&str, &str)] = &[
    ("PATH", "/usr/local/bin:/usr/bin:/bin"),
    ("HOME", "/"),
    ("TERM", "dumb"),
];

/// Where the examples built into sv39 live in the guest.
pub const EXAMPLES_GUEST_DIR: &str = "/bin";

/// The program to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgramSource {
    /// A host file, by the path the user typed.
    Path(String),
    /// An example program built into sv39, by name.
    Example(String),
}

/// Everything the command line says about program mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramSpec {
    /// The program.
    pub program: ProgramSource,
    /// Its arguments after `argv[0]`.
    pub args: Vec<String>,
    /// `--file HOST[:GUEST]` values, in order.
    pub files: Vec<String>,
    /// `--env KEY=VALUE` values, in order.
    pub env: Vec<String>,
}

/// What the machine needs to run the program: the initramfs and the first command.
#[derive(Debug, Clone)]
pub struct PreparedProgram {
    /// The cpio newc archive.
    pub initramfs: Vec<u8>,
    /// `argv` and `envp` for `/chosen`.
    pub init: InitCommand,
}

/// Why a program cannot run (each message is one line naming the file or value).
#[derive(Debug, thiserror::Error)]
pub enum ProgramError {
    /// A host file could not be read.
    #[error("{path}: {io}")]
    Read {
        /// The file, as typed.
        path: PathBuf,
        /// The host's error.
        io: std::io::Error,
    },
    /// Not an ELF file at all.
    #[error("{path}: not an ELF file; sv39 runs static riscv64 Linux programs")]
    NotElf {
        /// The file.
        path: String,
    },
    /// The file ends before the part of the ELF named here.
    #[error("{path}: truncated ELF file ({what} ends past the file's {len} bytes)")]
    Truncated {
        /// The file.
        path: String,
        /// What is cut off.
        what: String,
        /// The file's length.
        len: usize,
    },
    /// An ELF, but for another machine (or 32-bit, or big-endian, RISC-V).
    #[error("{path}: is an ELF for {machine}, not 64-bit RISC-V (riscv64)")]
    WrongMachine {
        /// The file.
        path: String,
        /// The machine it is for, e.g. "x86-64".
        machine: String,
    },
    /// An ELF that is not an executable (an object file, a core dump).
    #[error("{path}: is {kind}, not an executable program")]
    NotExecutable {
        /// The file.
        path: String,
        /// What it is instead.
        kind: &'static str,
    },
    /// A dynamically linked program: sv39 has no dynamic loader or shared libraries.
    #[error(
        "{path}: is dynamically linked (interpreter {interpreter}); \
         sv39 runs static programs: build with -static"
    )]
    Dynamic {
        /// The file.
        path: String,
        /// Its `PT_INTERP`.
        interpreter: String,
    },
    /// An ELF with nothing to load.
    #[error("{path}: has no loadable segments")]
    NoSegments {
        /// The file.
        path: String,
    },
    /// `--example` names no example.
    #[error("--example {name}: no such example (examples: {known})")]
    UnknownExample {
        /// The name given.
        name: String,
        /// The names that exist, comma-separated.
        known: String,
    },
    /// A path that is nothing inside the guest (such as `.` or `/`).
    #[error("{0}: does not name a file in the guest")]
    NoGuestPath(String),
    /// An empty host path in `--file`.
    #[error("--file {0}: expected HOST[:GUEST]")]
    BadFileSpec(String),
    /// A `--file` names a directory.
    #[error("--file {0}: is a directory; --file takes regular files")]
    FileIsDirectory(String),
    /// `--env` without `=` or with an empty name.
    #[error("--env {0}: expected KEY=VALUE")]
    BadEnv(String),
    /// The archive refused a file (two files at one path, ...).
    #[error(transparent)]
    Initramfs(#[from] InitramfsError),
}

/// The absolute guest path of a path typed on the host: `"/" + typed`, with `.` and empty
/// components dropped and `..` taking one component off (never above `/`).
pub fn guest_path(typed: &str) -> Result<String, ProgramError> {
    let mut parts: Vec<&str> = Vec::new();
    for component in typed.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            name => parts.push(name),
        }
    }
    if parts.is_empty() {
        return Err(ProgramError::NoGuestPath(typed.to_string()));
    }
    Ok(format!("/{}", parts.join("/")))
}

/// The program's environment: [`DEFAULT_ENV`] with each `KEY=VALUE` of `overrides`
/// replacing the variable of the same name in place, or appended when new; the last of
/// several for one name wins.
pub fn environment(overrides: &[String]) -> Result<Vec<String>, ProgramError> {
    let mut vars: Vec<(String, String)> = DEFAULT_ENV
        .iter()
        .map(|&(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for spec in overrides {
        let Some((key, value)) = spec.split_once('=') else {
            return Err(ProgramError::BadEnv(spec.clone()));
        };
        if key.is_empty() {
            return Err(ProgramError::BadEnv(spec.clone()));
        }
        match vars.iter_mut().find(|(k, _)| k == key) {
            Some(var) => var.1 = value.to_string(),
            None => vars.push((key.to_string(), value.to_string())),
        }
    }
    Ok(vars.into_iter().map(|(k, v)| format!("{k}={v}")).collect())
}

/// Reads, checks and packs everything `spec` names.
pub fn prepare(spec: &ProgramSpec) -> Result<PreparedProgram, ProgramError> {
    let (bytes, guest, argv0) = match &spec.program {
        ProgramSource::Path(typed) => {
            let bytes = read(Path::new(typed))?;
            (bytes, guest_path(typed)?, typed.clone())
        }
        ProgramSource::Example(name) => {
            let bytes =
                crate::images::example(name).ok_or_else(|| ProgramError::UnknownExample {
                    name: name.clone(),
                    known: crate::images::EXAMPLE_NAMES.join(", "),
                })?;
            let path = format!("{EXAMPLES_GUEST_DIR}/{name}");
            (bytes.to_vec(), path.clone(), path)
        }
    };
    let shown = match &spec.program {
        ProgramSource::Path(typed) => typed.clone(),
        ProgramSource::Example(name) => format!("example {name}"),
    };
    check_elf(&shown, &bytes)?;
    let envp = environment(&spec.env)?;

    let mut archive = Initramfs::new();
    archive.add_file(&guest, bytes, 0o755)?;
    for file in &spec.files {
        let (host, guest) = match file.split_once(':') {
            Some((host, guest)) => (host, guest_path(guest)?),
            None => (file.as_str(), guest_path(file)?),
        };
        if host.is_empty() {
            return Err(ProgramError::BadFileSpec(file.clone()));
        }
        let host = Path::new(host);
        if host.is_dir() {
            return Err(ProgramError::FileIsDirectory(file.clone()));
        }
        let data = read(host)?;
        archive.add_file(&guest, data, permissions(host))?;
    }

    let mut argv = vec![argv0];
    argv.extend(spec.args.iter().cloned());
    Ok(PreparedProgram {
        initramfs: archive.to_bytes(),
        init: InitCommand { argv, envp },
    })
}

fn read(path: &Path) -> Result<Vec<u8>, ProgramError> {
    std::fs::read(path).map_err(|io| ProgramError::Read {
        path: path.to_path_buf(),
        io,
    })
}

/// The host file's permission bits (`0o644` where the host has none to give).
fn permissions(path: &Path) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            return meta.permissions().mode() & 0o777;
        }
    }
    let _ = path;
    0o644
}

/// Checks that `bytes` is a program sv39 can run: an ELF executable, 64-bit little-endian
/// RISC-V, statically linked, with its program headers and loadable segments all inside
/// the file. `name` is how errors name it. Never panics, whatever the bytes.
pub fn check_elf(name: &str, bytes: &[u8]) -> Result<(), ProgramError> {
    let path = || name.to_string();
    let truncated = |what: &str| ProgramError::Truncated {
        path: path(),
        what: what.to_string(),
        len: bytes.len(),
    };
    if bytes.len() < 4 || &bytes[..4] != header::ELFMAG {
        return Err(ProgramError::NotElf { path: path() });
    }
    // The identification bytes and e_machine sit at the same offsets in both classes.
    if bytes.len() < 20 {
        return Err(truncated("the ELF header"));
    }
    let class = bytes[header::EI_CLASS];
    let little = match bytes[header::EI_DATA] {
        header::ELFDATA2LSB => true,
        header::ELFDATA2MSB => false,
        _ => return Err(ProgramError::NotElf { path: path() }),
    };
    let machine = if little {
        u16::from_le_bytes([bytes[18], bytes[19]])
    } else {
        u16::from_be_bytes([bytes[18], bytes[19]])
    };
    if class != header::ELFCLASS64 || !little || machine != header::EM_RISCV {
        let mut found = machine_name(machine, class == header::ELFCLASS32);
        if !little {
            found.push_str(" (big-endian)");
        }
        return Err(ProgramError::WrongMachine {
            path: path(),
            machine: found,
        });
    }
    if bytes.len() < header::header64::SIZEOF_EHDR {
        return Err(truncated("the ELF header"));
    }
    let ehdr = Elf::parse_header(bytes).map_err(|_| truncated("the ELF header"))?;
    match ehdr.e_type {
        header::ET_EXEC | header::ET_DYN => {}
        header::ET_REL => {
            return Err(ProgramError::NotExecutable {
                path: path(),
                kind: "a relocatable object file (link it)",
            });
        }
        header::ET_CORE => {
            return Err(ProgramError::NotExecutable {
                path: path(),
                kind: "a core dump",
            });
        }
        _ => {
            return Err(ProgramError::NotExecutable {
                path: path(),
                kind: "an ELF file of unknown type",
            });
        }
    }
    let ctx = Ctx::new(Container::Big, Endian::Little);
    let entsize = ProgramHeader::size(ctx) as u64;
    if u64::from(ehdr.e_phentsize) != entsize && ehdr.e_phnum != 0 {
        return Err(ProgramError::NotElf { path: path() });
    }
    let table_end = u64::from(ehdr.e_phnum)
        .checked_mul(entsize)
        .and_then(|n| n.checked_add(ehdr.e_phoff));
    let in_file = |end: Option<u64>| end.is_some_and(|end| end <= bytes.len() as u64);
    if !in_file(table_end) {
        return Err(truncated("the program header table"));
    }
    let phdrs = ProgramHeader::parse(bytes, ehdr.e_phoff as usize, ehdr.e_phnum.into(), ctx)
        .map_err(|_| truncated("the program header table"))?;
    let file_range = |ph: &ProgramHeader| {
        let end = ph.p_offset.checked_add(ph.p_filesz);
        in_file(end).then(|| ph.p_offset as usize..(ph.p_offset + ph.p_filesz) as usize)
    };
    if let Some(interp) = phdrs.iter().find(|ph| ph.p_type == PT_INTERP) {
        let range = file_range(interp).ok_or_else(|| truncated("the interpreter name"))?;
        let raw = &bytes[range];
        let raw = raw.split(|&b| b == 0).next().unwrap_or_default();
        return Err(ProgramError::Dynamic {
            path: path(),
            interpreter: String::from_utf8_lossy(raw).into_owned(),
        });
    }
    let mut loads = 0;
    for ph in phdrs.iter().filter(|ph| ph.p_type == PT_LOAD) {
        loads += 1;
        if file_range(ph).is_none() {
            return Err(truncated(&format!(
                "the segment at file offset {:#x}..{:#x}",
                ph.p_offset,
                ph.p_offset.saturating_add(ph.p_filesz)
            )));
        }
    }
    if loads == 0 {
        return Err(ProgramError::NoSegments { path: path() });
    }
    Ok(())
}

/// A machine's usual name, as users know it (`uname -m` style where there is one).
fn machine_name(machine: u16, class32: bool) -> String {
    let name = match machine {
        header::EM_RISCV if class32 => "32-bit RISC-V (riscv32)",
        header::EM_RISCV => "RISC-V",
        header::EM_X86_64 => "x86-64",
        header::EM_386 => "x86 (i386)",
        header::EM_AARCH64 => "AArch64 (arm64)",
        header::EM_ARM => "ARM",
        header::EM_MIPS => "MIPS",
        header::EM_PPC => "PowerPC",
        header::EM_PPC64 => "PowerPC64",
        header::EM_S390 => "s390x",
        header::EM_LOONGARCH => "LoongArch",
        header::EM_SPARC => "SPARC",
        header::EM_SPARCV9 => "SPARC64",
        header::EM_NONE => "no machine (EM_NONE)",
        other => return format!("machine {other} ({})", header::machine_to_str(other)),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PT_DYNAMIC: u32 = 2;

    /// A little-endian ELF64 with the given header fields and program headers
    /// `(p_type, p_offset, p_filesz)`, followed by `tail`.
    fn elf(machine: u16, e_type: u16, phdrs: &[(u32, u64, u64)], tail: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(b"\x7fELF");
        b.extend_from_slice(&[2, 1, 1, 0]); // ELFCLASS64, little-endian, version 1, SysV
        b.extend_from_slice(&[0; 8]);
        b.extend_from_slice(&e_type.to_le_bytes());
        b.extend_from_slice(&machine.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes()); // e_version
        b.extend_from_slice(&0x1_0000u64.to_le_bytes()); // e_entry
        b.extend_from_slice(&64u64.to_le_bytes()); // e_phoff
        b.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
        b.extend_from_slice(&0u32.to_le_bytes()); // e_flags
        b.extend_from_slice(&64u16.to_le_bytes()); // e_ehsize
        b.extend_from_slice(&56u16.to_le_bytes()); // e_phentsize
        b.extend_from_slice(&(phdrs.len() as u16).to_le_bytes());
        b.extend_from_slice(&[64, 0, 0, 0, 0, 0]); // e_shentsize, e_shnum, e_shstrndx
        assert_eq!(b.len(), 64);
        for &(p_type, offset, filesz) in phdrs {
            b.extend_from_slice(&p_type.to_le_bytes());
            b.extend_from_slice(&5u32.to_le_bytes()); // R+X
            b.extend_from_slice(&offset.to_le_bytes());
            b.extend_from_slice(&0x1_0000u64.to_le_bytes()); // vaddr
            b.extend_from_slice(&0x1_0000u64.to_le_bytes()); // paddr
            b.extend_from_slice(&filesz.to_le_bytes());
            b.extend_from_slice(&filesz.to_le_bytes()); // memsz
            b.extend_from_slice(&0x1000u64.to_le_bytes()); // align
        }
        b.extend_from_slice(tail);
        b
    }

    /// A static riscv64 executable: one PT_LOAD covering 64 bytes after the headers.
    fn static_riscv() -> Vec<u8> {
        elf(
            header::EM_RISCV,
            header::ET_EXEC,
            &[(PT_LOAD, 0, 120 + 64)],
            &[0x13; 64],
        )
    }

    fn message(r: Result<(), ProgramError>) -> String {
        r.expect_err("should be refused").to_string()
    }

    #[test]
    fn guest_paths_are_normalised_from_the_root() {
        for (typed, want) in [
            ("./hello", "/hello"),
            ("hello", "/hello"),
            ("build/hello", "/build/hello"),
            ("/abs/x", "/abs/x"),
            ("../x", "/x"),
            ("a/./b//c/", "/a/b/c"),
            ("a/../../b", "/b"),
            ("/usr/../bin/./ls", "/bin/ls"),
        ] {
            assert_eq!(guest_path(typed).unwrap(), want, "{typed}");
        }
        for typed in [".", "/", "", "..", "a/.."] {
            assert!(
                matches!(guest_path(typed), Err(ProgramError::NoGuestPath(_))),
                "{typed:?}"
            );
        }
    }

    #[test]
    fn default_environment_is_fixed() {
        assert_eq!(
            environment(&[]).unwrap(),
            ["PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/", "TERM=dumb"]
        );
    }

    #[test]
    fn env_overrides_in_place_and_appends() {
        let specs: Vec<String> = ["TERM=xterm", "LANG=C", "EMPTY=", "EQ=a=b", "LANG=C.UTF-8"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            environment(&specs).unwrap(),
            [
                "PATH=/usr/local/bin:/usr/bin:/bin",
                "HOME=/",
                "TERM=xterm",
                "LANG=C.UTF-8",
                "EMPTY=",
                "EQ=a=b"
            ]
        );
        for bad in ["NOVALUE", "=x", ""] {
            let err = environment(&[bad.to_string()]).unwrap_err();
            assert!(matches!(err, ProgramError::BadEnv(_)), "{bad:?}");
        }
    }

    #[test]
    fn accepts_a_static_riscv64_executable() {
        check_elf("p", &static_riscv()).unwrap();
        // A static PIE is ET_DYN without an interpreter.
        let pie = elf(header::EM_RISCV, header::ET_DYN, &[(PT_LOAD, 0, 120)], &[]);
        check_elf("p", &pie).unwrap();
    }

    #[test]
    fn names_what_is_wrong() {
        assert!(message(check_elf("t.txt", b"hello\n")).contains("not an ELF file"));
        assert!(message(check_elf("e", b"")).contains("not an ELF file"));
        let x86 = elf(
            header::EM_X86_64,
            header::ET_EXEC,
            &[(PT_LOAD, 0, 120)],
            &[],
        );
        assert_eq!(
            message(check_elf("/bin/true", &x86)),
            "/bin/true: is an ELF for x86-64, not 64-bit RISC-V (riscv64)"
        );
        let mut rv32 = static_riscv();
        rv32[4] = 1; // ELFCLASS32
        assert!(message(check_elf("p", &rv32)).contains("32-bit RISC-V"));
        let mut big = static_riscv();
        big[5] = 2; // big-endian: e_machine now reads 0xf300
        assert!(message(check_elf("p", &big)).contains("big-endian"));
        let interp = b"/lib/ld-linux-riscv64-lp64d.so.1\0";
        let at = 64 + 3 * 56;
        let dynamic = elf(
            header::EM_RISCV,
            header::ET_DYN,
            &[
                (PT_INTERP, at, interp.len() as u64),
                (PT_LOAD, 0, at + interp.len() as u64),
                (PT_DYNAMIC, 0, 0),
            ],
            interp,
        );
        assert_eq!(
            message(check_elf("./dyn", &dynamic)),
            "./dyn: is dynamically linked (interpreter /lib/ld-linux-riscv64-lp64d.so.1); \
             sv39 runs static programs: build with -static"
        );
        let object = elf(header::EM_RISCV, header::ET_REL, &[], &[]);
        assert!(message(check_elf("a.o", &object)).contains("relocatable object"));
        let empty = elf(header::EM_RISCV, header::ET_EXEC, &[], &[]);
        assert!(message(check_elf("p", &empty)).contains("no loadable segments"));
    }

    #[test]
    fn every_truncation_is_reported() {
        let full = static_riscv();
        for len in 4..full.len() {
            let msg = message(check_elf("cut", &full[..len]));
            assert!(msg.starts_with("cut: truncated ELF file"), "{len}: {msg}");
        }
        // Headers that point far beyond the file.
        let mut far = static_riscv();
        far[32..40].copy_from_slice(&u64::MAX.to_le_bytes()); // e_phoff
        assert!(message(check_elf("p", &far)).contains("truncated"));
        let huge = elf(
            header::EM_RISCV,
            header::ET_EXEC,
            &[(PT_LOAD, 8, u64::MAX)],
            &[],
        );
        assert!(message(check_elf("p", &huge)).contains("truncated"));
    }

    #[test]
    fn never_panics_on_mangled_headers() {
        let base = static_riscv();
        for pos in 0..120 {
            for value in [0x00, 0x01, 0x7f, 0x80, 0xff] {
                let mut b = base.clone();
                b[pos] = value;
                let _ = check_elf("m", &b);
            }
        }
    }

    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sv39-program-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn prepares_program_files_argv_and_env() {
        let dir = scratch_dir("prepare");
        let prog = dir.join("prog");
        std::fs::write(&prog, static_riscv()).unwrap();
        let data = dir.join("data.txt");
        std::fs::write(&data, "some data").unwrap();
        let prog_typed = prog.to_str().unwrap().to_string();
        let spec = ProgramSpec {
            program: ProgramSource::Path(prog_typed.clone()),
            args: vec!["-x".into(), "--y".into()],
            files: vec![format!("{}:etc/data", data.display())],
            env: vec!["HOME=/root".into()],
        };
        let prepared = prepare(&spec).unwrap();
        assert_eq!(prepared.init.argv, [prog_typed.as_str(), "-x", "--y"]);
        assert_eq!(prepared.init.envp[1], "HOME=/root");
        let archive = &prepared.initramfs;
        let has = |needle: &str| {
            archive
                .windows(needle.len())
                .any(|w| w == needle.as_bytes())
        };
        assert!(has(&format!(
            "{}\0",
            &guest_path(&prog_typed).unwrap()[1..]
        )));
        assert!(has("etc/data\0"));
        assert!(has("some data"));
        assert!(archive.starts_with(b"070701"));

        // The same guest path twice.
        let twice = ProgramSpec {
            files: vec![format!("{}:{}", data.display(), prog_typed)],
            ..spec.clone()
        };
        assert!(matches!(
            prepare(&twice),
            Err(ProgramError::Initramfs(InitramfsError::Duplicate(_)))
        ));
        let directory = ProgramSpec {
            files: vec![dir.display().to_string()],
            ..spec.clone()
        };
        assert!(matches!(
            prepare(&directory),
            Err(ProgramError::FileIsDirectory(_))
        ));
        let missing = ProgramSpec {
            program: ProgramSource::Path(dir.join("missing").display().to_string()),
            ..spec
        };
        assert!(matches!(prepare(&missing), Err(ProgramError::Read { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unknown_examples_list_the_known_ones() {
        let spec = ProgramSpec {
            program: ProgramSource::Example("no-such-example".into()),
            args: vec![],
            files: vec![],
            env: vec![],
        };
        let msg = prepare(&spec).unwrap_err().to_string();
        assert!(msg.starts_with("--example no-such-example: no such example"));
        for name in crate::images::EXAMPLE_NAMES {
            assert!(msg.contains(name), "{msg}");
        }
    }

    #[test]
    fn examples_go_to_bin() {
        let Some(&name) = crate::images::EXAMPLE_NAMES.first() else {
            return;
        };
        let spec = ProgramSpec {
            program: ProgramSource::Example(name.into()),
            args: vec!["a".into()],
            files: vec![],
            env: vec![],
        };
        let prepared = prepare(&spec).unwrap();
        assert_eq!(prepared.init.argv, [format!("/bin/{name}"), "a".into()]);
    }
}
