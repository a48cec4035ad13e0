//! Helpers for `tests/linux.rs`: build the C programs of `tests/linux/` with Debian's
//! riscv64 Linux cross compiler, stage them with their data files in one directory, run
//! them under `sv39 run` and under `qemu-riscv64` with the same arguments, environment and
//! stdin, and compare the two with the expected files in `tests/expected/linux/`.
//!
//! Paths resolve the same way on both sides. sv39's guest sees the program at
//! `"/" + path as typed` and each `--file` at its guest path, with the cwd at `/`. Both
//! commands run from the staging directory with the program typed as a relative path, and
//! qemu-riscv64 gets `-L <staging directory>`, which makes it look up an absolute path under
//! that directory first when it exists there: `/data/input.bin` is
//! `<staging>/data/input.bin` for both.

#![allow(dead_code)]

// `SV39_BLESS=1` rewrites the expected files (here from qemu-riscv64), as for the other tests.
#[allow(unused_imports)] // not every test crate that includes this module blesses
pub use super::common::{blessing, tests_dir};

use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The cross compiler for the test programs (Debian package [`CC_PACKAGE`]).
pub const CC: &str = "riscv64-linux-gnu-gcc";
/// The Debian package that provides [`CC`].
pub const CC_PACKAGE: &str = "gcc-riscv64-linux-gnu";
/// The reference: Linux user-mode emulation of a riscv64 program.
pub const QEMU: &str = "qemu-riscv64";
/// The Debian package that provides [`QEMU`].
pub const QEMU_PACKAGE: &str = "qemu-user";
/// The host C compiler, for the x86-64 program `sv39 run` must refuse.
pub const HOST_CC: &str = "cc";

/// The guest environment: exactly these variables, plus any `--env`.
pub const GUEST_ENV: [(&str, &str); 3] = [
    ("PATH", "/usr/local/bin:/usr/bin:/bin"),
    ("HOME", "/"),
    ("TERM", "dumb"),
];

/// Status of a program killed by SIGSEGV (128 + 11), on sv39 and on the host.
pub const SIGSEGV_STATUS: i32 = 139;

/// Flags for every program: static, as `sv39 run` requires.
const CFLAGS: &[&str] = &["-static", "-O2", "-Wall", "-Wextra"];

/// `tests/linux/`: the C sources.
pub fn source_dir() -> PathBuf {
    tests_dir().join("linux")
}

/// `tests/expected/linux/`: the expected transcripts.
pub fn expected_dir() -> PathBuf {
    tests_dir().join("expected/linux")
}

/// `target/tmp/linux-programs/`: the built programs and their data files, and the working
/// directory of every run.
pub fn stage_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("linux-programs");
    std::fs::create_dir_all(&dir).expect("create the Linux program staging directory");
    dir
}

/// True when `SV39_LINUX_REFERENCE_ONLY=1`: build the programs and check them against
/// qemu-riscv64 and the expected files, but do not run sv39 (for work on the corpus
/// itself while the guest kernel cannot run it).
pub fn reference_only() -> bool {
    std::env::var("SV39_LINUX_REFERENCE_ONLY").is_ok_and(|v| v == "1")
}

