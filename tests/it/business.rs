//! Business: read, list the user's, create, owned assets, claims.

use meta_business::{
    BusinessField, BusinessVertical, Error, VerificationStatus, asset::AccessStatus,
};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::common::*;

#[tokio::test]
async fn get_reads_typed_fields_with_open_enums() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("/v26.0/{BIZ}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": BIZ, "name": "Acme Ads", "vertical": "ADVERTISING", "verification_status": "verified",
            "two_factor_type": "admin_required", "timezone_id": 1, "created_time": "2024-01-31T12:00:00+0000",
            "link": "https://business.facebook.com/settings/?business_id=1234567890"
        })))
        .mount(&server)
        .await;
    let biz = client.business(BIZ).get().send().await.unwrap();
    assert_eq!(biz.id.as_str(), BIZ);
    assert_eq!(biz.name.as_deref(), Some("Acme Ads"));
    assert_eq!(biz.verification_status, Some(VerificationStatus::Verified));
    assert_eq!(biz.vertical, Some(BusinessVertical::Advertising));
    assert_eq!(biz.timezone_id, Some(1));
    let reqs = received(&server).await;
    assert_wire(&reqs, TOKEN);
    assert_eq!(
        params(&reqs[0]),
        map(&[(
            "fields",
            "id,name,vertical,verification_status,two_factor_type,timezone_id,created_time,link"
        )])
    );
}

#[tokio::test]
async fn get_with_selected_fields_and_unknown_status() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("/v26.0/{BIZ}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": BIZ, "verification_status": "under_review_2027", "payment_account_id": "77"})))
        .mount(&server)
        .await;
    let biz = client
        .business(BIZ)
        .get()
        .fields([
            BusinessField::VerificationStatus,
            BusinessField::PaymentAccountId,
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        biz.verification_status,
        Some(VerificationStatus::Unknown("under_review_2027".into()))
    );
    assert_eq!(biz.extra["payment_account_id"], "77");
    assert_eq!(
        params(&received(&server).await[0]),
        map(&[("fields", "id,verification_status,payment_account_id")])
    );
}

#[tokio::test]
async fn list_my_businesses() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/v26.0/me/businesses"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": "1", "name": "A"}, {"id": "2", "name": "B"}],
            "paging": {"cursors": {"before": "x", "after": "y"}}})))
        .mount(&server)
        .await;
    let page = client.businesses().list().limit(25).send().await.unwrap();
    assert_eq!(page.data.len(), 2);
    assert!(!page.has_next());
    let reqs = received(&server).await;
    assert_wire(&reqs, TOKEN);
    assert_eq!(params(&reqs[0])["limit"], "25");
}

#[tokio::test]
async fn create_business_sends_name_and_vertical() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path("/v26.0/me/businesses"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "555"})))
        .mount(&server)
        .await;
    let biz = client
        .businesses()
        .create("Acme Retail", BusinessVertical::Retail)
        .timezone_id(1)
        .primary_page("42")
        .email("ops@acme.example")
        .send()
        .await
        .unwrap();
    assert_eq!(biz.id.as_str(), "555");
    assert_eq!(biz.name.as_deref(), Some("Acme Retail"));
    let reqs = received(&server).await;
    assert_wire(&reqs, TOKEN);
    assert_eq!(
        params(&reqs[0]),
        map(&[
            ("name", "Acme Retail"),
            ("vertical", "RETAIL"),
            ("timezone_id", "1"),
            ("primary_page", "42"),
            ("email", "ops@acme.example")
        ])
    );
}

#[tokio::test]
async fn create_business_for_another_user() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path("/v26.0/777/businesses"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "9"})))
        .mount(&server)
        .await;
    client
        .businesses()
        .for_user("777")
        .create("Acme", BusinessVertical::Other)
        .send()
        .await
        .unwrap();
    assert_eq!(params(&received(&server).await[0])["vertical"], "OTHER");
}

#[tokio::test]
async fn bad_business_input_sends_nothing() {
    let (server, client) = setup().await;
    let cases = vec![
        (
            client.businesses().create("  ", BusinessVertical::Retail),
            "name",
        ),
        (
            client
                .businesses()
                .create("A", BusinessVertical::Unlisted("BAD VALUE".into())),
            "vertical",
        ),
        (
            client
                .businesses()
                .create("A", BusinessVertical::Retail)
                .timezone_id(593),
            "timezone_id",
        ),
        (
            client
                .businesses()
                .create("A", BusinessVertical::Retail)
                .email("nope"),
            "email",
        ),
        (
            client
                .businesses()
                .create("A", BusinessVertical::Retail)
                .primary_page("p1"),
            "page_id",
        ),
        (
            client
                .businesses()
                .for_user("me2")
                .create("A", BusinessVertical::Retail),
            "user_id",
        ),
    ];
    for (call, field) in cases {
        match call.send().await {
            Err(Error::InvalidInput { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    for bad in ["abc", "", "12-3"] {
        let err = client.business(bad).get().send().await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidInput { ref field, .. } if field == "business_id"),
            "{err}"
        );
        assert!(client.business(bad).owned_pages().send().await.is_err());
    }
    let err = client
        .business(BIZ)
        .get()
        .fields_raw("id, name")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { ref field, .. } if field == "fields"));
    let err = client
        .business(BIZ)
        .owned_apps()
        .limit(0)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { ref field, .. } if field == "limit"));
    assert!(
        received(&server).await.is_empty(),
        "nothing may reach the server"
    );
}

