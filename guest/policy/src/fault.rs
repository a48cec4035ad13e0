//! The page-fault decision: what the kernel does when a user access traps.
//!
//! Follows the RISC-V privileged specification, chapter "Supervisor-Level ISA", section
//! "Sv39: Page-Based 39-bit Virtual-Memory System" (PTE bits R, W, X, U; W without R is
//! reserved), and Linux's `arch/riscv/mm/fault.c` (`access_error`: a load needs
//! `VM_READ` or `VM_WRITE`, a fetch `VM_EXEC`, a store `VM_WRITE`) with the protection map of
//! `arch/riscv/mm/init.c` (`PROT_WRITE` alone maps R+W, `PROT_EXEC` alone maps X only).
//!
//! # Extension point
//! Copy on write is already told apart ([`FaultDecision::Cow`]); the frame's reference count,
//! which this crate does not see, tells the kernel whether to copy or reuse it (the later
//! `CowCopy` / `CowReuse` split). Swap will add a `PteState::Swapped { slot }` input and a
//! `FaultDecision::SwapIn { slot, .. }` output; match on these enums exhaustively so the
//! compiler points at every place to extend.

use crate::errno::{Errno, KResult};
use crate::vma::{FileId, PageContent, Perms, Sharing, VmaSet, page_floor};

/// The Sv39 PTE bit `R` (readable).
pub const PTE_R: u64 = 1 << 1;
/// The Sv39 PTE bit `W` (writable).
pub const PTE_W: u64 = 1 << 2;
/// The Sv39 PTE bit `X` (executable).
pub const PTE_X: u64 = 1 << 3;
/// The Sv39 PTE bit `U` (user accessible).
pub const PTE_U: u64 = 1 << 4;

/// The kind of access that faulted, from the trap cause.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Access {
    /// A load (cause 13, load page fault).
    Read,
    /// A store or AMO (cause 15, store/AMO page fault).
    Write,
    /// An instruction fetch (cause 12, instruction page fault).
    Execute,
}

impl Access {
    /// The access for a RISC-V `scause` exception code, or `None` if the code is not a page
    /// fault.
    pub fn from_scause(code: u64) -> Option<Access> {
        match code {
            12 => Some(Access::Execute),
            13 => Some(Access::Read),
            15 => Some(Access::Write),
            _ => None,
        }
    }
}

/// The R, W, X, U bits of a leaf PTE.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct PteFlags {
    /// `R`.
    pub read: bool,
    /// `W`.
    pub write: bool,
    /// `X`.
    pub exec: bool,
    /// `U`.
    pub user: bool,
}

impl PteFlags {
    /// The flags as Sv39 PTE bits ([`PTE_R`] | [`PTE_W`] | [`PTE_X`] | [`PTE_U`]); the kernel
    /// adds `V` (and `A`/`D` if it sets them eagerly).
    pub fn bits(self) -> u64 {
        (if self.read { PTE_R } else { 0 })
            | (if self.write { PTE_W } else { 0 })
            | (if self.exec { PTE_X } else { 0 })
            | (if self.user { PTE_U } else { 0 })
    }

    /// The flags of the R, W, X, U bits in `pte` (other bits ignored).
    pub fn from_bits(pte: u64) -> PteFlags {
        PteFlags {
            read: pte & PTE_R != 0,
            write: pte & PTE_W != 0,
            exec: pte & PTE_X != 0,
            user: pte & PTE_U != 0,
        }
    }

    /// Whether a user-mode access of this kind succeeds through a PTE with these flags
    /// (`sstatus.MXR` and `SUM` clear, as for user code).
    pub fn allows(self, access: Access) -> bool {
        self.user
            && match access {
                Access::Read => self.read,
                Access::Write => self.write,
                Access::Execute => self.exec,
            }
    }

    /// These flags without `W`: how a copy-on-write page is mapped until it is written.
    pub fn without_write(self) -> PteFlags {
        PteFlags {
            write: false,
            ..self
        }
    }
}

/// The leaf PTE flags for a user page of an area with rights `perms`, or `None` for
/// `PROT_NONE`, whose pages are never mapped. Write without read is reserved in Sv39, so
/// `PROT_WRITE` alone maps R+W; `PROT_EXEC` alone maps X only (as Linux does on riscv64).
pub fn pte_flags(perms: Perms) -> Option<PteFlags> {
    if perms == Perms::NONE {
        return None;
    }
    Some(PteFlags {
        read: perms.read || perms.write,
        write: perms.write,
        exec: perms.exec,
        user: true,
    })
}

