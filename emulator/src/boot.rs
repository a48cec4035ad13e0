//! Building a ready-to-run [`Machine`] from the user's images, as QEMU's `virt` does:
//! firmware at the start of DRAM, the kernel at its ELF addresses (raw: 0x8020_0000, or the
//! start of DRAM without firmware), the initrd and the device tree in RAM, and a boot ROM that
//! passes the hart id and the device-tree address.
//!
//! Program mode ([`crate::program`]) uses the same path: its initramfs is an initrd given as
//! bytes, and its first command goes into the device tree's `/chosen`.
//!
//! A disk ([`open_disk`], then [`build_machine_with_disk`]) is a host file behind the
//! virtio-blk device: an existing file keeps its size, a missing one is created sparse, and
//! without a path a private temporary file (already unlinked, so nothing is left behind)
//! serves as scratch space.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::bus::Bus;
use crate::devices::virtio_blk::{ImageError, SECTOR_SIZE};
use crate::devices::{
    BootRom, DiskTiming, GuestLog, HostInput, HostIo, Htif, Transport, Uart, UartInput, VirtioBlk,
};
use crate::fdt::{self, FdtConfig, InitCommand};
use crate::layout::*;
use crate::loader::{self, Image, LoadError, Segment};
use crate::machine::Machine;
use crate::ram::{Ram, RamError};

/// Where an image comes from.
#[derive(Debug, Clone)]
pub enum ImageSource {
    /// A file on the host.
    File(PathBuf),
    /// An image built into the `sv39` binary: its name and bytes.
    Embedded(&'static str, &'static [u8]),
}

impl ImageSource {
    fn load(&self, raw_base: u64) -> Result<Image, LoadError> {
        match self {
            ImageSource::File(path) => loader::load_image(path, raw_base),
            ImageSource::Embedded(name, bytes) => {
                loader::parse_image(Path::new(name), bytes.to_vec(), raw_base)
            }
        }
    }
}

/// Where the initial ramdisk comes from.
#[derive(Debug, Clone)]
pub enum Initrd {
    /// A file on the host (`--initrd`).
    File(PathBuf),
    /// Bytes built by sv39 (the program-mode initramfs), with a name for messages.
    Bytes {
        /// What to call it in messages.
        name: String,
        /// The archive.
        data: Vec<u8>,
    },
}

/// How the guest's consoles meet the host's standard streams.
pub struct HostConsole {
    /// Where the UART's input comes from.
    pub uart_input: UartInput,
    /// Where the UART's output goes.
    pub uart_output: Box<dyn Write + Send>,
    /// The host I/O device, with its input and outputs.
    pub hostio: HostIo,
}

impl HostConsole {
    /// Program mode: the program owns stdin, stdout and stderr through the host I/O device
    /// (stdin read to fill each request when piped, a line at a time from a terminal); the
    /// UART, which carries the firmware's and kernel's messages, is a log (target `guest`)
    /// and has no input.
    pub fn program() -> Self {
        let stdin = std::io::stdin();
        let input = if stdin.is_terminal() {
            HostInput::Terminal(Box::new(stdin))
        } else {
            HostInput::Stream(Box::new(stdin))
        };
        Self {
            uart_input: UartInput::None,
            uart_output: Box::new(GuestLog::new()),
            hostio: HostIo::new(
                input,
                Box::new(std::io::stdout()),
                Box::new(std::io::stderr()),
            ),
        }
    }

    /// Booting a kernel or a bare-metal program: the UART is the terminal (stdin read
    /// interactively from a terminal, deterministically from a pipe); the host I/O device
    /// writes to stdout and stderr too but has no input, which the UART owns.
    pub fn uart() -> Self {
        let stdin = std::io::stdin();
        let uart_input = if stdin.is_terminal() {
            UartInput::Interactive
        } else {
            UartInput::Reader(Box::new(stdin))
        };
        Self {
            uart_input,
            uart_output: Box::new(std::io::stdout()),
            hostio: HostIo::default(),
        }
    }
}

