//! Any status, content type and body: decoding never panics and no error shows the secret.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u16, bool, &[u8])| {
    let (status, html, body) = input;
    let status = 100 + status % 500;
    let content_type = if html { Some("text/html") } else { Some("application/json") };
    meta_business::fuzzing::decode_response(status, content_type, body);
    // The secret spliced into the body, in the middle and across the excerpt's cut.
    let mut with_secret = body.to_vec();
    let at = (body.len() / 2).min(195);
    with_secret.splice(at..at, meta_business::fuzzing::SECRET.bytes());
    meta_business::fuzzing::decode_response(status, content_type, &with_secret);
});
