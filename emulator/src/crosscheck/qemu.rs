//! Starting QEMU and making sure it never outlives the check.
//!
//! QEMU runs in a temporary directory ([`Workspace`]) as the leader of a process group of its
//! own ([`Running`]), so that everything it starts (`qemu-riscv64` runs each `fork` of the
//! guest as a host process) can be killed at once, and so that a Ctrl-C on the terminal
//! reaches sv39 alone, which then decides. The group is killed with SIGKILL on every way out:
//!
//! - after QEMU exits (a guest's forked children may still be running), while QEMU's own
//!   process is a zombie that is not reaped yet, so the group id cannot have been reused;
//! - at the deadline;
//! - when a [`Running`] is dropped unfinished (an error or a panic on sv39's side);
//! - on SIGINT, SIGTERM or SIGHUP, through a handler ([`ctrlc`]) installed the first time a
//!   workspace or QEMU is started, which kills every group still running, removes every
//!   workspace, and exits with status 130. A program embedding the library with a handler
//!   of its own calls [`stop_everything`] from it instead.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
use nix::unistd::Pid;

use super::{CrosscheckError, Status};

/// A program the check runs, and where Debian keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tool {
    /// The binary's name, looked up on the `PATH`.
    pub program: &'static str,
    /// The Debian package that provides it.
    pub package: &'static str,
}

/// Linux user-mode emulation: the program-level reference.
pub const QEMU_USER: Tool = Tool {
    program: "qemu-riscv64",
    package: "qemu-user",
};

/// System emulation: the system-level reference.
pub const QEMU_SYSTEM: Tool = Tool {
    program: "qemu-system-riscv64",
    package: "qemu-system-misc",
};

/// The path of `tool` on the `PATH`, or [`CrosscheckError::QemuMissing`].
pub fn locate(tool: Tool) -> Result<PathBuf, CrosscheckError> {
    find_on_path(tool.program).ok_or(CrosscheckError::QemuMissing {
        program: tool.program,
        package: tool.package,
    })
}

/// The first executable file named `program` in the directories of `PATH`.
pub fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(program))
        .find(|candidate| {
            std::fs::metadata(candidate)
                .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        })
}

/// What must be cleaned up if the user interrupts sv39: the process groups of the QEMUs
/// running and the workspaces that exist.
struct Registry {
    groups: Vec<Pid>,
    workspaces: Vec<PathBuf>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    groups: Vec::new(),
    workspaces: Vec::new(),
});

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Kills every QEMU process group still running and removes every workspace. For a
/// program's own SIGINT handler; the one this module installs calls it too.
pub fn stop_everything() {
    let mut registry = registry();
    for group in registry.groups.drain(..) {
        let _ = killpg(group, Signal::SIGKILL);
    }
    for dir in registry.workspaces.drain(..) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Installs the SIGINT/SIGTERM/SIGHUP handler, once. It replaces whatever disposition the
/// signals had (a background job starts with SIGINT ignored, and would otherwise die of a
/// SIGTERM with QEMU still running). If the program has a `ctrlc` handler of its own
/// already, that one stays, and must call [`stop_everything`].
fn install_interrupt_handler() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let result = ctrlc::set_handler(|| {
            stop_everything();
            eprintln!("sv39: crosscheck interrupted; QEMU stopped and its files removed");
            std::process::exit(130);
        });
        if let Err(e) = result {
            log::debug!("crosscheck: no interrupt handler of our own ({e}); the program's stays");
        }
    });
}

/// The temporary directory QEMU runs in (and finds its files in), removed when dropped or
/// when sv39 is interrupted.
pub struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    /// A new, empty directory under the host's temporary directory (`TMPDIR`).
    pub fn new() -> Result<Workspace, CrosscheckError> {
        install_interrupt_handler();
        let dir = tempfile::Builder::new()
            .prefix("sv39-crosscheck-")
            .tempdir()
            .map_err(|io| CrosscheckError::Workspace {
                what: "creating it".into(),
                io,
            })?;
        registry().workspaces.push(dir.path().to_path_buf());
        Ok(Workspace { dir })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `bytes` at `relative` inside the workspace (directories created as needed),
    /// with permission bits `mode`; returns the full path.
    pub fn write(
        &self,
        relative: &str,
        bytes: &[u8],
        mode: u32,
    ) -> Result<PathBuf, CrosscheckError> {
        let path = self.path().join(relative.trim_start_matches('/'));
        let fail = |io| CrosscheckError::Workspace {
            what: format!("writing {}", path.display()),
            io,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(fail)?;
        }
        std::fs::write(&path, bytes).map_err(fail)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).map_err(fail)?;
        Ok(path)
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let path = self.dir.path();
        registry().workspaces.retain(|dir| dir != path);
        // The TempDir removes the directory itself.
    }
}

/// What QEMU did.
#[derive(Debug, Clone)]
pub struct Finished {
    /// Everything it (and the processes it started) wrote to stdout.
    pub stdout: Vec<u8>,
    /// The same for stderr.
    pub stderr: Vec<u8>,
    /// How it ended.
    pub status: Status,
}