/// What to boot and how.
pub struct BootConfig {
    /// Firmware image; `None` is `--bios none`: the hart starts at the kernel's entry.
    pub bios: Option<ImageSource>,
    /// Kernel (or bare-metal program) image.
    pub kernel: Option<ImageSource>,
    /// Initial ramdisk.
    pub initrd: Option<Initrd>,
    /// Kernel command line, placed in `/chosen/bootargs`.
    pub append: Option<String>,
    /// The first process (program mode), placed in `/chosen/sv39,init-argv` and `-envp`.
    pub init: Option<InitCommand>,
    /// DRAM size in bytes.
    pub ram_size: u64,
    /// The UART's and the host I/O device's streams.
    pub console: HostConsole,
    /// TLB geometry, A/D policy and checking.
    pub mmu: crate::mmu::MmuConfig,
    /// The cost model (the disk's latencies included).
    pub timing: crate::timing::Timing,
    /// Whether sv39's own devices (host I/O, fault trace) are on the bus and in the device
    /// tree; `false` leaves exactly QEMU `virt`'s devices and puts QEMU's `-seed 0`
    /// `/chosen/rng-seed` in the device tree (a lockstep comparison).
    pub sv39_devices: bool,
}

/// Why the machine could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    /// An image could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// Guest RAM could not be reserved.
    #[error(transparent)]
    Ram(#[from] RamError),
    /// The device tree could not be built.
    #[error("device tree: {0}")]
    Fdt(#[from] fdt::FdtError),
    /// The memory size is outside what the machine supports.
    #[error(
        "memory size {} is out of range ({} to {})",
        human_size(*size),
        human_size(*min),
        human_size(*max)
    )]
    RamSize {
        /// Requested size.
        size: u64,
        /// Smallest accepted.
        min: u64,
        /// Largest accepted.
        max: u64,
    },
    /// `--bios none` without a kernel leaves nothing to run.
    #[error("nothing to run: with --bios none, give a program with --kernel")]
    NothingToRun,
    /// The initrd or device tree does not fit in RAM.
    #[error("{what} ({size} bytes) does not fit in RAM at {addr:#x}")]
    NoRoom {
        /// What was being placed.
        what: String,
        /// Where.
        addr: u64,
        /// How big it is.
        size: u64,
    },
}

/// Where the disk's backing file comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiskSource {
    /// A host file (`--disk PATH`), opened read-write. When missing it is created, sparse,
    /// of `size` bytes (default: [`default_disk_size`]); when it exists it keeps its own
    /// size, and a different `size` only draws a warning.
    File {
        /// The file.
        path: PathBuf,
        /// The size asked for (`--disk-size`), if any.
        size: Option<u64>,
    },
    /// A private temporary file of `size` bytes, sparse and already unlinked.
    Temporary {
        /// Its size in bytes.
        size: u64,
    },
}

/// The disk to attach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskConfig {
    /// Its backing file.
    pub source: DiskSource,
    /// The virtio-mmio register layout (legacy unless `--virtio-modern`).
    pub transport: Transport,
}

/// The disk could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    /// The size asked for is not whole sectors.
    #[error("disk size {0} bytes is not a positive multiple of 512")]
    Size(u64),
    /// The file exists but cannot be opened read-write.
    #[error("disk {}: cannot open it for reading and writing: {io}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The host's error.
        io: std::io::Error,
    },
    /// The file is missing and cannot be created.
    #[error("disk {}: cannot create it: {io}", path.display())]
    Create {
        /// The file.
        path: PathBuf,
        /// The host's error.
        io: std::io::Error,
    },
    /// The file cannot be a disk.
    #[error("disk {}: {reason}", path.display())]
    Image {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: ImageError,
    },
    /// No temporary file could be made.
    #[error("cannot create a temporary disk: {0}")]
    Temporary(std::io::Error),
}

/// The size of a disk sv39 creates without being told: twice RAM, at least 256 MiB and at
/// most 4 GiB (sparse, so only what the guest writes takes room on the host).
pub fn default_disk_size(ram_size: u64) -> u64 {
    ram_size.saturating_mul(2).clamp(256 << 20, 4 << 30)
}

/// Opens (or creates) the disk's backing file and builds the device around it.
pub fn open_disk(cfg: &DiskConfig, ram_size: u64) -> Result<VirtioBlk, DiskError> {
    let check = |size: u64| {
        if size == 0 || !size.is_multiple_of(SECTOR_SIZE) {
            Err(DiskError::Size(size))
        } else {
            Ok(size)
        }
    };
    let (file, path) = match &cfg.source {
        DiskSource::Temporary { size } => {
            let size = check(*size)?;
            let file = tempfile::tempfile().map_err(DiskError::Temporary)?;
            file.set_len(size).map_err(DiskError::Temporary)?;
            (file, PathBuf::from("<temporary disk>"))
        }
        DiskSource::File { path, size } => {
            let size = size.map(check).transpose()?;
            let file = match std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(path)
            {
                Ok(file) => {
                    if let (Some(want), Ok(meta)) = (size, file.metadata())
                        && meta.len() != want
                    {
                        log::warn!(
                            "disk {}: keeps its size of {} bytes; --disk-size {} applies only \
                             when sv39 creates the file",
                            path.display(),
                            meta.len(),
                            want
                        );
                    }
                    file
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    create_sparse(path, size.unwrap_or(default_disk_size(ram_size)))?
                }
                Err(io) => {
                    return Err(DiskError::Open {
                        path: path.clone(),
                        io,
                    });
                }
            };
            (file, path.clone())
        }
    };
    // The machine installs its cost model's latencies (Machine::set_timing).
    VirtioBlk::new(file, cfg.transport, DiskTiming::default())
        .map_err(|reason| DiskError::Image { path, reason })
}

