//! What the benchmarks share: the system user they read and a local server on a thread of its
//! own. The benchmarks themselves are the `[[bench]]` targets of this package (see its
//! `Cargo.toml` and the crate README's Performance section).

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The system user every per-call bench reads.
pub const SU: &str = "100000008899900";

/// The system user's answer, as the Graph API sends it.
pub fn system_user_answer() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": SU, "name": "ads-reporting-server", "created_time": "2026-11-22T06:08:00+0000",
        "finance_permission": "Analyst", "ip_permission": "Reviewer"
    }))
}

/// `GET /v26.0/{SU}` answered with [`system_user_answer`].
pub fn system_user_mock() -> Mock {
    Mock::given(method("GET"))
        .and(path(format!("/v26.0/{SU}")))
        .respond_with(system_user_answer())
}

/// Starts a server with these mocks on a thread and runtime of its own, so that it does not
/// compete with the client's, and returns its base URL. It records no request: recording every
/// one would make it slower, and larger, as a run goes on.
pub fn start_server(mocks: Vec<Mock>) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        rt.block_on(async {
            let server = MockServer::builder()
                .disable_request_recording()
                .start()
                .await;
            for mock in mocks {
                mock.mount(&server).await;
            }
            tx.send(server.uri()).expect("uri");
            std::future::pending::<()>().await;
        });
    });
    rx.recv().expect("server started")
}
