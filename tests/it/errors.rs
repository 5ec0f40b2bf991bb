//! Error mapping: Graph envelopes to predicates, and every kind of broken response to a typed
//! error.

use meta_business::{Client, Error, retry::RetryPolicy};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

async fn answer(server: &MockServer, template: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(format!("/v26.0/{BIZ}")))
        .respond_with(template)
        .mount(server)
        .await;
}

#[tokio::test]
async fn graph_envelopes_map_to_predicates() {
    // (code, subcode, status, auth, permission, rate_limited, transient)
    let cases = [
        (190, Some(463), 400, true, false, false, false),
        (190, None, 401, true, false, false, false),
        (200, None, 403, false, true, false, false),
        (10, None, 400, false, true, false, false),
        (100, None, 400, false, false, false, false),
        (4, None, 400, false, false, true, true),
        (17, Some(2446079), 400, false, false, true, true),
        (613, None, 400, false, false, true, true),
        (80004, Some(2446079), 400, false, false, true, true),
        (2, None, 500, false, false, false, true),
    ];
    for (code, sub, status, auth, perm, rate, transient) in cases {
        let server = server().await;
        let client = Client::builder()
            .access_token(TOKEN)
            .app_secret(SECRET)
            .base_url(server.uri())
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap();
        let mut error = json!({"message": format!("code {code}"), "type": "OAuthException", "code": code,
            "fbtrace_id": "TRACE1", "error_user_title": "Title", "error_user_msg": "User message",
            "is_transient": transient, "error_data": "{\"blame_field_specs\":[[\"name\"]]}"});
        if let Some(sub) = sub {
            error["error_subcode"] = json!(sub);
        }
        answer(
            &server,
            ResponseTemplate::new(status)
                .set_body_json(json!({ "error": error }))
                .insert_header(
                    "x-app-usage",
                    r#"{"call_count":95,"total_time":10,"total_cputime":10}"#,
                ),
        )
        .await;
        let err = client.business(BIZ).get().send().await.unwrap_err();
        assert_eq!(
            (
                err.is_auth(),
                err.is_permission(),
                err.is_rate_limited(),
                err.is_transient()
            ),
            (auth, perm, rate, transient),
            "code {code}: {err}"
        );
        let api = err.api_error().expect("api error");
        assert_eq!(api.graph.code, Some(code));
        assert_eq!(api.graph.error_subcode, sub);
        assert_eq!(api.graph.fbtrace_id.as_deref(), Some("TRACE1"));
        assert_eq!(api.graph.error_user_title.as_deref(), Some("Title"));
        assert_eq!(api.graph.error_user_msg.as_deref(), Some("User message"));
        assert_eq!(api.graph.error_type.as_deref(), Some("OAuthException"));
        assert_eq!(
            api.graph.error_data.as_ref().unwrap()["blame_field_specs"][0][0],
            "name"
        );
        assert_eq!(api.status, status);
        assert_eq!(api.path, format!("/v26.0/{BIZ}"));
        assert!(api.headers.contains_key("x-app-usage"));
        let shown = err.to_string();
        assert!(
            shown.contains(&format!("#{code}")) && shown.contains("TRACE1"),
            "{shown}"
        );
        assert_eq!(
            received(&server).await.len(),
            1,
            "no retry in the core client"
        );
    }
}

#[tokio::test]
async fn html_502_is_a_typed_transient_error() {
    let (server, client) = setup().await;
    answer(
        &server,
        ResponseTemplate::new(502)
            .set_body_raw("<html><body>502 Bad Gateway</body></html>", "text/html"),
    )
    .await;
    let err = client.business(BIZ).get().send().await.unwrap_err();
    let Error::UnexpectedResponse(r) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(r.status, 502);
    assert!(r.reason.contains("HTML") && r.snippet.contains("Bad Gateway"));
    assert_eq!(r.content_type.as_deref(), Some("text/html"));
    assert!(err.is_transient() && !err.is_auth());
}

#[tokio::test]
async fn empty_body_is_a_typed_error() {
    let (server, client) = setup().await;
    answer(&server, ResponseTemplate::new(200)).await;
    let err = client.business(BIZ).get().send().await.unwrap_err();
    assert!(
        matches!(&err, Error::UnexpectedResponse(r) if r.reason.contains("empty")),
        "{err:?}"
    );
}

