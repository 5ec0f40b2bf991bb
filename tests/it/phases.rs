//! `Error::phase`: each way a call fails, made to happen over loopback, lands in its phase, and
//! the refused ones sent nothing. Also: the root namespace stays small.

use std::time::Duration;

use meta_business::store::{FileStore, StoreError};
use meta_business::{AccessTier, Client, Error, Phase, retry::RetryPolicy};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::common::*;

#[tokio::test]
async fn refused_errors_send_nothing() {
    let (server, client) = setup().await;
    let bad_id = client.business("12ab").get().send().await.unwrap_err();
    assert!(matches!(bad_id, Error::InvalidInput { .. }), "{bad_id:?}");
    assert_eq!(bad_id.phase(), Phase::Refused);
    let unsupported = client
        .pixel("5000000000001")
        .unassign("61000000000001")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(unsupported, Error::Unsupported { .. }),
        "{unsupported:?}"
    );
    assert_eq!(unsupported.phase(), Phase::Refused);
    assert!(
        received(&server).await.is_empty(),
        "a refused call reached the server"
    );
}

#[tokio::test]
async fn graph_decode_and_transport_errors_have_their_phase() {
    let server = server().await;
    let client = Client::builder()
        .access_token(TOKEN)
        .app_secret(SECRET)
        .base_url(server.uri())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    // The catch-all answers a Graph envelope (code 2500) for any unmounted path.
    let graph = client.business(BIZ).get().send().await.unwrap_err();
    assert!(matches!(graph, Error::Api(_)), "{graph:?}");
    assert_eq!((graph.phase(), graph.code()), (Phase::Graph, Some(2500)));

    Mock::given(method("GET"))
        .and(path(format!("/v26.0/{BIZ}")))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad gateway</html>"))
        .mount(&server)
        .await;
    let html = client.business(BIZ).get().send().await.unwrap_err();
    assert!(matches!(html, Error::UnexpectedResponse(_)), "{html:?}");
    assert_eq!(html.phase(), Phase::Decode);
    // The predicates do not depend on the phase: a 502 is still transient.
    assert!(html.is_transient());

    Mock::given(method("GET"))
        .and(path(format!("/v26.0/{BIZ}/owned_pixels")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": 7})))
        .mount(&server)
        .await;
    let shape = client
        .business(BIZ)
        .owned_pixels()
        .send()
        .await
        .unwrap_err();
    assert!(matches!(shape, Error::Decode { .. }), "{shape:?}");
    assert_eq!(shape.phase(), Phase::Decode);

    // Nothing listens on a port just released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let closed = Client::builder()
        .access_token(TOKEN)
        .app_secret(SECRET)
        .base_url(format!("http://127.0.0.1:{port}"))
        .access_tier(AccessTier::Limited)
        .retry_policy(RetryPolicy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let transport = closed.business(BIZ).get().send().await.unwrap_err();
    assert!(
        matches!(transport, Error::Transport { .. }),
        "{transport:?}"
    );
    assert_eq!(transport.phase(), Phase::Transport);
}

#[test]
fn local_failures_and_wrapped_errors_take_the_right_phase() {
    // A file where the store wants its directory.
    let file = std::env::temp_dir().join(format!("meta-business-phase-{}", std::process::id()));
    std::fs::write(&file, b"x").unwrap();
    let store: StoreError = FileStore::open(&file).unwrap_err();
    std::fs::remove_file(&file).unwrap();
    let store = Error::from(store);
    assert_eq!(store.phase(), Phase::Local);

    let wrapped = Error::OutcomeUnknown {
        operation: "creating system user \"x\"".into(),
        source: Box::new(Error::TooManyItems {
            path: "/x".into(),
            max: 1,
        }),
        reread: Box::new(store),
    };
    assert_eq!(
        wrapped.phase(),
        Phase::Decode,
        "the write's phase, not the re-read's"
    );
}

/// The root exports the client, handlers, ids, errors and main models; machinery lives in named
/// modules. A root that grows past this bound has taken machinery back.
#[test]
fn the_root_stays_scannable() {
    let lib = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/lib.rs")).unwrap();
    let mut types = Vec::new();
    for stmt in lib.split(';') {
        let Some(at) = stmt.find("\npub use ") else {
            continue;
        };
        let body = &stmt[at + "\npub use ".len()..];
        if body.starts_with("response::fuzzing") {
            continue;
        }
        let names = match (body.find('{'), body.rfind('}')) {
            (Some(open), Some(close)) => body[open + 1..close].to_owned(),
            _ => body.rsplit("::").next().unwrap_or_default().to_owned(),
        };
        types.extend(
            names
                .split(',')
                .map(|n| n.trim().to_owned())
                .filter(|n| n.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
                .filter(|n| n.chars().any(|c| c.is_ascii_lowercase())),
        );
    }
    assert!(types.contains(&"Client".to_owned()) && types.contains(&"Phase".to_owned()));
    assert!(!types.contains(&"TokenKeeper".to_owned()), "{types:?}");
    assert!(types.len() <= 70, "{} root types: {types:?}", types.len());
}