/// A child's output stream, read into memory by a thread as it arrives.
struct Collector {
    buffer: Arc<Mutex<Vec<u8>>>,
    thread: JoinHandle<()>,
}

impl Collector {
    fn start(mut pipe: impl Read + Send + 'static) -> Collector {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&buffer);
        let thread = std::thread::spawn(move || {
            let mut chunk = [0u8; 16 << 10];
            loop {
                match pipe.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => sink
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        });
        Collector { buffer, thread }
    }

    /// Everything read, waiting up to `grace` for the end of the stream. Only a process that
    /// left QEMU's group (a guest calling `setsid`) can hold the stream open past that.
    fn finish(self, grace: Duration, what: &str) -> Vec<u8> {
        let deadline = Instant::now() + grace;
        while !self.thread.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        if !self.thread.is_finished() {
            log::warn!(
                "{what}: a process outside QEMU's process group still holds its output open"
            );
        }
        std::mem::take(&mut *self.buffer.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// A QEMU started by [`Running::spawn`], not yet waited for.
pub struct Running {
    child: Child,
    group: Pid,
    what: String,
    stdout: Option<Collector>,
    stderr: Option<Collector>,
    started: Instant,
    done: bool,
}

/// How long to wait for the output streams to close once the group is dead.
const OUTPUT_GRACE: Duration = Duration::from_secs(5);

impl Running {
    /// Starts `cmd` as the leader of a new process group, with `stdin` fed to it (then end of
    /// file) and its stdout and stderr collected. `what` names it in messages.
    pub fn spawn(mut cmd: Command, stdin: &[u8], what: &str) -> Result<Running, CrosscheckError> {
        install_interrupt_handler();
        cmd.process_group(0)
            .stdin(if stdin.is_empty() {
                Stdio::null()
            } else {
                Stdio::piped()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        log::debug!("crosscheck: starting {cmd:?}");
        // Held across the spawn, so an interrupt cannot come between the start and the
        // registration and miss the group.
        let mut registry = registry();
        let mut child = cmd.spawn().map_err(|io| CrosscheckError::Spawn {
            program: what.to_string(),
            io,
        })?;
        let group = Pid::from_raw(child.id() as i32);
        registry.groups.push(group);
        drop(registry);
        if let Some(mut input) = child.stdin.take() {
            let bytes = stdin.to_vec();
            // A program that stops reading makes this fail with EPIPE: that is its business.
            std::thread::spawn(move || {
                let _ = input.write_all(&bytes);
            });
        }
        let stdout = child.stdout.take().map(Collector::start);
        let stderr = child.stderr.take().map(Collector::start);
        Ok(Running {
            child,
            group,
            what: what.to_string(),
            stdout,
            stderr,
            started: Instant::now(),
            done: false,
        })
    }

    /// Waits until QEMU exits or `timeout` has passed since it started, then kills whatever
    /// is left of its process group and collects its output.
    pub fn wait(mut self, timeout: Duration) -> Result<Finished, CrosscheckError> {
        let pid = Pid::from_raw(self.child.id() as i32);
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT | WaitPidFlag::WNOHANG;
        let mut timed_out = false;
        loop {
            match waitid(Id::Pid(pid), flags) {
                Ok(WaitStatus::StillAlive) => {
                    if self.started.elapsed() >= timeout {
                        timed_out = true;
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Ok(_) => break,
                Err(nix::errno::Errno::EINTR) => {}
                Err(errno) => {
                    return Err(CrosscheckError::Wait {
                        program: self.what.clone(),
                        error: errno.into(),
                    });
                }
            }
        }
        // Not reaped yet: the group id is still ours, whoever is left in it.
        self.kill_group();
        let status = self.child.wait().map_err(|error| CrosscheckError::Wait {
            program: self.what.clone(),
            error,
        })?;
        self.done = true;
        let stdout = self
            .stdout
            .take()
            .map_or_else(Vec::new, |c| c.finish(OUTPUT_GRACE, &self.what));
        let stderr = self
            .stderr
            .take()
            .map_or_else(Vec::new, |c| c.finish(OUTPUT_GRACE, &self.what));
        let status = if timed_out {
            Status::TimedOut(timeout)
        } else {
            match (status.code(), status.signal()) {
                (Some(code), _) => Status::Exited(code),
                (None, Some(signal)) => Status::Exited(128 + signal),
                (None, None) => Status::Exited(1),
            }
        };
        Ok(Finished {
            stdout,
            stderr,
            status,
        })
    }

    /// Kills the whole group and forgets it.
    fn kill_group(&self) {
        let _ = killpg(self.group, Signal::SIGKILL);
        registry().groups.retain(|&g| g != self.group);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if !self.done {
            self.kill_group();
            let _ = self.child.wait();
        }
    }
}

/// `/bin/sh -c '<limits>; exec "$@"' sh ENV -i KEY=VALUE... PROGRAM ARGS...`: `program` with
/// exactly the environment `env`, no core dumps, and an 8 MiB soft stack limit (qemu-riscv64
/// sizes the guest's stack from it; sv39's kernel gives programs 8 MiB too).
pub fn clean_environment_command(
    program: &Path,
    args: &[impl AsRef<OsStr>],
    env: &[String],
) -> Result<Command, CrosscheckError> {
    let env_tool = find_on_path("env").ok_or(CrosscheckError::ToolMissing { program: "env" })?;
    let mut cmd = Command::new("/bin/sh");
    cmd.args([
        "-c",
        "ulimit -c 0; ulimit -S -s 8192 2>/dev/null; exec \"$@\"",
        "sh",
    ])
    .arg(env_tool)
    .arg("-i")
    .args(env)
    .arg(program)
    .args(args);
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", script]);
        cmd
    }

    /// Whether `pid` is still alive a while after being killed: SIGKILL is delivered
    /// asynchronously, and on a busy machine the process may take a moment to die.
    fn survives(pid: i32) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while alive(pid) {
            if Instant::now() >= deadline {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    fn alive(pid: i32) -> bool {
        // A zombie is dead for this purpose: its /proc status says so.
        std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|s| {
            !s.lines()
                .any(|l| l.starts_with("State:") && l.contains('Z'))
        })
    }

    #[test]
    fn output_status_and_stdin_are_collected() {
        let run = Running::spawn(sh("cat; echo oops >&2; exit 3"), b"fed\n", "sh").unwrap();
        let done = run.wait(Duration::from_secs(20)).unwrap();
        assert_eq!(done.stdout, b"fed\n");
        assert_eq!(done.stderr, b"oops\n");
        assert_eq!(done.status, Status::Exited(3));
    }

    #[test]
    fn a_signal_is_128_plus_its_number() {
        let run = Running::spawn(sh("kill -SEGV $$"), b"", "sh").unwrap();
        let done = run.wait(Duration::from_secs(20)).unwrap();
        assert_eq!(done.status, Status::Exited(139));
    }

    #[test]
    fn the_deadline_kills_the_whole_group() {
        // The shell leaves a grandchild behind and prints its pid.
        let script = "sleep 300 & echo $!; sleep 300";
        let run = Running::spawn(sh(script), b"", "sh").unwrap();
        let started = Instant::now();
        let done = run.wait(Duration::from_millis(300)).unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(done.status, Status::TimedOut(Duration::from_millis(300)));
        let grandchild: i32 = String::from_utf8_lossy(&done.stdout)
            .trim()
            .parse()
            .unwrap();
        assert!(!survives(grandchild), "pid {grandchild} survived");
    }

    #[test]
    fn processes_left_behind_after_a_normal_exit_are_killed() {
        let script = "sleep 300 & echo $!; exit 0";
        let run = Running::spawn(sh(script), b"", "sh").unwrap();
        let done = run.wait(Duration::from_secs(20)).unwrap();
        assert_eq!(done.status, Status::Exited(0));
        let grandchild: i32 = String::from_utf8_lossy(&done.stdout)
            .trim()
            .parse()
            .unwrap();
        assert!(!survives(grandchild), "pid {grandchild} survived");
    }

    #[test]
    fn dropping_an_unfinished_run_kills_it() {
        let run = Running::spawn(sh("sleep 300"), b"", "sh").unwrap();
        let pid = run.child.id() as i32;
        drop(run);
        assert!(!survives(pid));
        assert!(!registry().groups.contains(&Pid::from_raw(pid)));
    }

    #[test]
    fn workspaces_are_removed_when_dropped() {
        let workspace = Workspace::new().unwrap();
        let file = workspace.write("/a/b/c", b"x", 0o755).unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"x");
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o755
        );
        let dir = workspace.path().to_path_buf();
        assert!(registry().workspaces.contains(&dir));
        drop(workspace);
        assert!(!dir.exists());
        assert!(!registry().workspaces.contains(&dir));
    }

    #[test]
    fn the_clean_environment_is_exactly_the_one_given() {
        let env = vec!["A=1".to_string(), "B=two words".to_string()];
        let cmd = clean_environment_command(Path::new("/bin/sh"), &["-c", "env; ulimit -s"], &env)
            .unwrap();
        let done = Running::spawn(cmd, b"", "sh")
            .unwrap()
            .wait(Duration::from_secs(20))
            .unwrap();
        let text = String::from_utf8_lossy(&done.stdout);
        let mut lines: Vec<&str> = text.lines().collect();
        let stack = lines.pop();
        // dash exports PWD of its own accord; everything else is ours.
        lines.retain(|l| !l.starts_with("PWD="));
        assert_eq!(lines, ["A=1", "B=two words"]);
        assert_eq!(stack, Some("8192"));
    }

    #[test]
    fn missing_tools_name_their_package() {
        let err = locate(Tool {
            program: "sv39-no-such-qemu",
            package: "qemu-nothing",
        })
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "sv39-no-such-qemu not found on the PATH: install the Debian package qemu-nothing \
             (apt-get install qemu-nothing)"
        );
    }
}