#[tokio::test]
async fn owned_asset_lists_use_their_edges_and_fields() {
    let (server, client) = setup().await;
    let edges = [
        (
            "owned_ad_accounts",
            "id,account_id,name,account_status,currency",
            json!({"id": "act_1", "account_id": "1", "name": "A", "account_status": 1, "currency": "EUR"}),
        ),
        ("owned_pages", "id,name", json!({"id": "2", "name": "P"})),
        ("owned_apps", "id,name", json!({"id": "3", "name": "App"})),
        (
            "owned_product_catalogs",
            "id,name",
            json!({"id": "4", "name": "C"}),
        ),
        ("owned_pixels", "id,name", json!({"id": "5", "name": "Px"})),
        (
            "owned_instagram_assets",
            "id,ig_user_id,ig_username",
            json!({"id": "6", "ig_user_id": "17", "ig_username": "acme"}),
        ),
        (
            "owned_whatsapp_business_accounts",
            "id,name",
            json!({"id": "7", "name": "W"}),
        ),
    ];
    for (edge, _, item) in &edges {
        Mock::given(method("GET"))
            .and(path(format!("/v26.0/{BIZ}/{edge}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [item]})))
            .mount(&server)
            .await;
    }
    let biz = client.business(BIZ);
    let ad = biz.owned_ad_accounts().send().await.unwrap();
    assert_eq!(ad.data[0].id.as_str(), "act_1");
    assert_eq!(ad.data[0].currency.as_deref(), Some("EUR"));
    assert_eq!(
        biz.owned_pages().send().await.unwrap().data[0]
            .name
            .as_deref(),
        Some("P")
    );
    assert_eq!(
        biz.owned_apps().send().await.unwrap().data[0].id.as_str(),
        "3"
    );
    assert_eq!(
        biz.owned_product_catalogs().send().await.unwrap().data[0]
            .id
            .as_str(),
        "4"
    );
    assert_eq!(
        biz.owned_pixels().send().await.unwrap().data[0].id.as_str(),
        "5"
    );
    assert_eq!(
        biz.owned_instagram_assets().send().await.unwrap().data[0]
            .ig_username
            .as_deref(),
        Some("acme")
    );
    assert_eq!(
        biz.owned_whatsapp_business_accounts()
            .send()
            .await
            .unwrap()
            .data[0]
            .id
            .as_str(),
        "7"
    );
    let reqs = received(&server).await;
    assert_wire(&reqs, TOKEN);
    for (req, (edge, fields, _)) in reqs.iter().zip(&edges) {
        assert_eq!(req.url.path(), format!("/v26.0/{BIZ}/{edge}"));
        assert_eq!(params(req), map(&[("fields", fields)]));
    }
}

#[tokio::test]
async fn claims_send_the_documented_params() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path(format!("/v26.0/{BIZ}/owned_ad_accounts")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"access_status": "PENDING"})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v26.0/{BIZ}/owned_pages")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"access_status": "CONFIRMED"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v26.0/{BIZ}/owned_apps")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .mount(&server)
        .await;
    let biz = client.business(BIZ);
    let ad = biz.claim_ad_account("42").send().await.unwrap();
    assert_eq!(ad.access_status, Some(AccessStatus::Pending));
    assert!(!ad.is_confirmed());
    assert!(biz.claim_page("43").send().await.unwrap().is_confirmed());
    assert!(biz.claim_app("44").send().await.unwrap().is_confirmed());
    let reqs = received(&server).await;
    assert_wire(&reqs, TOKEN);
    assert_eq!(params(&reqs[0]), map(&[("adaccount_id", "act_42")]));
    assert_eq!(params(&reqs[1]), map(&[("page_id", "43")]));
    assert_eq!(params(&reqs[2]), map(&[("app_id", "44")]));
}

#[tokio::test]
async fn bad_claims_send_nothing() {
    let (server, client) = setup().await;
    let biz = client.business(BIZ);
    for (err, field) in [
        (
            biz.claim_ad_account("act_x").send().await.unwrap_err(),
            "ad_account_id",
        ),
        (biz.claim_page("page").send().await.unwrap_err(), "page_id"),
        (biz.claim_app("").send().await.unwrap_err(), "app_id"),
        (
            client
                .business("x")
                .claim_app("1")
                .send()
                .await
                .unwrap_err(),
            "business_id",
        ),
    ] {
        assert!(
            matches!(&err, Error::InvalidInput { field: f, .. } if f == field),
            "{err}"
        );
    }
    assert!(received(&server).await.is_empty());
}
