//! The sandbox's process: a hand-assembled static ELF executable of a few hundred bytes that
//! installs a handler for SIGTERM and SIGINT, then waits for signals forever; the handler exits
//! with status 0. It needs no libc, no shell and no registry, so kubox can build its sandbox
//! image (`kubox/pause:N`) on any daemon from these bytes alone.
//!
//! A handler is needed, not only a default disposition: the process is PID 1 of its PID
//! namespace, and the kernel drops signals whose disposition is the default for such a process,
//! so without one `docker stop` would always end in SIGKILL after its timeout.
//!
//! Layout: ELF header, two program headers (one read+execute `PT_LOAD` mapping the whole file at
//! [`BASE`], one `PT_GNU_STACK` asking for a non-executable stack), the code, then the
//! `struct sigaction` the code passes to `rt_sigaction` (handler, `SA_RESTORER`, restorer,
//! empty mask). The handler never returns, so the restorer is never run; it is set because
//! older x86-64 kernels refuse to deliver a signal to a handler that has none.
//!
//! The machine code, with its assembly (checked with `llvm-mc` / `llvm-objdump`):
//! - x86-64: `rt_sigaction(15, &act, 0, 8)`, `rt_sigaction(2, &act, 0, 8)`, then
//!   `loop: pause(); jmp loop`; handler: `exit_group(0)`.
//! - aarch64 (no `pause` syscall there): the same with `ppoll(NULL, 0, NULL, NULL, 0)`, which
//!   sleeps until a signal arrives.

/// Where the file is mapped; 64 KiB aligned, so valid for 4 KiB and 64 KiB page kernels.
const BASE: u64 = 0x40_0000;
const EHDR_SIZE: usize = 64;
const PHDR_SIZE: usize = 56;
const PHDRS: usize = 2;
/// File offset of the code (8-aligned).
const CODE_OFFSET: usize = EHDR_SIZE + PHDRS * PHDR_SIZE;
const SA_RESTORER: u64 = 0x0400_0000;

struct Arch {
    machine: u16,
    /// Code up to (not including) the `struct sigaction`, padded to 8 bytes.
    code: &'static [u8],
    /// Offset of the handler within `code`.
    handler: usize,
}

#[rustfmt::skip]
const X86_64: Arch = Arch {
    machine: 0x3e, // EM_X86_64
    code: &[
        0x48, 0x8d, 0x35, 0x39, 0x00, 0x00, 0x00, // lea rsi, [rip + act]
        0xbf, 0x0f, 0x00, 0x00, 0x00,             // mov edi, 15 (SIGTERM)
        0x31, 0xd2,                               // xor edx, edx
        0x41, 0xba, 0x08, 0x00, 0x00, 0x00,       // mov r10d, 8 (sigsetsize)
        0xb8, 0x0d, 0x00, 0x00, 0x00,             // mov eax, 13 (rt_sigaction)
        0x0f, 0x05,                               // syscall
        0xbf, 0x02, 0x00, 0x00, 0x00,             // mov edi, 2 (SIGINT)
        0xb8, 0x0d, 0x00, 0x00, 0x00,             // mov eax, 13
        0x0f, 0x05,                               // syscall
        0xb8, 0x22, 0x00, 0x00, 0x00,             // loop: mov eax, 34 (pause)
        0x0f, 0x05,                               // syscall
        0xeb, 0xf7,                               // jmp loop
        0x31, 0xff,                               // handler: xor edi, edi
        0xb8, 0xe7, 0x00, 0x00, 0x00,             // mov eax, 231 (exit_group)
        0x0f, 0x05,                               // syscall
        0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00, // nop (padding)
    ],
    handler: 0x30,
};

#[rustfmt::skip]
const AARCH64: Arch = Arch {
    machine: 0xb7, // EM_AARCH64
    code: &[
        0xe0, 0x01, 0x80, 0xd2, // mov x0, #15 (SIGTERM)
        0xe1, 0x02, 0x00, 0x10, // adr x1, act
        0x02, 0x00, 0x80, 0xd2, // mov x2, #0
        0x03, 0x01, 0x80, 0xd2, // mov x3, #8 (sigsetsize)
        0xc8, 0x10, 0x80, 0xd2, // mov x8, #134 (rt_sigaction)
        0x01, 0x00, 0x00, 0xd4, // svc #0
        0x40, 0x00, 0x80, 0xd2, // mov x0, #2 (SIGINT)
        0x21, 0x02, 0x00, 0x10, // adr x1, act
        0x02, 0x00, 0x80, 0xd2, // mov x2, #0
        0x03, 0x01, 0x80, 0xd2, // mov x3, #8
        0xc8, 0x10, 0x80, 0xd2, // mov x8, #134
        0x01, 0x00, 0x00, 0xd4, // svc #0
        0x00, 0x00, 0x80, 0xd2, // loop: mov x0, #0
        0x01, 0x00, 0x80, 0xd2, // mov x1, #0
        0x02, 0x00, 0x80, 0xd2, // mov x2, #0
        0x03, 0x00, 0x80, 0xd2, // mov x3, #0
        0x04, 0x00, 0x80, 0xd2, // mov x4, #0
        0x28, 0x09, 0x80, 0xd2, // mov x8, #73 (ppoll)
        0x01, 0x00, 0x00, 0xd4, // svc #0
        0xf9, 0xff, 0xff, 0x17, // b loop
        0x00, 0x00, 0x80, 0xd2, // handler: mov x0, #0
        0xc8, 0x0b, 0x80, 0xd2, // mov x8, #94 (exit_group)
        0x01, 0x00, 0x00, 0xd4, // svc #0
        0x1f, 0x20, 0x03, 0xd5, // nop (padding)
    ],
    handler: 0x50,
};

