//! Answers about the wrong object: a create answer naming a user that existed before (or
//! another name), a node read answered about another node, ids not in their form. Each is an
//! error, and nothing is granted, minted or stored on its strength.

use std::sync::Arc;

use meta_business::provision::{self, Change, PlanOptions, Spec};
use meta_business::testing::{BusinessSeed, DEMO, Fault, FaultRule, GraphEmulator};
use meta_business::{
    AccessTier, Error,
    store::{MemoryStore, TokenStore},
};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::common::*;

const OLD: &str = "61000000000001";

/// A Full-tier business with one system user that has nothing to do with the spec.
async fn business_with_an_old_user() -> GraphEmulator {
    GraphEmulator::builder()
        .business(
            BusinessSeed::new(DEMO.business_id, "Acme")
                .tier(AccessTier::Full)
                .app(DEMO.app_id, "App", DEMO.app_secret)
                .admin(DEMO.admin_token)
                .ad_account(DEMO.ad_accounts[0], "Main")
                .system_user(OLD, "legacy-crm", "EMPLOYEE"),
        )
        .start()
        .await
}

fn spec() -> Spec {
    Spec::from_json_str(&format!(
        r#"{{"business": "{b}", "system_users": [{{
            "name": "ads-reporting", "apps": ["{app}"],
            "assets": [{{"ad_account": "{ad}", "tasks": ["ANALYZE"]}}],
            "token": {{"app": "{app}", "scopes": ["ads_read"]}}
        }}]}}"#,
        b = DEMO.business_id,
        app = DEMO.app_id,
        ad = DEMO.ad_accounts[0],
    ))
    .unwrap()
}

/// The server creates the user, then answers with the id of a user that was there before (a
/// proxy or a bug answering for someone else): apply stops there, and the old user gets no
/// app, no grant and no token, and no token is stored under the new name.
#[tokio::test]
async fn a_create_answer_naming_an_existing_user_grants_and_mints_nothing() {
    let emu = business_with_an_old_user().await;
    let client = emu.client(DEMO.admin_token).unwrap();
    let store = Arc::new(MemoryStore::new());
    let options = PlanOptions::default().store(store.clone());
    let plan = provision::plan(&client, &spec(), &options).await.unwrap();
    assert!(matches!(
        plan.changes.first(),
        Some(Change::CreateSystemUser { .. })
    ));
    emu.inject(
        FaultRule::new(Fault::after_work(Fault::Raw {
            status: 200,
            body: format!(r#"{{"id":"{OLD}"}}"#),
        }))
        .on("POST", "/system_users")
        .times(1),
    );
    let report = plan.apply(&client).await;
    let (change, err) = report.failed.as_ref().expect("the create is refused");
    assert!(
        matches!(change, Change::CreateSystemUser { .. }),
        "{change}"
    );
    assert!(matches!(err, Error::UnexpectedResponse(_)), "{err}");
    assert!(err.outcome_unknown(), "{err}");
    assert!(!err.is_transient(), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(OLD) && text.contains("existed before"),
        "{text}"
    );
    assert!(report.applied.is_empty());
    assert!(report.tokens.is_empty());
    assert!(!report.identities.contains_key("ads-reporting"));

    // The state: the old user holds nothing, has no app and no token; nothing was stored.
    assert!(
        emu.assignments(DEMO.ad_accounts[0]).is_empty(),
        "{:?}",
        emu.assignments(DEMO.ad_accounts[0])
    );
    assert_eq!(emu.valid_tokens_of(OLD), 0);
    let users = emu.system_users(DEMO.business_id);
    let old = users.iter().find(|u| u.id == OLD).unwrap();
    assert_eq!(old.name, "legacy-crm");
    assert!(old.installed_apps.is_empty());
    // The emulator did create the new user (the work happened): it is there, untouched.
    let new: Vec<_> = users.iter().filter(|u| u.name == "ads-reporting").collect();
    assert_eq!(new.len(), 1);
    assert_eq!(emu.valid_tokens_of(&new[0].id), 0);
    assert!(store.keys().await.unwrap().is_empty());
    let posts: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .collect();
    assert_eq!(posts.len(), 1, "{posts:?}");

    // The next plan finds the user that was made and finishes; the old one is never renamed.
    let plan = provision::plan(&client, &spec(), &options).await.unwrap();
    assert!(
        !plan.changes.iter().any(|c| matches!(
            c,
            Change::CreateSystemUser { .. } | Change::RenameSystemUser { .. }
        )),
        "{plan}"
    );
    let _done = plan.apply(&client).await.into_result().unwrap();
    assert_eq!(emu.valid_tokens_of(OLD), 0);
    assert_eq!(emu.valid_tokens_of(&new[0].id), 1);
    assert_eq!(emu.assignments(DEMO.ad_accounts[0]).len(), 1);
    assert!(
        emu.assignments(DEMO.ad_accounts[0])
            .contains_key(&new[0].id)
    );
}

/// An answer that carries a name other than the one sent is refused the same way, and the
/// create is not sent again.
#[tokio::test]
async fn a_create_answer_with_another_name_is_refused() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("/v26.0/{BIZ}/system_users")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v26.0/{BIZ}/system_users")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "777", "name": "payroll-bot"})),
        )
        .mount(&server)
        .await;
    let err = client
        .business(BIZ)
        .system_users()
        .create("crm-sync")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnexpectedResponse(_)), "{err}");
    assert!(err.outcome_unknown());
    let text = err.to_string();
    assert!(
        text.contains("payroll-bot") && text.contains("crm-sync"),
        "{text}"
    );
    let posts = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == "POST")
        .count();
    assert_eq!(posts, 1);

    // The name sent, answered back: accepted.
    server.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "778", "name": "crm-sync"})),
        )
        .mount(&server)
        .await;
    let su = client
        .business(BIZ)
        .system_users()
        .create("crm-sync")
        .send()
        .await
        .unwrap();
    assert_eq!(su.id.as_str(), "778");
}