#[tokio::test]
async fn error_envelope_in_a_200_is_an_error() {
    let (server, client) = setup().await;
    answer(
        &server,
        ResponseTemplate::new(200)
            .set_body_json(json!({"error": {"message": "nope", "code": 100, "error_subcode": 33}})),
    )
    .await;
    let err = client.business(BIZ).get().send().await.unwrap_err();
    assert_eq!(err.code(), Some(100));
    assert_eq!(err.http_status(), Some(200));
}

#[tokio::test]
async fn truncated_json_is_a_decode_error() {
    let (server, client) = setup().await;
    answer(
        &server,
        ResponseTemplate::new(200)
            .set_body_raw(r#"{"id":"1234567890","name":"Ac"#, "application/json"),
    )
    .await;
    let err = client.business(BIZ).get().send().await.unwrap_err();
    let Error::Decode {
        status, snippet, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*status, 200);
    assert!(snippet.starts_with("{\"id\""));
}

#[tokio::test]
async fn wrong_shape_reports_the_json_path() {
    let (server, client) = setup().await;
    answer(
        &server,
        ResponseTemplate::new(200).set_body_json(json!({"id": BIZ, "created_by": {"name": "x"}})),
    )
    .await;
    let err = client.business(BIZ).get().send().await.unwrap_err();
    let Error::Decode { json_path, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(json_path, "created_by");
}

#[tokio::test]
async fn plain_text_and_non_json_5xx_are_typed() {
    let (server, client) = setup().await;
    answer(
        &server,
        ResponseTemplate::new(200).set_body_raw("Service Unavailable", "text/plain"),
    )
    .await;
    let err = client.business(BIZ).get().send().await.unwrap_err();
    assert!(
        matches!(&err, Error::UnexpectedResponse(r) if r.reason.contains("not JSON")),
        "{err:?}"
    );

    let (server, client) = setup().await;
    answer(
        &server,
        ResponseTemplate::new(503).set_body_raw("upstream down", "text/plain"),
    )
    .await;
    let err = client.business(BIZ).get().send().await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
}

#[tokio::test]
async fn unknown_route_answers_a_graph_error_naming_it() {
    let (_server, client) = setup().await;
    let err = client
        .get::<serde_json::Value>("nothing/here", &[])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("/v26.0/nothing/here"), "{err}");
}

#[tokio::test]
async fn a_refused_connection_names_the_host_and_the_cause_once() {
    // A port nothing listens on: bind one, then let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = meta_business::Client::builder()
        .access_token(TOKEN)
        .base_url(format!("http://127.0.0.1:{port}"))
        .retry_policy(meta_business::retry::RetryPolicy::none())
        .build()
        .unwrap();
    let err = client
        .get::<serde_json::Value>("me", &[])
        .await
        .unwrap_err();
    let shown = err.to_string();
    assert_eq!(
        shown,
        format!(
            "GET /v26.0/me to http://127.0.0.1:{port}/ failed after 1 attempt: connection refused (nothing listens there)"
        )
    );
    assert!(err.is_connect());
    // The details are in the chain, and the first cause does not repeat the message.
    let first = std::error::Error::source(&err).unwrap().to_string();
    assert!(!shown.contains(&first), "{shown} / {first}");
}

/// A loopback port nothing listens on: bound, then let go.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn a_refused_connection_says_how_many_attempts_were_made_and_to_which_base_url() {
    let port = closed_port();
    let secret = "app-secret-never-shown-0123";
    let client = Client::builder()
        .access_token(TOKEN)
        .app_secret(secret)
        .base_url(format!("http://127.0.0.1:{port}/graph/"))
        .retry_policy(
            RetryPolicy::default()
                .max_attempts(3)
                .base_delay(std::time::Duration::from_millis(1)),
        )
        .build()
        .unwrap();
    // A GET is retried on a refused connection: all three attempts are made, then counted.
    let err = client
        .get::<serde_json::Value>("me", &[])
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "GET /v26.0/me to http://127.0.0.1:{port}/graph/ failed after 3 attempts: connection refused (nothing listens there)"
        )
    );
    assert!(
        matches!(err, Error::Transport { attempts: 3, .. }),
        "{err:?}"
    );
    // A create's calls go through the same retry loop and are counted the same way.
    let err = client
        .business("1000000000001")
        .system_users()
        .create("crm-sync-eu")
        .send()
        .await
        .unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.contains(&format!(
            "to http://127.0.0.1:{port}/graph/ failed after 3 attempts"
        )),
        "{shown}"
    );
    for text in [shown, format!("{err:?}")] {
        assert!(!text.contains(TOKEN) && !text.contains(secret), "{text}");
        assert!(!text.contains("appsecret_proof"), "{text}");
    }
}
