//! The input layer: any bytes in, failure records or a classified error out.
//! The checks live in `fuzz/src/check.rs`, shared with the corpus replay test.
#![no_main]

#[path = "../src/check.rs"]
#[allow(dead_code)]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    check::check(data);
});
