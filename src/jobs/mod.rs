//! Work that runs beside requests: the job worker (claims queued jobs, SKIP LOCKED) and the
//! demo data generator.

pub mod demo;
pub mod worker;
