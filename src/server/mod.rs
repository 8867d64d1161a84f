//! Server-only code: state, the store (all SQL), REST handlers, the router, CLI commands.

pub mod auth;
pub mod bench;
pub mod demo;

pub mod limits;
pub mod rest;
pub mod reviewing;
pub mod router;
pub mod state;
pub mod store;
pub mod worker;
