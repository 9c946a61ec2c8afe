//! Arbitrary bytes as a snapshot: loading never panics, and whatever loads
//! re-serialises and reloads to an equal estate with the same bytes.

#![no_main]

use itam_cmdb::Estate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(estate) = serde_json::from_slice::<Estate>(data) {
        itam_cmdb_fuzz::check_round_trip(&estate);
    }
});
