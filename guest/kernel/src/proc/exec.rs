//! execve(2): an ELF executable from the initramfs becomes VMAs (nothing is copied up
//! front: pages arrive on first touch), a Linux-style initial stack, and a fresh register
//! file.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use sv39_policy::elf;
use sv39_policy::errno::Errno;
use sv39_policy::stack::{self, AuxValues, StackRequest};
use sv39_policy::vma::{DEFAULT_STACK_RLIMIT, MmapLayout, Perms, USER_END, Vma, VmaName};

use super::{Kernel, Process, SigAction};
use crate::arch::trap::TrapFrame;
use crate::fs::initramfs;
use crate::mm::space::AddressSpace;
use crate::mm::uaccess;

/// Linux's `STACK_TOP` for riscv64 with Sv39: the top of user space.
pub const STACK_TOP: u64 = USER_END;

/// Why exec failed: the errno for the caller and a message naming the reason.
#[derive(Debug)]
pub struct ExecError {
    /// What execve returns.
    pub errno: Errno,
    /// The reason, for a person.
    pub message: String,
}

impl ExecError {
    fn new(errno: Errno, message: impl Into<String>) -> Self {
        ExecError {
            errno,
            message: message.into(),
        }
    }
}

/// The device numbers `/proc/<pid>/maps` shows for initramfs files (Linux's rootfs).
const ROOTFS_DEV: (u32, u32) = (0, 1);

/// Replaces `p`'s program with the executable at `path` (relative to its cwd). On error
/// nothing of `p` has changed.
pub fn exec(
    k: &mut Kernel,
    p: &mut Process,
    path: &str,
    argv: &[&[u8]],
    envp: &[&[u8]],
) -> Result<(), ExecError> {
    let absolute =
        crate::fs::normalize(&p.cwd, path).map_err(|e| ExecError::new(e, "file name too long"))?;
    let id = initramfs::lookup(&absolute)
        .ok_or_else(|| ExecError::new(Errno::ENOENT, "No such file or directory"))?;
    let (_, mode, inode, _) = initramfs::stat(id).expect("looked up");
    if mode & initramfs::S_IFMT != initramfs::S_IFREG {
        return Err(ExecError::new(
            Errno::EACCES,
            "Permission denied (not a regular file)",
        ));
    }
    if mode & 0o111 == 0 {
        return Err(ExecError::new(
            Errno::EACCES,
            "Permission denied (not executable)",
        ));
    }
    let data = initramfs::file_bytes(id);
    let image = elf::parse(data)
        .map_err(|e| ExecError::new(e.errno(), alloc::format!("cannot execute: {e}")))?;

    let oom = || ExecError::new(Errno::ENOMEM, "out of memory");
    let layout = MmapLayout::linux_default(STACK_TOP, DEFAULT_STACK_RLIMIT);
    let mut space = AddressSpace::new(layout.clone()).ok_or_else(oom)?;
    let bias = image
        .choose_bias(&space.vmas, &layout)
        .map_err(|e| ExecError::new(e, "no room for the program"))?;
    let name = VmaName::File {
        path: Arc::from(absolute.as_str()),
        dev_major: ROOTFS_DEV.0,
        dev_minor: ROOTFS_DEV.1,
        inode,
    };
    let vmas = image
        .vmas(bias, id, &name)
        .map_err(|e| ExecError::new(e.errno(), alloc::format!("cannot execute: {e}")))?;
    for vma in vmas {
        space
            .vmas
            .insert(vma)
            .map_err(|e| ExecError::new(e, "overlapping segments"))?;
    }

    let mut random = [0u8; 16];
    random[..8].copy_from_slice(&k.random_u64().to_le_bytes());
    random[8..].copy_from_slice(&k.random_u64().to_le_bytes());
    let aux = AuxValues::new(
        image.phdr_at(bias),
        u64::from(image.phnum),
        image.entry_at(bias),
    );
    let request = StackRequest {
        stack_top: STACK_TOP,
        execfn: path.as_bytes(),
        argv,
        envp,
        aux: &aux,
        random,
        stack_rlimit: DEFAULT_STACK_RLIMIT,
    };
    let initial =
        stack::build(&request).map_err(|e| ExecError::new(e, "argument list too long"))?;
    let mut stack_vma = Vma::anonymous(initial.vma_start, STACK_TOP, Perms::RW);
    if image.stack_exec {
        stack_vma.perms = Perms::RWX;
    }
    stack_vma.name = VmaName::Stack;
    space
        .vmas
        .insert(stack_vma)
        .map_err(|e| ExecError::new(e, "no room for the stack"))?;
    uaccess::copy_out(&mut space, initial.sp, &initial.bytes)
        .map_err(|e| ExecError::new(e, "cannot build the stack"))?;
    space.brk = sv39_policy::vma::Brk::new(image.brk_start(bias));

    // The point of no return.
    if let Some(old) = p.space.replace(space) {
        match p.vfork_parent.take() {
            Some(ppid) => k.end_vfork(ppid, old),
            None => old.destroy(),
        }
    }
    k.forget_fp_owner(p.pid);
    p.exe = absolute.clone();
    p.comm = String::from(absolute.rsplit('/').next().unwrap_or(""));
    p.comm.truncate(15);
    p.files.close_on_exec();
    for action in p.sigactions.iter_mut() {
        // Handlers do not survive exec; ignored signals stay ignored.
        if action.handler > 1 {
            *action = SigAction::default();
        }
    }
    p.arg_range = (initial.arg_start, initial.arg_end);
    let kernel_sp = p.frame.kernel_sp;
    *p.frame = TrapFrame::zeroed();
    p.frame.kernel_sp = kernel_sp;
    p.frame.regs[2] = initial.sp;
    p.frame.sepc = image.entry_at(bias);
    Ok(())
}

/// Copies argv/envp-like lists as borrowed slices.
pub fn as_slices(list: &[Vec<u8>]) -> Vec<&[u8]> {
    list.iter().map(|v| v.as_slice()).collect()
}
