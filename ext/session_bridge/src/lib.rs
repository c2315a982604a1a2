//! session_bridge's native extension: the pure core, and (with the `ruby` feature) its binding.

pub mod core;

#[cfg(feature = "ruby")]
mod ruby;

#[cfg(feature = "ruby")]
#[magnus::init]
fn init(ruby: &magnus::Ruby) -> Result<(), magnus::Error> {
    ruby::init(ruby)
}
