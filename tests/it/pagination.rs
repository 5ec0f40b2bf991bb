//! Paging: cursors rebuilt with our own auth, bounded collects, streams, loop guards.

use futures_util::TryStreamExt;
use meta_business::Error;
use serde_json::json;
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

const EDGE: &str = "/v26.0/1234567890/owned_pages";

async fn three_pages(server: &MockServer) {
    let page = |ids: &[&str], after: &str, next: bool| {
        let mut body = json!({
            "data": ids.iter().map(|id| json!({"id": id, "name": format!("Page {id}")})).collect::<Vec<_>>(),
            "paging": {"cursors": {"before": "b", "after": after}}
        });
        if next {
            // A real `next` URL carries the token and no proof; the client must not follow it.
            body["paging"]["next"] = json!(format!(
                "http://evil.invalid/v26.0/x?access_token=LEAKED&after={after}"
            ));
        }
        ResponseTemplate::new(200).set_body_json(body)
    };
    Mock::given(method("GET"))
        .and(path(EDGE))
        .and(query_param_is_missing("after"))
        .respond_with(page(&["1", "2"], "A1", true))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(EDGE))
        .and(query_param("after", "A1"))
        .respond_with(page(&["3", "4"], "A2", true))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(EDGE))
        .and(query_param("after", "A2"))
        .respond_with(page(&["5"], "A3", false))
        .mount(server)
        .await;
}

#[tokio::test]
async fn collect_walks_every_page_with_cursor_params_and_proof() {
    let (server, client) = setup().await;
    three_pages(&server).await;
    let pages = client
        .business(BIZ)
        .owned_pages()
        .limit(2)
        .collect(100)
        .await
        .unwrap();
    let ids: Vec<_> = pages.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5"]);
    let reqs = received(&server).await;
    assert_eq!(reqs.len(), 3);
    assert_wire(&reqs, TOKEN);
    assert_eq!(
        params(&reqs[0]),
        map(&[("fields", "id,name"), ("limit", "2")])
    );
    assert_eq!(
        params(&reqs[1]),
        map(&[("fields", "id,name"), ("limit", "2"), ("after", "A1")])
    );
    assert_eq!(
        params(&reqs[2]),
        map(&[("fields", "id,name"), ("limit", "2"), ("after", "A2")])
    );
}

#[tokio::test]
async fn stream_yields_items_in_order() {
    let (server, client) = setup().await;
    three_pages(&server).await;
    let items: Vec<_> = client
        .business(BIZ)
        .owned_pages()
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 5);
    assert_eq!(items[4].name.as_deref(), Some("Page 5"));
}

#[tokio::test]
async fn page_by_page_with_after() {
    let (server, client) = setup().await;
    three_pages(&server).await;
    let first = client.business(BIZ).owned_pages().send().await.unwrap();
    let cursor = first.next_cursor().unwrap().to_owned();
    let second = client
        .business(BIZ)
        .owned_pages()
        .after(cursor)
        .send()
        .await
        .unwrap();
    assert_eq!(second.data[0].id.as_str(), "3");
    assert!(!format!("{first:?}").contains("LEAKED"));
}

#[tokio::test]
async fn bounded_collect_fails_instead_of_truncating() {
    let (server, client) = setup().await;
    three_pages(&server).await;
    let err = client
        .business(BIZ)
        .owned_pages()
        .collect(3)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::TooManyItems { max: 3, path } if path == EDGE),
        "{err}"
    );
}

#[tokio::test]
async fn repeated_cursor_stops_with_an_error() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path(EDGE))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": "1"}], "paging": {"cursors": {"after": "SAME"}, "next": "http://x/next"}})))
        .mount(&server)
        .await;
    let err = client
        .business(BIZ)
        .owned_pages()
        .collect(1000)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Pagination { .. }), "{err}");
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn summary_is_requested_and_read() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path(EDGE))
        .and(query_param("summary", "total_count"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": [], "summary": {"total_count": 12}})),
        )
        .mount(&server)
        .await;
    let page = client
        .business(BIZ)
        .owned_pages()
        .with_summary()
        .send()
        .await
        .unwrap();
    assert_eq!(page.summary.unwrap().total_count, Some(12));
}

#[tokio::test]
async fn a_lists_timeout_applies_to_every_page() {
    use std::time::Duration;
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path(EDGE))
        .and(query_param_is_missing("after"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": "1"}],
            "paging": {"cursors": {"after": "A1"}, "next": "https://graph.facebook.com/next"}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(EDGE))
        .and(query_param("after", "A1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": [{"id": "2"}]}))
                .set_delay(Duration::from_secs(2)),
        )
        .mount(&server)
        .await;
    let list = || {
        client
            .business(BIZ)
            .owned_pages()
            .timeout(Duration::from_millis(200))
    };
    // The first page answers at once; the second is slower than the list's timeout.
    assert_eq!(list().send().await.unwrap().data.len(), 1);
    let err = list().collect(10).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    // Page 1 twice (send, then collect), then page 2 once per attempt the retry policy allows
    // a GET that timed out.
    let after: Vec<_> = received(&server)
        .await
        .iter()
        .map(|r| r.url.query_pairs().any(|(k, v)| k == "after" && v == "A1"))
        .collect();
    let attempts = client.retry_policy().attempts() as usize;
    assert_eq!(after.len(), 2 + attempts);
    assert!(
        !after[0] && !after[1] && after[2..].iter().all(|a| *a),
        "{after:?}"
    );
}
