//! Batches decoded from arbitrary bytes, applied in sequence to the sample
//! estate through the public API; see `Session::run` for the checks.

#![no_main]

use itam_cmdb_fuzz::Session;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|session: Session| {
    let _ = session.run();
});
