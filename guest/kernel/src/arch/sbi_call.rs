//! The `ecall` into the SBI firmware (SBI specification v2.0, chapter 3, "Binary Encoding").

/// What an SBI call returns: `a0` is the error code (0 is success), `a1` the value.
#[derive(Debug, Clone, Copy)]
pub struct SbiRet {
    /// `a0`: `SBI_SUCCESS` (0) or a negative `SBI_ERR_*` code.
    pub error: isize,
    /// `a1`: the call's result when `error` is 0.
    pub value: usize,
}

/// Calls extension `eid`, function `fid` with `a0..a2` = `args`.
///
/// Legacy extensions (EID 0x00..=0x0F) ignore `fid` and return only `a0`; for them `error`
/// holds the call's result and `value` is meaningless.
///
/// # Safety
///
/// The firmware acts on the arguments: any address passed must be the physical address of
/// memory the call may read or write for the given length, as the specification of the call
/// describes.
pub unsafe fn sbi_call(eid: usize, fid: usize, args: [usize; 3]) -> SbiRet {
    let error: isize;
    let value: usize;
    // SAFETY: the SBI calling convention preserves every register except a0 and a1, which are
    // declared as outputs; what the firmware does with memory is the caller's contract.
    unsafe {
        core::arch::asm!(
            "ecall",
            inlateout("a0") args[0] => error,
            inlateout("a1") args[1] => value,
            in("a2") args[2],
            in("a6") fid,
            in("a7") eid,
            options(nostack),
        );
    }
    SbiRet { error, value }
}
