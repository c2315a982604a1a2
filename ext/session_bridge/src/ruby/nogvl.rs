//! Runs Redis I/O without holding Ruby's GVL, with an unblocking function so `Thread#kill`,
//! `Thread#raise` and `Timeout.timeout` stop a blocked call at once.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

use magnus::{rb_sys::AsRawValue, Error, Ruby};
use rb_sys::{rb_thread_alone, rb_thread_call_without_gvl, rb_thread_check_ints};

use super::errors;
use crate::core::connection::Interrupt;

struct Call<F, R> {
    func: Option<F>,
    result: Option<std::thread::Result<R>>,
}

unsafe extern "C" fn trampoline<F: FnOnce() -> R, R>(data: *mut c_void) -> *mut c_void {
    // SAFETY: `data` is the `Call` on `without_gvl`'s stack, alive for the whole call.
    let call = unsafe { &mut *(data as *mut Call<F, R>) };
    if let Some(func) = call.func.take() {
        call.result = Some(catch_unwind(AssertUnwindSafe(func)));
    }
    std::ptr::null_mut()
}

unsafe extern "C" fn unblock(data: *mut c_void) {
    // SAFETY: `data` is the `Interrupt` kept alive by `without_gvl`'s caller for the whole call;
    // Ruby never calls this after `rb_thread_call_without_gvl` has returned.
    let interrupt = unsafe { &*(data as *const Interrupt) };
    interrupt.trigger();
}

/// Runs `func` without the GVL. `func` must not touch Ruby. Afterwards, pending interrupts are
/// delivered first (a `Thread#raise` wins over the error its interruption caused).
/// Returns `None` when Ruby interrupted the thread before `func` could start.
///
/// When this is the process's only Ruby thread there is nobody to hand the GVL to, and
/// releasing it from the main thread costs Ruby 3.1 a hand-over of signal handling to its timer
/// thread (about six futex calls and a pipe write per call, measured with strace): `func` then
/// runs with the GVL held. A signal is then handled when the call returns, within its timeout;
/// any other thread (including the one `Timeout.timeout` starts) makes calls release the GVL.
pub fn without_gvl<F, R>(ruby: &Ruby, interrupt: &Interrupt, func: F) -> Result<Option<R>, Error>
where
    F: FnOnce() -> R,
{
    let mut call = Call { func: Some(func), result: None };
    let data = &mut call as *mut Call<F, R> as *mut c_void;
    // SAFETY: both pointers outlive the call; the trampoline catches panics so none unwinds
    // into Ruby's C frames.
    unsafe {
        if rb_thread_alone() != 0 {
            trampoline::<F, R>(data);
        } else {
            rb_thread_call_without_gvl(
                Some(trampoline::<F, R>),
                data,
                Some(unblock),
                interrupt as *const Interrupt as *mut c_void,
            );
        }
    }
    magnus::rb_sys::protect(|| {
        // SAFETY: called with the GVL held; a raise is caught by `protect`.
        unsafe { rb_thread_check_ints() };
        ruby.qnil().as_raw()
    })?;
    match call.result {
        Some(Ok(value)) => Ok(Some(value)),
        Some(Err(_panic)) => {
            Err(errors::internal(ruby, "session_bridge's native code panicked; this is a bug"))
        }
        None => Ok(None),
    }
}
