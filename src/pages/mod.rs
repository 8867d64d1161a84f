//! One module per route: views only, data through `api`.

pub mod account;
pub mod admin;
pub mod call;
pub mod exports;
pub mod feed;
pub mod forbidden;
pub mod keys;
pub mod login;
pub mod not_found;
pub mod once;
pub mod operations;
pub mod queue;
pub mod trends;
