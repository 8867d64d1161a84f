//! Server functions the pages call: thin wrappers that parse, call the store and map errors.

pub mod accounts;
pub mod calls;
pub mod exports;
#[cfg(feature = "ssr")]
pub(crate) mod guard;
pub mod operations;
pub mod reviews;
pub mod trends;
