//! The client: builder validation, auth on the wire, proof forms, tokens, versions, timeouts.

use std::time::Duration;

use meta_business::{AccessTier, Client, Error, ProofMode, QuotaPolicy, SystemUserQuota};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::common::*;

#[tokio::test]
async fn builder_rejects_bad_configuration_naming_the_field() {
    let cases: Vec<(meta_business::ClientBuilder, &str)> = vec![
        (Client::builder(), "access_token"),
        (Client::builder().access_token(""), "access_token"),
        (Client::builder().access_token("has space"), "access_token"),
        (Client::builder().access_token("line\n"), "access_token"),
        (
            Client::builder().access_token("t").app_secret(" "),
            "app_secret",
        ),
        (
            Client::builder().access_token("t").api_version("26.0"),
            "api_version",
        ),
        (
            Client::builder().access_token("t").api_version("v26"),
            "api_version",
        ),
        (
            Client::builder().access_token("t").base_url("ftp://x"),
            "base_url",
        ),
        (
            Client::builder()
                .access_token("t")
                .base_url("http://x/?access_token=1"),
            "base_url",
        ),
        (
            Client::builder().access_token("t").timeout(Duration::ZERO),
            "timeout",
        ),
        (
            Client::builder()
                .access_token("t")
                .connect_timeout(Duration::ZERO),
            "connect_timeout",
        ),
    ];
    for (builder, field) in cases {
        match builder.build() {
            Err(Error::InvalidInput { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn defaults_version_tier_and_quota() {
    let client = Client::builder().access_token("t").build().unwrap();
    assert_eq!(client.api_version().as_str(), "v26.0");
    assert_eq!(client.base_url().as_str(), "https://graph.facebook.com/");
    assert_eq!(
        client.quota_policy(),
        QuotaPolicy::Tier(AccessTier::Limited)
    );
    assert!(!client.has_app_secret());
    let custom = Client::builder()
        .access_token("t")
        .system_user_quota(SystemUserQuota::new(3, 2))
        .build()
        .unwrap();
    assert_eq!(
        custom.quota_policy().quota(),
        Some(SystemUserQuota::new(3, 2))
    );
}

#[tokio::test]
async fn bearer_header_and_classic_proof_on_get_and_post() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/v26.0/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "1"})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v26.0/me/feedback"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .mount(&server)
        .await;
    let _: serde_json::Value = client.get("me", &[("fields", "id")]).await.unwrap();
    let _: serde_json::Value = client.post("/me/feedback", &[("x", "1")]).await.unwrap();
    let reqs = received(&server).await;
    assert_eq!(reqs.len(), 2);
    assert_wire(&reqs, TOKEN);
    assert_eq!(params(&reqs[0]), map(&[("fields", "id")]));
    assert_eq!(params(&reqs[1]), map(&[("x", "1")]));
}

#[tokio::test]
async fn proof_matches_the_published_vector_on_the_wire() {
    // facebook-java-business-sdk APIContextTest.kt: secret `app_secret`, token `access_token`.
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/v26.0/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "1"})))
        .mount(&server)
        .await;
    let client = Client::builder()
        .access_token("access_token")
        .app_secret("app_secret")
        .base_url(server.uri())
        .build()
        .unwrap();
    let _: serde_json::Value = client.get("me", &[]).await.unwrap();
    let req = &received(&server).await[0];
    assert_eq!(
        query(req).get("appsecret_proof").map(String::as_str),
        Some("d52ddf968d622d8af8677906b7fbae09ac1f89f7cd5c1584b27544624cc23e5a")
    );
    assert!(!query(req).contains_key("appsecret_time"));
}

#[tokio::test]
async fn time_stamped_proof_sends_time_and_matching_hmac() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/v26.0/me/x"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!(true)))
        .mount(&server)
        .await;
    let client = Client::builder()
        .access_token(TOKEN)
        .app_secret(SECRET)
        .proof_mode(ProofMode::TimeStamped)
        .base_url(server.uri())
        .build()
        .unwrap();
    let _: bool = client.post("me/x", &[]).await.unwrap();
    let f = form(&received(&server).await[0]);
    let time: u64 = f["appsecret_time"].parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(now.abs_diff(time) < 60);
    let expected = meta_business::tokens::appsecret_proof_at(&SECRET.into(), &TOKEN.into(), time);
    assert_eq!(
        f["appsecret_proof"],
        meta_business::ExposeSecret::expose_secret(&expected)
    );
}

#[tokio::test]
async fn no_app_secret_means_no_proof() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/v26.0/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "1"})))
        .mount(&server)
        .await;
    let client = Client::builder()
        .access_token(TOKEN)
        .base_url(server.uri())
        .build()
        .unwrap();
    let _: serde_json::Value = client.get("me", &[]).await.unwrap();
    let req = &received(&server).await[0];
    assert!(req.url.query().is_none());
    assert_eq!(
        req.headers["authorization"],
        format!("Bearer {TOKEN}").as_str()
    );
}

