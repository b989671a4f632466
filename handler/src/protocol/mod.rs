//! The wire protocols: each turns a request into a call on the shared update
//! path and renders the outcome in its own format.

pub mod acme_dns;
pub mod dyndns2;
pub mod seed;
