//! Business On Behalf Of, end to end on the emulator, with the wire shape of each step.

use meta_business::testing::GraphEmulator;
use meta_business::{
    Error, ExposeSecret, PageTask, Permission,
    obo::{ClientAdminToken, PartnerAdminToken},
};

fn suffix(token: &str) -> String {
    token[token.len() - 6..].to_owned()
}

#[tokio::test]
async fn the_whole_flow_with_the_right_token_at_each_step() {
    let (emulator, d) = GraphEmulator::obo_demo().await;
    let client = emulator
        .client_builder("EAAE-not-used-by-obo")
        .app_secret(d.app_secret)
        .build()
        .unwrap();
    let obo = client.on_behalf_of(d.partner, d.client);
    let client_admin = ClientAdminToken::new(d.client_admin_token);
    let partner_admin = PartnerAdminToken::new(d.partner_admin_token);

    let linked = obo.link(&client_admin).await.unwrap();
    assert_eq!(linked.name.as_deref(), Some(d.client_name));

    let su_token = obo
        .client_system_user_token(&partner_admin, d.app_id)
        .scopes([Permission::AdsManagement, Permission::PagesReadEngagement])
        .send()
        .await
        .unwrap();
    assert!(!format!("{su_token:?}").contains(su_token.secret().expose_secret()));
    let me = obo.client_system_user(&su_token).await.unwrap();
    assert_eq!(me.name.as_deref(), Some("Client Shop SYSTEM USER"));
    assert_eq!(
        su_token.system_user_id(&client).await.unwrap().as_str(),
        me.id
    );

    // The partner's app now shows in the client business as a shared asset.
    let shared = obo
        .as_client_admin(&client_admin)
        .business(d.client)
        .client_apps()
        .collect(10)
        .await
        .unwrap();
    assert_eq!(shared[0].id.as_str(), d.app_id);

    obo.as_client_admin(&client_admin)
        .page(d.client_page)
        .assign(me.id.as_str(), [PageTask::Analyze])
        .send()
        .await
        .unwrap();
    let pages = obo.pages(&su_token).collect(10).await.unwrap();
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0].tasks, ["ANALYZE"]);
    let page_token = pages[0].access_token().unwrap();
    let shown = format!("{:?}", pages[0]);
    assert!(!shown.contains(page_token.secret().expose_secret()));
    assert!(
        shown.contains("access_token: Some(PageAccessToken([redacted]))"),
        "{shown}"
    );
    let as_page = emulator
        .client(page_token.secret().expose_secret())
        .unwrap();
    let page_me: serde_json::Value = as_page.get("me", &[]).await.unwrap();
    assert_eq!(page_me["id"], d.client_page);

    // A second token request reuses the same client system user.
    let again = obo
        .client_system_user_token(&partner_admin, d.app_id)
        .scopes([Permission::AdsManagement])
        .send()
        .await
        .unwrap();
    assert_eq!(obo.client_system_user(&again).await.unwrap().id, me.id);

    obo.unlink(&client_admin).await.unwrap();
    assert_eq!(
        obo.client_system_user(&su_token).await.unwrap_err().code(),
        Some(190)
    );
    assert!(
        emulator.system_users(d.client).is_empty(),
        "the client system user is gone"
    );
    assert!(!emulator.token_is_valid(page_token.secret().expose_secret()));

    let journal = emulator.requests();
    let step = |method: &str, path: &str| {
        journal
            .iter()
            .find(|r| r.method == method && r.path == path)
            .unwrap_or_else(|| panic!("no {method} {path}"))
            .clone()
    };
    let link = step("POST", &format!("/v26.0/{}/managed_businesses", d.partner));
    assert_eq!(link.params["existing_client_business_id"], d.client);
    assert_eq!(
        link.token_suffix.as_deref(),
        Some(suffix(d.client_admin_token).as_str())
    );
    let token_step = step("POST", &format!("/v26.0/{}/access_token", d.client));
    assert_eq!(
        token_step.params["scope"],
        "ads_management,pages_read_engagement"
    );
    assert_eq!(token_step.params["app_id"], d.app_id);
    assert!(token_step.proof, "appsecret_proof is required on this step");
    assert_eq!(
        token_step.token_suffix.as_deref(),
        Some(suffix(d.partner_admin_token).as_str())
    );
    let me_step = step("GET", "/v26.0/me");
    assert_eq!(
        me_step.token_suffix.as_deref(),
        Some(suffix(su_token.secret().expose_secret()).as_str())
    );
    let accounts = step("GET", "/v26.0/me/accounts");
    assert_eq!(accounts.token_suffix, me_step.token_suffix);
    let unlink = step(
        "DELETE",
        &format!("/v26.0/{}/managed_businesses", d.partner),
    );
    assert_eq!(unlink.params["existing_client_business_id"], d.client);
    assert_eq!(
        unlink.token_suffix.as_deref(),
        Some(suffix(d.client_admin_token).as_str())
    );
    assert!(journal.iter().all(|r| r.bearer && !r.access_token_in_url));
}

