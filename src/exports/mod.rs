//! Dataset exports: reviewed calls become training sets (chat or preference JSONL) or data
//! files (JSONL, CSV), built by a background job from a spec (`model::export`).
//!
//! - `plan`: which calls the spec takes and on which side of the split, before anything is
//!   written (also the live count the page shows); `source`: the rows a job writes, from
//!   the plan or, with nothing to choose, streamed straight from the database;
//! - `lines`: one call as one line of each format; `redact`: personal data to placeholders;
//! - `check`: the format check and token counts of training lines; `prepare`: training
//!   lines built and checked on threads of their own, a slice of each page per core;
//! - `files`: where files live, written under a temporary name and renamed when complete;
//! - `manage`: preview, create, cancel and delete, as the API, pages and CLI do;
//! - `manifest`: the finished export's summary and every example's provenance;
//! - `run`: the job that ties them together, with progress and cancel.

pub mod check;
pub mod files;
pub mod lines;
pub mod manage;
mod manifest;
pub mod plan;
mod prepare;
pub mod redact;
pub mod run;
mod source;
pub mod split;

pub use files::ExportFiles;
pub use run::run_export;
