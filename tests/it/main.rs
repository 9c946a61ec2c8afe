//! Integration tests for itam-cmdb.

mod graph;
mod ids;
mod money;
mod registers;
mod serde;
mod story;
mod util;