#[tokio::test]
async fn the_emulator_refuses_what_meta_refuses() {
    let (emulator, d) = GraphEmulator::obo_demo().await;
    let client = emulator
        .client_builder("unused")
        .app_secret(d.app_secret)
        .build()
        .unwrap();
    let obo = client.on_behalf_of(d.partner, d.client);
    // No relationship yet.
    let err = obo
        .client_system_user_token(&PartnerAdminToken::new(d.partner_admin_token), d.app_id)
        .scopes([Permission::AdsManagement])
        .send()
        .await
        .unwrap_err();
    assert!(err.is_permission(), "{err}");
    // The client token where the partner admin's is required: refused by the server too.
    obo.link(&ClientAdminToken::new(d.client_admin_token))
        .await
        .unwrap();
    let err = obo
        .client_system_user_token(&PartnerAdminToken::new(d.client_admin_token), d.app_id)
        .scopes([Permission::AdsManagement])
        .send()
        .await
        .unwrap_err();
    assert!(err.is_permission(), "{err}");
    // A JSON-quoted scope is refused by this edge (it wants a comma-separated string).
    let raw = reqwest::Client::new()
        .post(format!(
            "{}/v26.0/{}/access_token",
            emulator.uri(),
            d.client
        ))
        .bearer_auth(d.partner_admin_token)
        .form(&[
            ("app_id", d.app_id),
            ("scope", r#"["ads_management"]"#),
            (
                "appsecret_proof",
                meta_business::tokens::appsecret_proof(
                    &d.app_secret.into(),
                    &d.partner_admin_token.into(),
                )
                .expose_secret(),
            ),
        ])
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = raw.json().await.unwrap();
    assert_eq!(body["error"]["code"], 3962);
}

#[tokio::test]
async fn bad_input_sends_nothing() {
    let (emulator, d) = GraphEmulator::obo_demo().await;
    let client = emulator
        .client_builder("unused")
        .app_secret(d.app_secret)
        .build()
        .unwrap();
    let no_secret = emulator.client_builder("unused").build().unwrap();
    let partner_admin = PartnerAdminToken::new(d.partner_admin_token);
    let client_admin = ClientAdminToken::new(d.client_admin_token);
    let cases = [
        (
            client
                .on_behalf_of(d.partner, d.partner)
                .link(&client_admin)
                .await
                .unwrap_err(),
            "client_business_id",
        ),
        (
            client
                .on_behalf_of("x", d.client)
                .link(&client_admin)
                .await
                .unwrap_err(),
            "partner_business_id",
        ),
        (
            client
                .on_behalf_of(d.partner, d.partner)
                .unlink(&client_admin)
                .await
                .unwrap_err(),
            "client_business_id",
        ),
        (
            client
                .on_behalf_of(d.partner, d.client)
                .client_system_user_token(&partner_admin, d.app_id)
                .send()
                .await
                .unwrap_err(),
            "scopes",
        ),
        (
            client
                .on_behalf_of(d.partner, d.client)
                .client_system_user_token(&partner_admin, "app")
                .scopes([Permission::AdsRead])
                .send()
                .await
                .unwrap_err(),
            "app_id",
        ),
        (
            no_secret
                .on_behalf_of(d.partner, d.client)
                .client_system_user_token(&partner_admin, d.app_id)
                .scopes([Permission::AdsRead])
                .send()
                .await
                .unwrap_err(),
            "app_secret",
        ),
    ];
    for (err, field) in cases {
        assert!(
            matches!(&err, Error::InvalidInput { field: f, .. } if f == field),
            "{field}: {err}"
        );
    }
    assert!(emulator.requests().is_empty());
    assert_eq!(
        format!("{partner_admin:?}"),
        "PartnerAdminToken([redacted])"
    );
}

/// The client token mints: a 502 after the server minted it is not re-sent (one request), and
/// the error says the outcome is unknown (a token may exist that nobody holds).
#[tokio::test]
async fn a_client_token_whose_answer_is_lost_is_not_resent() {
    use meta_business::testing::{Fault, FaultRule};
    let (emulator, d) = GraphEmulator::obo_demo().await;
    let client = emulator
        .client_builder("EAAE-not-used-by-obo")
        .app_secret(d.app_secret)
        .build()
        .unwrap();
    let obo = client.on_behalf_of(d.partner, d.client);
    // Linked by another client: this one never saw the client admin's token.
    let linker = emulator.client_builder("EAAE-linker").build().unwrap();
    linker
        .on_behalf_of(d.partner, d.client)
        .link(&ClientAdminToken::new(d.client_admin_token))
        .await
        .unwrap();
    emulator.inject(
        FaultRule::new(Fault::after_work(Fault::Http { status: 502 }))
            .on("POST", "/access_token")
            .times(1),
    );
    let err = obo
        .client_system_user_token(&PartnerAdminToken::new(d.partner_admin_token), d.app_id)
        .scopes([Permission::AdsManagement])
        .send()
        .await
        .unwrap_err();
    assert!(err.outcome_unknown(), "{err}");
    let mints = emulator
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/access_token"))
        .count();
    assert_eq!(mints, 1, "never re-sent");
}

/// Step 2 answered with `token` in place of a new client system-user token: the error.
async fn answered_with(token: &str) -> (GraphEmulator, Error) {
    use meta_business::testing::{Fault, FaultRule};
    let (emulator, d) = GraphEmulator::obo_demo().await;
    let client = emulator
        .client_builder("EAAE-not-used-by-obo")
        .app_secret(d.app_secret)
        .build()
        .unwrap();
    let obo = client.on_behalf_of(d.partner, d.client);
    // Linked by another client: this one never saw the client admin's token.
    let linker = emulator.client_builder("EAAE-linker").build().unwrap();
    linker
        .on_behalf_of(d.partner, d.client)
        .link(&ClientAdminToken::new(d.client_admin_token))
        .await
        .unwrap();
    emulator.inject(
        FaultRule::new(Fault::Raw {
            status: 200,
            body: serde_json::json!({ "access_token": token }).to_string(),
        })
        .on("POST", "/access_token")
        .times(1),
    );
    let err = obo
        .client_system_user_token(&PartnerAdminToken::new(d.partner_admin_token), d.app_id)
        .scopes([Permission::AdsManagement])
        .send()
        .await
        .unwrap_err();
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains(token), "{shown}");
        assert!(!shown.contains(d.partner_admin_token), "{shown}");
        assert!(!shown.contains(d.app_secret), "{shown}");
    }
    (emulator, err)
}

