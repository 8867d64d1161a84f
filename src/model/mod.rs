//! Types shared by the server and the browser: calls, verdicts, filters and ingest validation.

pub mod alerts;
pub mod auth;
pub mod call;
pub mod diff;
pub mod export;
pub mod filter;
pub mod ingest;
pub mod operation;
pub mod review;
pub mod search;
pub mod skips;
pub mod trends;

pub use call::*;
pub use filter::*;
pub use search::{search_terms, SearchTerm};
