//! Any usage-header value: parsing never panics, and every percentage is finite.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reqwest::header::{HeaderMap, HeaderValue};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let mut headers = HeaderMap::new();
    for name in ["x-app-usage", "x-ad-account-usage", "x-business-use-case-usage"] {
        headers.insert(name, value.clone());
    }
    let usage = meta_business::usage::Usage::from_headers(&headers);
    if let Some(app) = &usage.app {
        assert!(app.max_pct().is_finite());
    }
    for entries in usage.business_use_case.values() {
        for e in entries {
            assert!(e.max_pct().is_finite());
            let _ = e.regain_access_in();
        }
    }
    let _ = usage.regain_access_in();
});