#[tokio::test]
async fn a_client_token_of_a_person_is_refused_and_revoked() {
    let d = meta_business::testing::OBO_DEMO;
    let (emulator, err) = answered_with(d.client_admin_token).await;
    assert!(matches!(err, Error::TokenCheck { .. }), "{err:?}");
    assert!(err.to_string().contains("not a system user's"), "{err}");
    assert!(err.to_string().contains("it was revoked"), "{err}");
    // A token of the partner's app: revoked, so nobody is left holding it.
    assert!(!emulator.token_is_valid(d.client_admin_token));
    assert!(emulator.token_is_valid(d.partner_admin_token));
}

#[tokio::test]
async fn a_client_token_that_is_not_valid_is_refused() {
    let forged = "EAAEforgedClientSystemUserToken0123456789";
    let (_emulator, err) = answered_with(forged).await;
    assert!(matches!(err, Error::TokenCheck { .. }), "{err:?}");
    assert!(err.to_string().contains("does not show it valid"), "{err}");
}

#[tokio::test]
async fn without_the_partner_apps_secret_nothing_is_sent() {
    let (emulator, d) = GraphEmulator::obo_demo().await;
    // The client's own app is another one: its secret cannot check the partner app's token.
    let client = emulator
        .client_builder("EAAE-not-used-by-obo")
        .app_id("2900000000001")
        .app_secret("another-apps-secret")
        .build()
        .unwrap();
    let err = client
        .on_behalf_of(d.partner, d.client)
        .client_system_user_token(&PartnerAdminToken::new(d.partner_admin_token), d.app_id)
        .scopes([Permission::AdsManagement])
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput { field, .. } if field == "app_secret"),
        "{err:?}"
    );
    assert!(emulator.requests().is_empty());
}
