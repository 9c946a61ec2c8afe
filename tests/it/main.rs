//! Integration tests for itam-cmdb.

mod adversary;
mod adversary_impact;
mod adversary_live;
mod deep;
mod depreciation;
mod finance_cost;
mod finance_terms;
mod graph;
mod ids;
mod lifecycle;
mod money;
mod operations;
mod ownership;
mod registers;
mod roundtrip;
mod serde;
mod spoof;
mod story;
mod trust;
mod util;