/// Whether an area with rights `perms` permits `access` (Linux's `access_error` inverted).
pub fn vma_allows(perms: Perms, access: Access) -> bool {
    match access {
        Access::Read => perms.read || perms.write,
        Access::Write => perms.write,
        Access::Execute => perms.exec,
    }
}

/// The state of the faulting page's leaf PTE.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum PteState {
    /// No valid leaf PTE (V clear, or no page table on the path).
    Absent,
    /// A valid leaf PTE with these flags.
    Present(PteFlags),
}

/// Why an access gets `SIGSEGV`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum SegvReason {
    /// No area covers the address (`si_code` `SEGV_MAPERR`).
    NoVma,
    /// An area covers it but does not permit the access (`si_code` `SEGV_ACCERR`).
    Protection,
}

impl SegvReason {
    /// The `si_code` Linux reports: `SEGV_MAPERR` (1) or `SEGV_ACCERR` (2).
    pub fn si_code(self) -> i32 {
        match self {
            SegvReason::NoVma => 1,
            SegvReason::Protection => 2,
        }
    }
}

/// What the kernel does about a page fault.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum FaultDecision {
    /// Map a fresh zeroed frame at `page` with `flags`.
    DemandZero {
        /// The page-aligned faulting address.
        page: u64,
        /// The PTE flags to map it with.
        flags: PteFlags,
    },
    /// Map a fresh frame at `page` holding `len` bytes of `file` from `offset`, zeros after.
    FileBacked {
        /// The page-aligned faulting address.
        page: u64,
        /// The kernel's index of the file.
        file: FileId,
        /// The file offset of the page's first byte.
        offset: u64,
        /// How many bytes to copy (1..=4096); the rest of the frame is zero.
        len: u64,
        /// The PTE flags to map it with.
        flags: PteFlags,
    },
    /// A write hit a present read-only page of a private writable area: copy the frame (or,
    /// when this process holds its only reference, reuse it) and map it at `page` with `flags`.
    Cow {
        /// The page-aligned faulting address.
        page: u64,
        /// The PTE flags to map the private copy with (writable).
        flags: PteFlags,
    },
    /// The present PTE grants less than the area (a shared writable page mapped read-only,
    /// or rights not yet raised after mprotect): rewrite its flags to `flags`, keep the frame.
    UpgradePte {
        /// The page-aligned faulting address.
        page: u64,
        /// The PTE flags the area grants.
        flags: PteFlags,
    },
    /// The PTE already allows the access (a stale TLB entry): flush it and return. The A/D
    /// bits are not looked at: a kernel that leaves them clear on a machine that traps on
    /// clear A/D (Svade) must set them here, or set them eagerly when mapping, else the access
    /// faults forever.
    Spurious,
    /// The page of a file mapping lies wholly past the end of the file: deliver `SIGBUS`
    /// (`si_code` `BUS_ADRERR`, 2), as Linux does.
    Sigbus,
    /// Deliver `SIGSEGV`.
    Segv(SegvReason),
}

/// Decides what to do about a user page fault at `addr` for `access`, given the process's
/// areas and the current state of the page's PTE.
pub fn decide(vmas: &VmaSet, addr: u64, access: Access, pte: PteState) -> FaultDecision {
    let Some(vma) = vmas.find(addr) else {
        return FaultDecision::Segv(SegvReason::NoVma);
    };
    if !vma_allows(vma.perms, access) {
        return FaultDecision::Segv(SegvReason::Protection);
    }
    let Some(flags) = pte_flags(vma.perms) else {
        return FaultDecision::Segv(SegvReason::Protection);
    };
    let page = page_floor(addr);
    match pte {
        PteState::Present(current) if current.allows(access) => FaultDecision::Spurious,
        PteState::Present(current) => {
            if access == Access::Write && vma.sharing == Sharing::Private && current.read {
                FaultDecision::Cow { page, flags }
            } else {
                FaultDecision::UpgradePte { page, flags }
            }
        }
        PteState::Absent => match vma.page_content(addr) {
            PageContent::Zero => FaultDecision::DemandZero { page, flags },
            PageContent::BeyondEnd => FaultDecision::Sigbus,
            PageContent::File { file, offset, len } => FaultDecision::FileBacked {
                page,
                file,
                offset,
                len,
                flags,
            },
        },
    }
}