fn create_sparse(path: &Path, size: u64) -> Result<std::fs::File, DiskError> {
    let create = || -> std::io::Result<std::fs::File> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)?;
        if let Err(e) = file.set_len(size) {
            let _ = std::fs::remove_file(path);
            return Err(e);
        }
        Ok(file)
    };
    let file = create().map_err(|io| DiskError::Create {
        path: path.to_path_buf(),
        io,
    })?;
    log::info!("disk {}: created, {} bytes", path.display(), size);
    Ok(file)
}

/// A byte count in the largest binary unit that divides it, as `-m` accepts it (`128M`).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [(u32, &str); 4] = [(40, "T"), (30, "G"), (20, "M"), (10, "K")];
    for (shift, unit) in UNITS {
        if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    format!("{bytes} bytes")
}

/// Loads the images, builds the device tree and boot ROM, and returns the machine at reset.
pub fn build_machine(cfg: BootConfig) -> Result<Machine, BootError> {
    build_machine_with_disk(cfg, None)
}

/// [`build_machine`] with a virtio-blk disk on the first virtio-mmio transport (and its node
/// in the device tree) when `disk` is given.
pub fn build_machine_with_disk(
    cfg: BootConfig,
    disk: Option<VirtioBlk>,
) -> Result<Machine, BootError> {
    if !(MIN_RAM..=MAX_RAM).contains(&cfg.ram_size) {
        return Err(BootError::RamSize {
            size: cfg.ram_size,
            min: MIN_RAM,
            max: MAX_RAM,
        });
    }
    let ram_end = DRAM_BASE + cfg.ram_size;
    let bios = cfg.bios.as_ref().map(|s| s.load(DRAM_BASE)).transpose()?;
    let kernel_base = if bios.is_some() {
        KERNEL_BASE
    } else {
        DRAM_BASE
    };
    let kernel = cfg
        .kernel
        .as_ref()
        .map(|s| s.load(kernel_base))
        .transpose()?;
    if bios.is_none() && kernel.is_none() {
        return Err(BootError::NothingToRun);
    }
    let mut images: Vec<Image> = bios.iter().chain(kernel.iter()).cloned().collect();
    for img in &images {
        loader::check_in_ram(img, DRAM_BASE, ram_end)?;
    }
    if let [a, b] = images.as_slice() {
        loader::check_disjoint(a, b)?;
    }

    // QEMU puts the initrd halfway into small RAMs and at 128 MiB past the kernel otherwise.
    let mut initrd_span = None;
    if let Some(initrd) = cfg.initrd {
        let (path, data, what) = match initrd {
            Initrd::File(path) => {
                let data = std::fs::read(&path).map_err(|io| LoadError::Read {
                    path: path.clone(),
                    io,
                })?;
                let what = format!("initrd {}", path.display());
                (path, data, what)
            }
            Initrd::Bytes { name, data } => (PathBuf::from(&name), data, name),
        };
        let kernel_entry = kernel.as_ref().map_or(kernel_base, |k| k.entry);
        let start = kernel_entry + (cfg.ram_size / 2).min(128 << 20);
        let end = start + data.len() as u64;
        if end > ram_end {
            return Err(BootError::NoRoom {
                what,
                addr: start,
                size: data.len() as u64,
            });
        }
        initrd_span = Some((start, end));
        let img = Image {
            path: path.clone(),
            entry: start,
            segments: vec![Segment {
                paddr: start,
                data,
                zero_fill: 0,
            }],
            tohost: None,
            fromhost: None,
            is_elf: false,
        };
        for other in &images {
            loader::check_disjoint(other, &img)?;
        }
        images.push(img);
    }

    let dtb = fdt::build(&FdtConfig {
        ram_base: DRAM_BASE,
        ram_size: cfg.ram_size,
        bootargs: cfg.append.clone(),
        initrd: initrd_span,
        init: cfg.init.clone(),
        disk: disk.is_some(),
        sv39_devices: cfg.sv39_devices,
        // The seed QEMU writes, so both device trees hold the same bytes.
        rng_seed: (!cfg.sv39_devices).then_some(fdt::QEMU_SEED_0_RNG_SEED),
    })?;
    let fdt_addr = fdt::placement(DRAM_BASE, cfg.ram_size, dtb.len());
    let fdt_image = Image {
        path: PathBuf::from("<device tree>"),
        entry: fdt_addr,
        segments: vec![Segment {
            paddr: fdt_addr,
            data: dtb,
            zero_fill: 0,
        }],
        tohost: None,
        fromhost: None,
        is_elf: false,
    };
    loader::check_in_ram(&fdt_image, DRAM_BASE, ram_end).map_err(|_| BootError::NoRoom {
        what: "device tree".into(),
        addr: fdt_addr,
        size: fdt_image.span().1 - fdt_addr,
    })?;
    for other in &images {
        loader::check_disjoint(other, &fdt_image)?;
    }
    images.push(fdt_image);

    // Without firmware the boot ROM jumps straight to the program's entry point.
    let start_addr = match (&bios, &kernel) {
        (Some(_), _) => DRAM_BASE,
        (None, Some(k)) => k.entry,
        (None, None) => unreachable!("checked above"),
    };
    let mut ram = Ram::new(DRAM_BASE, cfg.ram_size)?;
    for img in &images {
        loader::place(img, &mut ram);
    }
    let uart = Uart::new(cfg.console.uart_input, cfg.console.uart_output);
    let mut bus = Bus::new(ram, BootRom::new(start_addr, fdt_addr), uart);
    bus.hostio = cfg.console.hostio;
    bus.sv39_devices = cfg.sv39_devices;
    bus.disk = disk;
    let htif_source = kernel
        .as_ref()
        .filter(|k| k.tohost.is_some())
        .or(bios.as_ref());
    if let Some(img) = htif_source
        && let Some(tohost) = img.tohost
    {
        bus.attach_htif(Htif::new(tohost, img.fromhost));
    }
    let mut machine = Machine::new(bus, BOOTROM_BASE);
    machine.hart.mmu = crate::mmu::Mmu::new(cfg.mmu);
    machine.set_timing(cfg.timing);
    machine.set_reset_images(images);
    Ok(machine)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images;

    /// Program mode as `sv39 run` sets it up, with `initramfs` and `init`.
    fn program_mode(initramfs: Vec<u8>, init: InitCommand) -> BootConfig {
        BootConfig {
            bios: Some(ImageSource::Embedded(
                images::FIRMWARE_NAME,
                images::FIRMWARE,
            )),
            kernel: Some(ImageSource::Embedded(images::KERNEL_NAME, images::KERNEL)),
            initrd: Some(Initrd::Bytes {
                name: "test initramfs".into(),
                data: initramfs,
            }),
            append: None,
            init: Some(init),
            ram_size: DEFAULT_RAM,
            console: HostConsole {
                uart_input: UartInput::None,
                uart_output: Box::new(GuestLog::new()),
                hostio: HostIo::default(),
            },
            mmu: crate::mmu::MmuConfig::default(),
            timing: crate::timing::Timing::default(),
            sv39_devices: true,
        }
    }

    fn ram_bytes(machine: &Machine, addr: u64, len: usize) -> Vec<u8> {
        let mut out = vec![0; len];
        assert!(machine.bus.ram.dump(addr, &mut out), "{addr:#x}+{len}");
        out
    }

    #[test]
    fn program_mode_announces_initramfs_and_first_process() {
        let archive = b"070701 pretend archive".to_vec();
        let init = InitCommand {
            argv: vec!["./hello".into(), "--flag".into()],
            envp: vec!["HOME=/".into()],
        };
        let machine = build_machine(program_mode(archive.clone(), init)).unwrap();
        // 128 MiB: the device tree is at 0x87e0_0000, as QEMU puts it.
        let fdt_addr = fdt::placement(DRAM_BASE, DEFAULT_RAM, 0x1000);
        let header = ram_bytes(&machine, fdt_addr, 8);
        let total = u32::from_be_bytes(header[4..8].try_into().unwrap()) as usize;
        let blob = ram_bytes(&machine, fdt_addr, total);
        let tree = ::fdt::Fdt::new(&blob).unwrap();
        let chosen = tree.find_node("/chosen").unwrap();
        let cell = |name: &str| {
            let v = chosen.property(name).unwrap().value;
            u32::from_be_bytes(v.try_into().unwrap()) as u64
        };
        let (start, end) = (cell("linux,initrd-start"), cell("linux,initrd-end"));
        assert_eq!(end - start, archive.len() as u64);
        assert_eq!(ram_bytes(&machine, start, archive.len()), archive);
        assert_eq!(
            chosen.property("sv39,init-argv").unwrap().value,
            b"./hello\0--flag\0"
        );
        assert_eq!(
            chosen.property("sv39,init-envp").unwrap().value,
            b"HOME=/\0"
        );
        assert!(tree.find_compatible(&["sv39,hostio"]).is_some());
    }

    #[test]
    fn an_initramfs_too_big_for_ram_is_refused() {
        let init = InitCommand {
            argv: vec!["/x".into()],
            envp: vec![],
        };
        let mut cfg = program_mode(vec![0; 100 << 20], init);
        cfg.ram_size = 64 << 20;
        let err = build_machine(cfg).err().expect("must not fit");
        assert!(err.to_string().contains("test initramfs"), "{err}");
    }

    fn disk(source: DiskSource) -> Result<VirtioBlk, DiskError> {
        let cfg = DiskConfig {
            source,
            transport: Transport::Legacy,
        };
        open_disk(&cfg, DEFAULT_RAM)
    }

    #[test]
    fn disks_are_created_sparse_or_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("swap.img");
        let d = disk(DiskSource::File {
            path: path.clone(),
            size: Some(1 << 20),
        })
        .unwrap();
        assert_eq!(d.capacity(), 2048);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 1 << 20);
        // Existing: keeps its size whatever --disk-size says.
        let d = disk(DiskSource::File {
            path: path.clone(),
            size: Some(4 << 20),
        })
        .unwrap();
        assert_eq!(d.capacity(), 2048);
        // Missing, no size: the default for the RAM size.
        let other = dir.path().join("default.img");
        let d = disk(DiskSource::File {
            path: other.clone(),
            size: None,
        })
        .unwrap();
        assert_eq!(d.capacity() * 512, default_disk_size(DEFAULT_RAM));
        let t = disk(DiskSource::Temporary { size: 512 }).unwrap();
        assert_eq!(t.capacity(), 1);
        assert_eq!(default_disk_size(DEFAULT_RAM), 256 << 20);
        assert_eq!(default_disk_size(1 << 30), 2 << 30);
        assert_eq!(default_disk_size(16 << 30), 4 << 30);
    }

    #[test]
    fn unusable_disks_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let message = |source: DiskSource| disk(source).err().expect("must fail").to_string();
        let e = message(DiskSource::File {
            path: dir.path().to_path_buf(),
            size: None,
        });
        assert!(e.contains(dir.path().to_str().unwrap()), "{e}");
        assert!(e.contains("directory"), "{e}");
        for bad in [0, 1000] {
            let e = message(DiskSource::File {
                path: dir.path().join("x.img"),
                size: Some(bad),
            });
            assert!(e.contains("multiple of 512"), "{e}");
            assert!(!dir.path().join("x.img").exists());
        }
        let odd = dir.path().join("odd.img");
        std::fs::write(&odd, [0u8; 1000]).unwrap();
        let e = message(DiskSource::File {
            path: odd.clone(),
            size: None,
        });
        assert!(e.contains("odd.img") && e.contains("1000 bytes"), "{e}");
        let empty = dir.path().join("empty.img");
        std::fs::write(&empty, []).unwrap();
        let e = message(DiskSource::File {
            path: empty,
            size: None,
        });
        assert!(e.contains("empty"), "{e}");
        let e = message(DiskSource::File {
            path: dir.path().join("no/such/dir/d.img"),
            size: Some(512),
        });
        assert!(e.contains("cannot create"), "{e}");
    }

    #[test]
    fn a_disk_is_on_the_bus_and_in_the_device_tree() {
        let init = InitCommand {
            argv: vec!["/x".into()],
            envp: vec![],
        };
        let d = disk(DiskSource::Temporary { size: 1 << 20 }).unwrap();
        let machine = build_machine_with_disk(program_mode(vec![0; 512], init), Some(d)).unwrap();
        assert!(machine.bus.disk.is_some());
        let fdt_addr = fdt::placement(DRAM_BASE, DEFAULT_RAM, 0x1000);
        let header = ram_bytes(&machine, fdt_addr, 8);
        let total = u32::from_be_bytes(header[4..8].try_into().unwrap()) as usize;
        let blob = ram_bytes(&machine, fdt_addr, total);
        let tree = ::fdt::Fdt::new(&blob).unwrap();
        let node = tree.find_compatible(&["virtio,mmio"]).unwrap();
        assert_eq!(node.name, "virtio_mmio@10001000");
    }
}