/// Deadline for one sv39 run; `SV39_TEST_TIMEOUT` (seconds) overrides the 300 s default.
pub fn sv39_timeout() -> Duration {
    let secs = std::env::var("SV39_TEST_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    Duration::from_secs(secs)
}

/// Deadline for one qemu-riscv64 run.
pub const QEMU_TIMEOUT: Duration = Duration::from_secs(120);

/// Whether a program is on the PATH (checked once per name).
pub fn have_tool(name: &str) -> bool {
    static FOUND: OnceLock<Mutex<HashMap<String, bool>>> = OnceLock::new();
    let map = FOUND.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = map.lock().unwrap();
    *map.entry(name.to_string()).or_insert_with(|| {
        Command::new(name)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    })
}

/// Writes `bytes` to `path` unless it already holds them, through a temporary file and a
/// rename, so a concurrent reader never sees half a file.
pub fn write_if_changed(path: &Path, bytes: &[u8]) {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return;
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    // Unique per call: tests of one binary run on threads and may stage the same file.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let partial = path.with_extension(format!("partial.{}.{n}", std::process::id()));
    std::fs::write(&partial, bytes).unwrap_or_else(|e| panic!("write {}: {e}", partial.display()));
    std::fs::rename(&partial, path).unwrap_or_else(|e| panic!("rename {}: {e}", path.display()));
}

/// Runs `compiler` with `args` and `-o <stage>/<out>` once per test binary; returns the path.
fn compile_once(out: &str, compiler: &str, package: &str, args: &[String]) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    // Held while compiling: two tests asking for one program must not build it twice, or
    // one of them run it while the other replaces it.
    let mut built = BUILT
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .unwrap();
    if let Some(path) = built.get(out) {
        return path.clone();
    }
    assert!(
        have_tool(compiler),
        "{compiler} not found: the Linux test programs need it \
         (Debian package {package}: `apt-get install {package}`)"
    );
    let path = stage_dir().join(out);
    let partial = stage_dir().join(format!("{out}.partial.{}", std::process::id()));
    let output = Command::new(compiler)
        .args(args)
        .arg("-o")
        .arg(&partial)
        .output()
        .unwrap_or_else(|e| panic!("run {compiler}: {e}"));
    assert!(
        output.status.success(),
        "building {out} with {compiler} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::rename(&partial, &path).unwrap_or_else(|e| panic!("rename {out}: {e}"));
    built.insert(out.to_string(), path.clone());
    path
}

fn source(name: &str) -> String {
    let path = source_dir().join(format!("{name}.c"));
    assert!(path.exists(), "no source {}", path.display());
    path.to_str().expect("UTF-8 path").to_string()
}

/// Builds `tests/linux/<name>.c` statically into `<stage>/<name>`.
pub fn build(name: &str) -> PathBuf {
    let mut args: Vec<String> = CFLAGS.iter().map(|s| s.to_string()).collect();
    args.push(source(name));
    compile_once(name, CC, CC_PACKAGE, &args)
}

/// Builds `tests/linux/<name>.c` as a dynamically linked riscv64 program into
/// `<stage>/<out>` (which `sv39 run` must refuse).
pub fn build_dynamic(name: &str, out: &str) -> PathBuf {
    let args = vec!["-O2".to_string(), source(name)];
    compile_once(out, CC, CC_PACKAGE, &args)
}

/// Builds `tests/linux/<name>.c` statically for the host (x86-64) into `<stage>/<out>`.
pub fn build_host(name: &str, out: &str) -> PathBuf {
    let args = vec!["-static".to_string(), "-O2".to_string(), source(name)];
    compile_once(out, HOST_CC, "gcc and libc6-dev", &args)
}

/// Writes `<stage>/<name>` with `bytes` (for inputs the harness makes itself).
pub fn stage_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = stage_dir().join(name);
    write_if_changed(&path, bytes);
    path
}

/// One `--file HOST[:GUEST]` argument.
#[derive(Debug, Clone)]
pub struct FileArg {
    /// The host path as typed, relative to the staging directory.
    pub host: &'static str,
    /// The guest path; `None` for sv39's default (the host path as typed, made absolute
    /// from `/` and normalised).
    pub guest: Option<&'static str>,
    /// The file's contents, written at `host`; `None` for a file already there (a built
    /// program). For qemu-riscv64 it is also copied to the guest path under the staging
    /// directory.
    pub contents: Option<Vec<u8>>,
}

impl FileArg {
    /// The `--file` argument as given to sv39.
    pub fn arg(&self) -> String {
        match self.guest {
            Some(guest) => format!("{}:{guest}", self.host),
            None => self.host.to_string(),
        }
    }

    /// The guest path: `guest`, or `host` normalised from `/`.
    pub fn guest_path(&self) -> String {
        match self.guest {
            Some(guest) => normalise(guest),
            None => normalise(self.host),
        }
    }

    /// Writes the file at its host path and, when that differs, at its guest path under the
    /// staging directory too, where qemu-riscv64's `-L` finds it.
    fn stage(&self) {
        let host = stage_dir().join(self.host);
        let contents = match &self.contents {
            Some(bytes) => {
                write_if_changed(&host, bytes);
                bytes.clone()
            }
            None => std::fs::read(&host).unwrap_or_else(|e| panic!("read {}: {e}", host.display())),
        };
        let guest = stage_dir().join(self.guest_path().trim_start_matches('/'));
        write_if_changed(&guest, &contents);
    }
}