/// The pause executable for `arch` (Rust's `std::env::consts::ARCH` names), if kubox has one.
pub fn executable(arch: &str) -> Option<Vec<u8>> {
    let arch = match arch {
        "x86_64" => &X86_64,
        "aarch64" => &AARCH64,
        _ => return None,
    };
    Some(build(arch))
}

fn build(arch: &Arch) -> Vec<u8> {
    debug_assert_eq!(arch.code.len() % 8, 0);
    let handler = BASE + (CODE_OFFSET + arch.handler) as u64;
    let size = (CODE_OFFSET + arch.code.len() + 32) as u64;
    let mut elf = Vec::with_capacity(size as usize);

    // ELF header.
    elf.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]); // 64-bit, little-endian, v1, SYSV
    elf.extend_from_slice(&[0; 8]);
    elf.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    elf.extend_from_slice(&arch.machine.to_le_bytes());
    elf.extend_from_slice(&1u32.to_le_bytes()); // EV_CURRENT
    elf.extend_from_slice(&(BASE + CODE_OFFSET as u64).to_le_bytes()); // entry
    elf.extend_from_slice(&(EHDR_SIZE as u64).to_le_bytes()); // program headers
    elf.extend_from_slice(&0u64.to_le_bytes()); // no section headers
    elf.extend_from_slice(&0u32.to_le_bytes()); // flags
    elf.extend_from_slice(&(EHDR_SIZE as u16).to_le_bytes());
    elf.extend_from_slice(&(PHDR_SIZE as u16).to_le_bytes());
    elf.extend_from_slice(&(PHDRS as u16).to_le_bytes());
    elf.extend_from_slice(&64u16.to_le_bytes()); // section header size
    elf.extend_from_slice(&0u16.to_le_bytes()); // no sections
    elf.extend_from_slice(&0u16.to_le_bytes()); // no section name table

    // PT_LOAD: the whole file, read + execute.
    elf.extend_from_slice(&1u32.to_le_bytes());
    elf.extend_from_slice(&5u32.to_le_bytes()); // PF_R | PF_X
    elf.extend_from_slice(&0u64.to_le_bytes()); // offset
    elf.extend_from_slice(&BASE.to_le_bytes()); // vaddr
    elf.extend_from_slice(&BASE.to_le_bytes()); // paddr
    elf.extend_from_slice(&size.to_le_bytes()); // filesz
    elf.extend_from_slice(&size.to_le_bytes()); // memsz
    elf.extend_from_slice(&0x1_0000u64.to_le_bytes()); // align
    // PT_GNU_STACK: read + write, not executable.
    elf.extend_from_slice(&0x6474_e551u32.to_le_bytes());
    elf.extend_from_slice(&6u32.to_le_bytes()); // PF_R | PF_W
    elf.extend_from_slice(&[0; 40]);
    elf.extend_from_slice(&16u64.to_le_bytes()); // align
    debug_assert_eq!(elf.len(), CODE_OFFSET);

    elf.extend_from_slice(arch.code);
    // struct sigaction (kernel layout): handler, flags, restorer, mask.
    elf.extend_from_slice(&handler.to_le_bytes());
    elf.extend_from_slice(&SA_RESTORER.to_le_bytes());
    elf.extend_from_slice(&handler.to_le_bytes());
    elf.extend_from_slice(&0u64.to_le_bytes());
    debug_assert_eq!(elf.len() as u64, size);
    elf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_architectures_have_an_executable() {
        for (arch, machine) in [("x86_64", 0x3eu16), ("aarch64", 0xb7)] {
            let elf = executable(arch).unwrap();
            assert_eq!(&elf[..4], b"\x7fELF");
            assert_eq!(u16::from_le_bytes([elf[18], elf[19]]), machine);
            // The sigaction's handler points at the handler's code.
            let act = elf.len() - 32;
            let handler = u64::from_le_bytes(elf[act..act + 8].try_into().unwrap());
            assert!(handler > BASE && handler < BASE + act as u64);
        }
        assert!(executable("riscv64").is_none());
    }

    /// Runs the executable built for this machine: it waits until SIGTERM, then exits 0.
    #[cfg(target_os = "linux")]
    #[test]
    fn pauses_until_sigterm_then_exits_zero() {
        use std::os::unix::fs::PermissionsExt;
        use std::os::unix::process::ExitStatusExt;

        let Some(elf) = executable(std::env::consts::ARCH) else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pause");
        std::fs::write(&path, elf).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        for signal in [libc::SIGTERM, libc::SIGINT] {
            let mut child = std::process::Command::new(&path).spawn().unwrap();
            std::thread::sleep(std::time::Duration::from_millis(100));
            assert!(
                child.try_wait().unwrap().is_none(),
                "pause exited by itself"
            );
            // SAFETY: kill(2) on our own child's pid.
            unsafe { libc::kill(child.id() as libc::pid_t, signal) };
            let status = child.wait().unwrap();
            assert_eq!((status.code(), status.signal()), (Some(0), None));
        }
    }
}
