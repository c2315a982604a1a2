//! Runs Redis I/O without holding Ruby's GVL, with an unblocking function so `Thread#kill`,
//! `Thread#raise`, `Timeout.timeout` and Ctrl-C stop a blocked call at once.
//!
//! Ruby never raises from inside: `rb_nogvl` with `RB_NOGVL_INTR_FAIL` returns to us with the
//! interrupt still pending, the caller puts its connection back (or closes it), and only then
//! [`deliver_interrupts`] lets Ruby raise, from a frame that owns nothing.
//!
//! A process's only Ruby thread keeps the GVL instead (there is nobody to hand it to). Its
//! blocking system calls return early (EINTR) when a signal arrives; the core then asks
//! [`handle_signals`], which lets Ruby handle what is pending right there, under `protect`: a
//! SIGCHLD changes nothing and the call goes on, while Ctrl-C's `Interrupt` is kept aside, the
//! call stops and cleans up, and the kept error is what the caller returns.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

use magnus::{rb_sys::AsRawValue, Error, Ruby};
use rb_sys::{
    rb_gc_register_address, rb_nogvl, rb_thread_alone, rb_thread_check_ints, rb_thread_current,
    rb_thread_interrupted, Qnil, RB_NOGVL_INTR_FAIL, RB_NOGVL_UBF_ASYNC_SAFE, VALUE,
};
use std::cell::RefCell;

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

/// Ruby's unblocking function. In a process whose only thread is blocked here, Ruby calls it
/// from its signal handler (`RB_NOGVL_UBF_ASYNC_SAFE`): `Interrupt::trigger` is async-signal-safe.
unsafe extern "C" fn unblock(data: *mut c_void) {
    // SAFETY: `data` is the `Interrupt` kept alive by `without_gvl`'s caller for the whole call;
    // Ruby never calls this after `rb_nogvl` has returned.
    let interrupt = unsafe { &*(data as *const Interrupt) };
    interrupt.trigger();
}

/// How often a call may find an interrupt pending before it starts (each one delivered, none of
/// them raising: a thread switch, an interrupt deferred by `Thread.handle_interrupt`) before it
/// runs with the interrupt flag already set, which its first blocking read then sees.
const MAX_PENDING_BEFORE_START: u32 = 100;

/// Runs `func` without the GVL; `func` must not touch Ruby. `Ok(Err(panic))` when it panicked.
///
/// An interrupt pending before `func` starts (a thread switch, a signal) is delivered first, and
/// `func` then starts; if delivering it raises, `func` never runs and the raise comes back as
/// `Err`. An interrupt that arrives while `func` runs stops its I/O through the unblocking
/// function and stays pending: call [`deliver_interrupts`] once the caller's own cleanup is done.
pub fn without_gvl<F, R>(ruby: &Ruby, interrupt: &Interrupt, func: F) -> Result<std::thread::Result<R>, Error>
where
    F: FnOnce() -> R,
{
    let mut call = Call { func: Some(func), result: None };
    let data = &mut call as *mut Call<F, R> as *mut c_void;
    // SAFETY: called with the GVL held.
    if unsafe { rb_thread_alone() } != 0 {
        deliver_interrupts(ruby)?;
        interrupt.poll_with(handle_signals);
        // SAFETY: as below; `func` touches Ruby only through `handle_signals`, with the GVL held.
        unsafe { trampoline::<F, R>(data) };
        if let Some(raised) = take_kept() {
            return Err(raised);
        }
        return Ok(call.result.take().unwrap_or_else(|| Err(Box::new("the call did not run"))));
    }
    for _ in 0..MAX_PENDING_BEFORE_START {
        // SAFETY: both pointers outlive the call; the trampoline catches panics so none unwinds
        // into Ruby's C frames; with RB_NOGVL_INTR_FAIL, rb_nogvl does not raise.
        unsafe {
            rb_nogvl(
                Some(trampoline::<F, R>),
                data,
                Some(unblock),
                interrupt as *const Interrupt as *mut c_void,
                (RB_NOGVL_INTR_FAIL | RB_NOGVL_UBF_ASYNC_SAFE) as i32,
            );
        }
        if let Some(result) = call.result.take() {
            return Ok(result);
        }
        // `func` did not start: an interrupt was pending.
        deliver_interrupts(ruby)?;
    }
    interrupt.trigger();
    // SAFETY: as above; the trampoline runs `func` here, which sees the interrupt triggered.
    unsafe { trampoline::<F, R>(data) };
    Ok(call.result.take().unwrap_or_else(|| Err(Box::new("the call did not run"))))
}

thread_local! {
    /// What `handle_signals` caught, until `without_gvl` returns it.
    static KEPT: RefCell<Option<Error>> = const { RefCell::new(None) };
}

/// The exception in `KEPT`, where the GC sees it (a thread-local is not scanned). One slot is
/// enough: only a process's only Ruby thread keeps the GVL through a call.
static mut KEPT_EXCEPTION: VALUE = Qnil as VALUE;

/// Registers `KEPT_EXCEPTION` with the GC; called once when the extension loads.
pub fn init() {
    // SAFETY: a static that lives as long as the process, registered once with the GVL held.
    unsafe { rb_gc_register_address(std::ptr::addr_of_mut!(KEPT_EXCEPTION)) };
}

/// The core's poll for a call made with the GVL held: when Ruby has something pending, Ruby
/// handles it now; true (stop the call) when that raised, and what it raised is kept.
fn handle_signals() -> bool {
    // SAFETY: only reached from `without_gvl`'s GVL-holding path, on the calling Ruby thread.
    if unsafe { rb_thread_interrupted(rb_thread_current()) } == 0 {
        return false;
    }
    // SAFETY: as above.
    let ruby = unsafe { Ruby::get_unchecked() };
    match deliver_interrupts(&ruby) {
        Ok(()) => false,
        Err(raised) => {
            // SAFETY: as above; the slot is registered with the GC.
            unsafe { KEPT_EXCEPTION = raised.value().map_or(Qnil as VALUE, |value| value.as_raw()) };
            KEPT.with(|kept| *kept.borrow_mut() = Some(raised));
            true
        }
    }
}

fn take_kept() -> Option<Error> {
    let raised = KEPT.with(|kept| kept.borrow_mut().take());
    // SAFETY: with the GVL held; the error returned still refers to the exception.
    unsafe { KEPT_EXCEPTION = Qnil as VALUE };
    raised
}

/// Lets Ruby act on a pending interrupt (`Thread#raise`, `Thread#kill`, a signal): it comes back
/// as an `Error` to return as is, so it wins over whatever error the interruption caused.
pub fn deliver_interrupts(ruby: &Ruby) -> Result<(), Error> {
    magnus::rb_sys::protect(|| {
        // SAFETY: called with the GVL held; a raise is caught by `protect`.
        unsafe { rb_thread_check_ints() };
        ruby.qnil().as_raw()
    })
    .map(|_| ())
}