/// `path` made absolute from `/`, with `.`, `..` and repeated slashes resolved.
pub fn normalise(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            name => parts.push(name),
        }
    }
    format!("/{}", parts.join("/"))
}

/// One run of a program: the same on sv39 and on qemu-riscv64.
#[derive(Debug, Clone)]
pub struct Run {
    /// The program as typed on the command line, relative to the staging directory: argv[0].
    pub typed: String,
    /// The arguments after it.
    pub args: Vec<String>,
    /// `--env KEY=VALUE` pairs, in order.
    pub env: Vec<(String, String)>,
    /// `--file` arguments, in order.
    pub files: Vec<FileArg>,
    /// Bytes fed to the program's stdin (then EOF).
    pub stdin: Vec<u8>,
}

impl Run {
    /// `typed` with no arguments, environment, files or input.
    pub fn new(typed: &str) -> Run {
        Run {
            typed: typed.to_string(),
            args: Vec::new(),
            env: Vec::new(),
            files: Vec::new(),
            stdin: Vec::new(),
        }
    }

    /// Adds arguments.
    pub fn args(mut self, args: &[&str]) -> Run {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, key: &str, value: &str) -> Run {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Adds a `--file`.
    pub fn file(mut self, file: FileArg) -> Run {
        self.files.push(file);
        self
    }

    /// Sets stdin.
    pub fn stdin(mut self, bytes: Vec<u8>) -> Run {
        self.stdin = bytes;
        self
    }

    /// The program's name as the kernel reports it: the last component of the path typed.
    pub fn program_name(&self) -> &str {
        self.typed.rsplit('/').next().unwrap_or(&self.typed)
    }

    /// The sv39 command line, for messages and for copying into a shell.
    pub fn sv39_args(&self) -> Vec<String> {
        let mut args = vec!["run".to_string()];
        for file in &self.files {
            args.push("--file".into());
            args.push(file.arg());
        }
        for (key, value) in &self.env {
            args.push("--env".into());
            args.push(format!("{key}={value}"));
        }
        args.push(self.typed.clone());
        args.extend(self.args.iter().cloned());
        args
    }
}

/// What a finished (or killed) process did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Everything written to stdout.
    pub stdout: Vec<u8>,
    /// Everything written to stderr.
    pub stderr: Vec<u8>,
    /// The status as a shell reports it: the exit code, or 128 + the signal that killed it.
    pub status: i32,
    /// True if the deadline expired and the process was killed.
    pub timed_out: bool,
}

impl Outcome {
    /// stderr as text.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// stdout as text.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// Kills every process of the group `pgid`: the guest's forked children run as host processes
/// under qemu-riscv64 and must not outlive a timed-out run. (`kill -9 -PGID` is the form
/// that dash's and bash's `kill` both accept.)
fn kill_group(pgid: u32) {
    let _ = Command::new("sh")
        .args(["-c", "kill -9 -\"$1\" 2>/dev/null", "sh"])
        .arg(pgid.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn read_all(mut pipe: impl Read + Send + 'static) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        let _ = tx.send(buf);
    });
    rx
}

/// Runs `cmd` in a process group of its own with `stdin` fed to it, collecting stdout and
/// stderr; kills the group if the process is still running after `timeout`.
pub fn run_with_timeout(mut cmd: Command, stdin: &[u8], timeout: Duration) -> Outcome {
    let what = format!("{cmd:?}");
    let mut child: Child = cmd
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {what}: {e}"));
    let pgid = child.id();
    let mut input = child.stdin.take().unwrap();
    let bytes = stdin.to_vec();
    // A program that never reads its stdin makes this fail with EPIPE: that is fine.
    std::thread::spawn(move || {
        let _ = input.write_all(&bytes);
    });
    let out = read_all(child.stdout.take().unwrap());
    let err = read_all(child.stderr.take().unwrap());
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait().expect("wait for the child") {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                timed_out = true;
                // Not reaped yet, so the group id still names this group.
                kill_group(pgid);
                break child.wait().expect("wait for the killed child");
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    };
    // A process left behind holds the pipes open; a leftover still keeps the group id
    // alive, so killing the group cannot hit an unrelated process.
    let collect = |rx: mpsc::Receiver<Vec<u8>>| match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(bytes) => bytes,
        Err(_) => {
            kill_group(pgid);
            rx.recv().unwrap_or_default()
        }
    };
    let stdout = collect(out);
    let stderr = collect(err);
    let status = status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .expect("an exit code or a signal");
    Outcome {
        stdout,
        stderr,
        status,
        timed_out,
    }
}

