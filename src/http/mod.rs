//! The HTTP layer, above the app it serves: the router and its state, the checks every
//! request passes (`middleware`), request limits, sign-in and sign-out, and the REST API.

pub mod downloads;
pub mod forms;
pub mod limits;
pub mod middleware;
pub mod rest;
pub mod router;
pub mod sign_in;
pub mod state;