/// `GET /{business}` answered with the caller's token as the node's id: a decode error that
/// shows neither the token nor a `Business`; answered about another business: refused.
#[tokio::test]
async fn a_node_read_answered_about_another_node_is_refused() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("/v26.0/{BIZ}")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": TOKEN, "name": "Acme"})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let err = client.business(BIZ).get().send().await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains(TOKEN), "{text}");
    }
    assert!(
        // The client's registry has already replaced its own token in the body, so the length
        // shown is that of the replacement: either way, not the value.
        err.to_string().contains("not a numeric id (")
            && err.to_string().contains("characters, not shown)"),
        "{err}"
    );

    // Someone else's token, which no scrubber of this client knows: not shown either, the
    // body excerpt included.
    const FOREIGN: &str = "EAAB-someone-elses-token-5150";
    Mock::given(method("GET"))
        .and(path(format!("/v26.0/{BIZ}")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": FOREIGN, "name": "Acme"})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let err = client.business(BIZ).get().send().await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains(FOREIGN), "{text}");
    }

    Mock::given(method("GET"))
        .and(path(format!("/v26.0/{BIZ}")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "99", "name": "Other"})),
        )
        .mount(&server)
        .await;
    let err = client.business(BIZ).get().send().await.unwrap_err();
    assert!(matches!(err, Error::UnexpectedResponse(_)), "{err}");
    assert!(
        err.to_string().contains("about node 99, not 1234567890"),
        "{err}"
    );

    Mock::given(method("GET"))
        .and(path("/v26.0/610001"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 610002, "name": "x"})))
        .mount(&server)
        .await;
    let err = client.system_user("610001").get().send().await.unwrap_err();
    assert!(matches!(err, Error::UnexpectedResponse(_)), "{err}");
}

/// Ids in list items are checked for their form: a token where an id belongs is a decode
/// error without the token, an ad account must be `act_<digits>`.
#[tokio::test]
async fn ids_in_lists_must_have_their_form() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("/v26.0/{BIZ}/system_users")))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"data": [{"id": "610001", "name": "a"}, {"id": TOKEN, "name": "b"}]}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v26.0/610001/assigned_ad_accounts"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": [{"id": "act_12x", "tasks": ["ANALYZE"]}]})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v26.0/act_{}/assigned_users", 42)))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"data": [{"id": "../610001", "user_type": "SYSTEM_USER", "tasks": []}]}),
        ))
        .mount(&server)
        .await;
    let err = client
        .business(BIZ)
        .system_users()
        .list()
        .collect(10)
        .await
        .unwrap_err();
    match &err {
        Error::Decode { json_path, .. } => assert_eq!(json_path, "data[1].id"),
        other => panic!("{other}"),
    }
    assert!(!format!("{err} {err:?}").contains(TOKEN), "{err:?}");

    let err = client
        .system_user("610001")
        .assigned_ad_accounts()
        .collect(10)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
    assert!(err.to_string().contains("not an ad account id"), "{err}");

    let err = client
        .ad_account("act_42")
        .assigned_users(BIZ)
        .collect(10)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("not a numeric id (9 characters, not shown)"),
        "{err}"
    );
}

/// The Custom Audience terms check reads the ad account's node: an answer about another
/// account says nothing about this one's terms.
#[tokio::test]
async fn a_terms_answer_about_another_ad_account_is_not_a_pass() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/v26.0/act_42"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "act_43", "tos_accepted": {"custom_audience_tos": 1}})),
        )
        .mount(&server)
        .await;
    let report = client
        .business(BIZ)
        .preflight()
        .ad_accounts(["act_42"])
        .send()
        .await;
    let check = report
        .check(&meta_business::preflight::CheckKind::CustomAudienceTerms {
            ad_account: "act_42".into(),
        })
        .unwrap();
    assert_eq!(
        check.status,
        meta_business::preflight::CheckStatus::Unknown,
        "{check:?}"
    );
    assert!(check.detail.contains("another node"), "{check:?}");
}