/// Runs `run` under `sv39 run`, from the staging directory.
pub fn run_sv39(run: &Run) -> Outcome {
    for file in &run.files {
        file.stage();
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sv39"));
    // Logging goes to stderr, which is the guest's here.
    cmd.args(run.sv39_args())
        .current_dir(stage_dir())
        .env_remove("RUST_LOG");
    run_with_timeout(cmd, &run.stdin, sv39_timeout())
}

/// Runs `qemu-riscv64 -L <stage> PROGRAM ARGS` from the staging directory with exactly the
/// guest environment, no core dumps and an 8 MiB stack limit (qemu sizes the guest stack
/// from it), through `sh` and `env -i`. `shell_tail` is shell text appended to the command
/// line: more arguments and redirections that need the shell (`pid=$$`, `3<file`).
pub fn run_qemu_with(run: &Run, env: &[(String, String)], shell_tail: &str) -> Outcome {
    assert!(
        have_tool(QEMU),
        "{QEMU} not found (Debian package {QEMU_PACKAGE}: `apt-get install {QEMU_PACKAGE}`)"
    );
    for file in &run.files {
        file.stage();
    }
    let script = format!("ulimit -c 0; ulimit -S -s 8192 2>/dev/null; exec \"$@\" {shell_tail}");
    let mut cmd = Command::new("sh");
    cmd.args(["-c", &script, "sh", "env", "-i"]);
    for (key, value) in env {
        cmd.arg(format!("{key}={value}"));
    }
    cmd.arg(QEMU)
        .arg("-L")
        .arg(stage_dir())
        .arg(&run.typed)
        .args(&run.args)
        .current_dir(stage_dir());
    run_with_timeout(cmd, &run.stdin, QEMU_TIMEOUT)
}

/// The guest environment of `run`: [`GUEST_ENV`] and its `--env` pairs.
pub fn guest_env(run: &Run) -> Vec<(String, String)> {
    GUEST_ENV
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .chain(run.env.iter().cloned())
        .collect()
}

/// Runs `run` under qemu-riscv64 the way sv39 runs it.
pub fn run_qemu(run: &Run) -> Outcome {
    run_qemu_with(run, &guest_env(run), "")
}

/// An expected transcript: `tests/expected/linux/<case>.out`, `.err` (absent where stderr
/// is not compared with a file) and `.status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// stdout.
    pub stdout: Vec<u8>,
    /// stderr, if the case compares it with a file.
    pub stderr: Option<Vec<u8>>,
    /// The exit status (128 + signal when killed).
    pub status: i32,
}

impl Expected {
    /// The parts of `o` that the expected files hold (stderr only if `with_stderr`).
    pub fn from_outcome(o: &Outcome, with_stderr: bool) -> Expected {
        Expected {
            stdout: o.stdout.clone(),
            stderr: with_stderr.then(|| o.stderr.clone()),
            status: o.status,
        }
    }
}

fn expected_path(case: &str, ext: &str) -> PathBuf {
    expected_dir().join(format!("{case}.{ext}"))
}

/// Reads the expected files of `case`.
pub fn read_expected(case: &str) -> Expected {
    let read = |ext: &str| std::fs::read(expected_path(case, ext));
    let stdout = read("out").unwrap_or_else(|e| {
        panic!(
            "read {}: {e} (regenerate from qemu-riscv64 with SV39_BLESS=1 cargo test -p sv39 \
             --test linux)",
            expected_path(case, "out").display()
        )
    });
    let status_path = expected_path(case, "status");
    let status = std::fs::read_to_string(&status_path)
        .unwrap_or_else(|e| panic!("read {}: {e}", status_path.display()))
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{}: not a number: {e}", status_path.display()));
    Expected {
        stdout,
        stderr: read("err").ok(),
        status,
    }
}

/// Writes the expected files of `case` (removing a stale `.err` when there is no stderr).
pub fn write_expected(case: &str, e: &Expected) {
    std::fs::create_dir_all(expected_dir()).unwrap();
    std::fs::write(expected_path(case, "out"), &e.stdout).unwrap();
    std::fs::write(expected_path(case, "status"), format!("{}\n", e.status)).unwrap();
    match &e.stderr {
        Some(err) => std::fs::write(expected_path(case, "err"), err).unwrap(),
        None => {
            let _ = std::fs::remove_file(expected_path(case, "err"));
        }
    }
}