#[tokio::test]
async fn with_token_acts_as_another_user_with_its_own_proof() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/v26.0/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "1"})))
        .mount(&server)
        .await;
    let other = client.with_token("EAAB-OTHER-USER-TOKEN-99");
    let _: serde_json::Value = other.get("me", &[]).await.unwrap();
    let _: serde_json::Value = client.get("me", &[]).await.unwrap();
    let reqs = received(&server).await;
    assert_wire(&reqs[..1], "EAAB-OTHER-USER-TOKEN-99");
    assert_wire(&reqs[1..], TOKEN);
}

#[tokio::test]
async fn with_token_rejects_a_bad_token_before_sending() {
    let (server, client) = setup().await;
    let err = client
        .with_token("two words")
        .get::<serde_json::Value>("me", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidInput { ref field, .. } if field == "access_token"),
        "{err}"
    );
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn api_version_and_base_path_prefix_are_honoured() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/graph/v25.0/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "1"})))
        .mount(&server)
        .await;
    let client = Client::builder()
        .access_token(TOKEN)
        .base_url(format!("{}/graph/", server.uri()))
        .api_version("v25.0")
        .build()
        .unwrap();
    let _: serde_json::Value = client.get("me", &[]).await.unwrap();
    assert_eq!(received(&server).await[0].url.path(), "/graph/v25.0/me");
}

#[tokio::test]
async fn raw_escape_hatch_rejects_reserved_params_and_bad_paths_without_sending() {
    let (server, client) = setup().await;
    for (p, q) in [
        ("me", ("access_token", "x")),
        ("me", ("appsecret_proof", "x")),
        ("me?x=1", ("a", "b")),
        ("../me", ("a", "b")),
    ] {
        let err = client.get::<serde_json::Value>(p, &[q]).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{p}: {err}");
    }
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn per_request_timeout_overrides_the_client_default() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("/v26.0/{BIZ}")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": BIZ}))
                .set_delay(Duration::from_secs(2)),
        )
        .mount(&server)
        .await;
    let err = client
        .business(BIZ)
        .get()
        .timeout(Duration::from_millis(100))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout() && err.is_transient(), "{err:?}");
    assert!(!err.to_string().contains(TOKEN) && !err.to_string().contains(&proof_for(TOKEN)));
}

#[tokio::test]
async fn client_wide_timeout_applies() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/v26.0/me"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({}))
                .set_delay(Duration::from_secs(2)),
        )
        .mount(&server)
        .await;
    let client = Client::builder()
        .access_token(TOKEN)
        .base_url(server.uri())
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let err = client
        .get::<serde_json::Value>("me", &[])
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
}

#[tokio::test]
async fn connection_refused_is_a_transient_connect_error() {
    let client = Client::builder()
        .access_token(TOKEN)
        .base_url("http://127.0.0.1:1")
        .build()
        .unwrap();
    let err = client.business(BIZ).get().send().await.unwrap_err();
    assert!(err.is_connect() && err.is_transient(), "{err:?}");
    let text = format!("{err} {err:?}");
    assert!(
        !text.contains(TOKEN) && !text.contains("appsecret_proof"),
        "{text}"
    );
}

/// A loopback TCP proxy in front of `upstream` that counts the connections it accepts.
async fn counting_proxy(
    upstream: String,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = std::sync::Arc::clone(&count);
    let upstream = upstream.trim_start_matches("http://").to_owned();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let target = upstream.clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (format!("http://{addr}"), count)
}

#[tokio::test]
async fn one_connection_is_reused_across_calls_and_clones() {
    let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    let (proxy, connections) = counting_proxy(emulator.uri()).await;
    let client = Client::builder()
        .access_token(demo.admin_token)
        .app_secret(demo.app_secret)
        .base_url(proxy)
        .build()
        .unwrap();
    for i in 0..30 {
        let c = if i % 2 == 0 {
            client.clone()
        } else {
            client.with_token(demo.admin_token)
        };
        c.business(demo.business_id).get().send().await.unwrap();
    }
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "30 sequential calls, one pooled connection"
    );
}

#[tokio::test]
async fn a_list_streamed_page_by_page_reuses_one_connection() {
    use futures_util::TryStreamExt;
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(|req: &wiremock::Request| {
            let start: usize = req
                .url
                .query_pairs()
                .find(|(k, _)| k == "after")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            let end = (start + 2).min(40);
            let data: Vec<_> = (start..end)
                .map(|i| serde_json::json!({"id": format!("act_{}", 3_000_000_000_000u64 + i as u64), "tasks": ["ANALYZE"]}))
                .collect();
            let mut body = serde_json::json!({"data": data, "paging": {"cursors": {"after": end.to_string()}}});
            if end < 40 {
                body["paging"]["next"] = serde_json::json!("https://graph.facebook.com/next");
            }
            wiremock::ResponseTemplate::new(200).set_body_json(body)
        })
        .mount(&server)
        .await;
    let (proxy, connections) = counting_proxy(server.uri()).await;
    let client = Client::builder()
        .access_token("EAAB-token")
        .base_url(proxy)
        .build()
        .unwrap();
    let items: Vec<_> = client
        .system_user("100000008899900")
        .assigned_ad_accounts()
        .limit(2)
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 40);
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "20 pages, one pooled connection"
    );
}