/// Checks that every byte of `[addr, addr + len)` lies in areas permitting `access`, as a
/// system call must before touching user memory: `EFAULT` otherwise (also on overflow).
/// A zero `len` is always fine. The pages may still be absent; the kernel faults them in
/// (or decides each with [`decide`]) while copying.
pub fn check_user_range(vmas: &VmaSet, addr: u64, len: u64, access: Access) -> KResult<()> {
    if len == 0 {
        return Ok(());
    }
    let end = addr.checked_add(len).ok_or(Errno::EFAULT)?;
    let mut cursor = addr;
    for vma in vmas.overlapping(addr..end) {
        if vma.start > cursor || !vma_allows(vma.perms, access) {
            return Err(Errno::EFAULT);
        }
        cursor = vma.end;
    }
    if cursor < end {
        Err(Errno::EFAULT)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vma::{Backing, Vma, VmaName};

    const R: PteFlags = PteFlags {
        read: true,
        write: false,
        exec: false,
        user: true,
    };
    const RW: PteFlags = PteFlags {
        read: true,
        write: true,
        exec: false,
        user: true,
    };
    const RX: PteFlags = PteFlags {
        read: true,
        write: false,
        exec: true,
        user: true,
    };
    const X: PteFlags = PteFlags {
        read: false,
        write: false,
        exec: true,
        user: true,
    };

    fn set() -> VmaSet {
        let mut set = VmaSet::new();
        set.insert(Vma {
            start: 0x10000,
            end: 0x13000,
            perms: Perms::RX,
            sharing: Sharing::Private,
            backing: Backing::File {
                file: 4,
                offset: 0,
                file_end: 0x2100,
            },
            name: VmaName::None,
        })
        .unwrap();
        set.insert(Vma::anonymous(0x20000, 0x22000, Perms::RW))
            .unwrap();
        set.insert(Vma::anonymous(0x30000, 0x31000, Perms::NONE))
            .unwrap();
        set.insert(Vma::anonymous(
            0x40000,
            0x41000,
            Perms {
                read: false,
                write: true,
                exec: false,
            },
        ))
        .unwrap();
        set.insert(Vma::anonymous(
            0x50000,
            0x51000,
            Perms {
                read: false,
                write: false,
                exec: true,
            },
        ))
        .unwrap();
        let mut shared = Vma::anonymous(0x60000, 0x61000, Perms::RW);
        shared.sharing = Sharing::Shared;
        set.insert(shared).unwrap();
        set
    }

    #[test]
    fn pte_flags_follow_the_riscv_protection_map() {
        assert_eq!(pte_flags(Perms::NONE), None);
        assert_eq!(pte_flags(Perms::R), Some(R));
        assert_eq!(
            pte_flags(Perms {
                read: false,
                write: true,
                exec: false
            }),
            Some(RW)
        );
        assert_eq!(
            pte_flags(Perms {
                read: false,
                write: false,
                exec: true
            }),
            Some(X)
        );
        assert_eq!(pte_flags(Perms::RX), Some(RX));
        assert_eq!(pte_flags(Perms::RW).unwrap().bits(), PTE_R | PTE_W | PTE_U);
        assert_eq!(
            PteFlags::from_bits(0xdf),
            PteFlags {
                read: true,
                write: true,
                exec: true,
                user: true
            }
        );
        assert_eq!(RW.without_write(), R);
    }

    #[test]
    fn scause_codes() {
        assert_eq!(Access::from_scause(12), Some(Access::Execute));
        assert_eq!(Access::from_scause(13), Some(Access::Read));
        assert_eq!(Access::from_scause(15), Some(Access::Write));
        assert_eq!(Access::from_scause(5), None);
    }

    #[test]
    fn absent_pages_are_filled_from_the_file_or_zeroed() {
        let set = set();
        assert_eq!(
            decide(&set, 0x10abc, Access::Execute, PteState::Absent),
            FaultDecision::FileBacked {
                page: 0x10000,
                file: 4,
                offset: 0,
                len: 4096,
                flags: RX
            }
        );
        assert_eq!(
            decide(&set, 0x12000, Access::Read, PteState::Absent),
            FaultDecision::FileBacked {
                page: 0x12000,
                file: 4,
                offset: 0x2000,
                len: 0x100,
                flags: RX
            }
        );
        assert_eq!(
            decide(&set, 0x21fff, Access::Write, PteState::Absent),
            FaultDecision::DemandZero {
                page: 0x21000,
                flags: RW
            }
        );
        // Write-only areas map R+W; reads are allowed, as Linux's access_error allows them.
        assert_eq!(
            decide(&set, 0x40000, Access::Read, PteState::Absent),
            FaultDecision::DemandZero {
                page: 0x40000,
                flags: RW
            }
        );
    }

    #[test]
    fn segv_reasons() {
        let set = set();
        let maperr = FaultDecision::Segv(SegvReason::NoVma);
        let accerr = FaultDecision::Segv(SegvReason::Protection);
        assert_eq!(decide(&set, 0x0, Access::Read, PteState::Absent), maperr);
        assert_eq!(
            decide(&set, 0x13000, Access::Read, PteState::Absent),
            maperr
        );
        assert_eq!(
            decide(&set, 0x8000_0000, Access::Read, PteState::Absent),
            maperr
        );
        assert_eq!(
            decide(&set, 0x10000, Access::Write, PteState::Absent),
            accerr
        );
        assert_eq!(
            decide(&set, 0x20000, Access::Execute, PteState::Absent),
            accerr
        );
        for access in [Access::Read, Access::Write, Access::Execute] {
            assert_eq!(
                decide(&set, 0x30000, access, PteState::Absent),
                accerr,
                "PROT_NONE"
            );
        }
        assert_eq!(
            decide(&set, 0x50000, Access::Read, PteState::Absent),
            accerr,
            "exec-only"
        );
        assert_eq!(
            decide(&set, 0x50000, Access::Execute, PteState::Absent),
            FaultDecision::DemandZero {
                page: 0x50000,
                flags: X
            }
        );
        assert_eq!(SegvReason::NoVma.si_code(), 1);
        assert_eq!(SegvReason::Protection.si_code(), 2);
    }

    #[test]
    fn present_ptes() {
        let set = set();
        let present = |f| PteState::Present(f);
        assert_eq!(
            decide(&set, 0x20000, Access::Write, present(RW)),
            FaultDecision::Spurious
        );
        assert_eq!(
            decide(&set, 0x10000, Access::Read, present(RX)),
            FaultDecision::Spurious
        );
        assert_eq!(
            decide(&set, 0x20010, Access::Write, present(R)),
            FaultDecision::Cow {
                page: 0x20000,
                flags: RW
            }
        );
        assert_eq!(
            decide(&set, 0x60010, Access::Write, present(R)),
            FaultDecision::UpgradePte {
                page: 0x60000,
                flags: RW
            },
            "shared pages are never copied"
        );
        let not_user = PteFlags { user: false, ..RW };
        assert_eq!(
            decide(&set, 0x20000, Access::Read, present(not_user)),
            FaultDecision::UpgradePte {
                page: 0x20000,
                flags: RW
            }
        );
        // A present PTE never overrides the area's rights.
        assert_eq!(
            decide(&set, 0x10000, Access::Write, present(RW)),
            FaultDecision::Segv(SegvReason::Protection)
        );
    }

    #[test]
    fn user_ranges() {
        let set = set();
        assert_eq!(
            check_user_range(&set, 0x20000, 0x2000, Access::Write),
            Ok(())
        );
        assert_eq!(
            check_user_range(&set, 0x21fff, 2, Access::Read),
            Err(Errno::EFAULT)
        );
        assert_eq!(
            check_user_range(&set, 0x10000, 1, Access::Write),
            Err(Errno::EFAULT)
        );
        assert_eq!(
            check_user_range(&set, 0x10000, 0x3000, Access::Read),
            Ok(())
        );
        assert_eq!(check_user_range(&set, 0x0, 0, Access::Read), Ok(()));
        assert_eq!(
            check_user_range(&set, u64::MAX, 2, Access::Read),
            Err(Errno::EFAULT)
        );
        assert_eq!(
            check_user_range(&set, 0x30000, 1, Access::Read),
            Err(Errno::EFAULT)
        );
    }

    #[test]
    fn pages_past_the_end_of_a_mapped_file_raise_sigbus() {
        let mut set = VmaSet::new();
        set.insert(Vma {
            start: 0x10000,
            end: 0x13000,
            perms: Perms::R,
            sharing: Sharing::Shared,
            backing: Backing::File {
                file: 1,
                offset: 0,
                file_end: 0x1001,
            },
            name: VmaName::None,
        })
        .unwrap();
        assert!(matches!(
            decide(&set, 0x11000, Access::Read, PteState::Absent),
            FaultDecision::FileBacked { len: 1, .. }
        ));
        assert_eq!(
            decide(&set, 0x12000, Access::Read, PteState::Absent),
            FaultDecision::Sigbus
        );
    }
}
