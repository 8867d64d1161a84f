//! One module per route: views only, data through `api`.

pub mod call;
pub mod feed;
pub mod not_found;