/// Up to `max` lines of `text`, indented, with a note when some were left out.
fn excerpt(text: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(text);
    if text.is_empty() {
        return "      <empty>\n".to_string();
    }
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    for line in lines.iter().take(max) {
        out += &format!("      | {line}\n");
    }
    if lines.len() > max {
        out += &format!("      ... {} more lines\n", lines.len() - max);
    }
    if !text.ends_with('\n') {
        out += "      (no newline at the end)\n";
    }
    out
}

/// The first line where `expected` and `actual` differ, with two lines of context, or
/// `None` if they are equal.
pub fn first_difference(expected: &[u8], actual: &[u8]) -> Option<String> {
    if expected == actual {
        return None;
    }
    let (exp, act) = (
        String::from_utf8_lossy(expected),
        String::from_utf8_lossy(actual),
    );
    let el: Vec<&str> = exp.split_inclusive('\n').collect();
    let al: Vec<&str> = act.split_inclusive('\n').collect();
    let i = (0..el.len().max(al.len()))
        .find(|&i| el.get(i) != al.get(i))
        .unwrap_or(0);
    let mut out = format!("first difference at line {}:\n", i + 1);
    for line in &el[i.saturating_sub(2)..i.min(el.len())] {
        out += &format!("        {}\n", line.trim_end_matches('\n'));
    }
    let show = |l: Option<&&str>| match l {
        None => "<end of output>".to_string(),
        Some(l) if !l.ends_with('\n') => format!("{l:?} (no newline)"),
        Some(l) => l.trim_end_matches('\n').to_string(),
    };
    out += &format!("      - {}\n", show(el.get(i)));
    out += &format!("      + {}\n", show(al.get(i)));
    Some(out)
}

/// A failure report comparing what `who` did with what was expected: the status, the first
/// difference of each stream, then both transcripts.
pub fn report(
    case: &str,
    who: &str,
    against: &str,
    expected: &Expected,
    actual: &Outcome,
) -> String {
    let mut out = format!(
        "{case}: {who} differs from {against}\n  exit status: expected {}, {who} {}{}\n",
        expected.status,
        actual.status,
        if actual.timed_out {
            " (killed at the deadline)"
        } else {
            ""
        }
    );
    if let Some(diff) = first_difference(&expected.stdout, &actual.stdout) {
        out += &format!("  stdout {diff}");
    }
    if let Some(exp_err) = &expected.stderr
        && let Some(diff) = first_difference(exp_err, &actual.stderr)
    {
        out += &format!("  stderr {diff}");
    }
    out += &format!("  expected stdout:\n{}", excerpt(&expected.stdout, 60));
    out += &format!("  {who} stdout:\n{}", excerpt(&actual.stdout, 60));
    if let Some(exp_err) = &expected.stderr {
        out += &format!("  expected stderr:\n{}", excerpt(exp_err, 20));
    }
    out += &format!("  {who} stderr:\n{}", excerpt(&actual.stderr, 20));
    out
}

/// What sv39 printed for a SIGSEGV: `NAME[PID]: segfault at ADDR ip PC cause CAUSE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegfaultLine {
    /// The program's name.
    pub name: String,
    /// Its pid.
    pub pid: u64,
    /// The faulting address.
    pub addr: u64,
    /// The faulting instruction.
    pub ip: u64,
    /// The trap cause.
    pub cause: u64,
}

/// Parses one line of the form
/// `^NAME\[\d+\]: segfault at [0-9a-f]+ ip [0-9a-f]+ cause \d+$`.
pub fn parse_segfault_line(line: &str) -> Option<SegfaultLine> {
    let hex = |s: &str| {
        (!s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| u64::from_str_radix(s, 16).ok())
        .flatten()
    };
    let dec = |s: &str| {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (name, rest) = line.split_once('[')?;
    let (pid, rest) = rest.split_once("]: segfault at ")?;
    let (addr, rest) = rest.split_once(" ip ")?;
    let (ip, cause) = rest.split_once(" cause ")?;
    Some(SegfaultLine {
        name: name.to_string(),
        pid: dec(pid)?,
        addr: hex(addr)?,
        ip: hex(ip)?,
        cause: dec(cause)?,
    })
}
