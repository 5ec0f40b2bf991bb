//! Preflight: each check passing and failing on a seeded emulator.

use meta_business::testing::{BusinessSeed, DEMO, GraphEmulator};
use meta_business::{
    AccessTier, Client, Permission,
    preflight::{CheckKind, CheckStatus, PreflightReport},
};

fn status(report: &PreflightReport, kind: &CheckKind) -> CheckStatus {
    report
        .check(kind)
        .unwrap_or_else(|| panic!("no {kind} check in {report}"))
        .status
}

async fn run(client: &Client, business: &str, app: &str, accounts: &[&str]) -> PreflightReport {
    client
        .business(business)
        .preflight()
        .app(app)
        .scopes([Permission::AdsRead])
        .ad_accounts(accounts.iter().copied())
        .send()
        .await
}

#[tokio::test]
async fn every_check_passes_on_a_well_set_up_business() {
    let (emulator, demo) = GraphEmulator::demo().await;
    let client = emulator.client(demo.admin_token).unwrap();
    let report = run(
        &client,
        demo.business_id,
        demo.app_id,
        &[demo.ad_accounts[0]],
    )
    .await;
    assert!(report.passed(), "{report}");
    assert!(report.clone().into_result().is_ok());
    assert_eq!(report.checks.len(), 10);
    assert!(
        report.checks.iter().all(|c| c.status == CheckStatus::Pass),
        "{report}"
    );
    assert!(
        report.to_string().ends_with("All checks passed.\n"),
        "{report}"
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["checks"][0]["kind"], "token_valid");
    assert_eq!(json["checks"][0]["status"], "pass");
    assert!(
        emulator.requests().iter().all(|r| r.method == "GET"),
        "read-only"
    );
}

#[tokio::test]
async fn failing_checks_each_say_what_to_do_and_do_not_stop_the_others() {
    let emulator = GraphEmulator::builder()
        .business(
            BusinessSeed::new("11", "No person admin")
                .app("21", "App", "secret-0123456789")
                .ad_account("31", "A")
                .custom_audience_tos_not_accepted("31")
                .system_user("611", "ops-admin", "ADMIN")
                .system_user("612", "crm-sync", "EMPLOYEE")
                .system_user_token("611", "EAAE-admin-su-without-bm", &["ads_read"]),
        )
        .business(
            BusinessSeed::new("12", "Other")
                .app("22", "Other app", "secret-abcdefghij")
                .admin("EAAE-other-admin"),
        )
        .start()
        .await;
    let client = emulator.client("EAAE-admin-su-without-bm").unwrap();
    let report = run(&client, "11", "22", &["act_31"]).await;
    assert!(!report.passed());
    let failed = report.clone().into_result().unwrap_err();
    assert!(failed.to_string().contains("failed"), "{failed}");
    assert_eq!(report.checks.len(), 10, "every check ran: {report}");
    assert_eq!(status(&report, &CheckKind::TokenValid), CheckStatus::Pass);
    assert_eq!(
        status(&report, &CheckKind::BusinessManagementScope),
        CheckStatus::Fail
    );
    // App 22's permissions are read with app 22's token; the client has app 21's secret.
    assert_eq!(
        status(&report, &CheckKind::RequestedScopes),
        CheckStatus::Unknown,
        "unreadable is never a failure"
    );
    assert_eq!(
        status(&report, &CheckKind::AppOwned),
        CheckStatus::Fail,
        "app 22 belongs to business 12"
    );
    assert_eq!(
        status(&report, &CheckKind::HumanAdmin),
        CheckStatus::Fail,
        "only an admin system user"
    );
    assert_eq!(
        status(&report, &CheckKind::CallerIsAdmin),
        CheckStatus::Pass
    );
    assert_eq!(
        status(&report, &CheckKind::AdminQuota),
        CheckStatus::Fail,
        "Limited: one admin exists"
    );
    assert_eq!(
        status(&report, &CheckKind::RegularQuota),
        CheckStatus::Fail,
        "Limited: one regular exists"
    );
    assert_eq!(status(&report, &CheckKind::AppSecret), CheckStatus::Pass);
    assert_eq!(
        status(
            &report,
            &CheckKind::CustomAudienceTerms {
                ad_account: "act_31".into()
            }
        ),
        CheckStatus::Fail
    );
    for failed in report.failures() {
        assert!(
            failed.remedy.as_deref().is_some_and(|r| !r.is_empty()),
            "{failed:?}"
        );
    }
    let text = report.to_string();
    assert!(
        text.contains("FAIL") && text.contains("→ claim the app"),
        "{text}"
    );

    // The same business on the Full tier has room again.
    emulator.set_access_tier("11", AccessTier::Full);
    let full = emulator
        .client_builder("EAAE-admin-su-without-bm")
        .app_secret("secret-0123456789")
        .access_tier(AccessTier::Full)
        .build()
        .unwrap();
    let report = run(&full, "11", "21", &[]).await;
    assert_eq!(status(&report, &CheckKind::RegularQuota), CheckStatus::Pass);
    assert_eq!(status(&report, &CheckKind::AppOwned), CheckStatus::Pass);
}

#[tokio::test]
async fn no_app_secret_and_a_regular_caller() {
    let emulator = GraphEmulator::builder()
        .business(
            BusinessSeed::new("11", "Biz")
                .app("21", "App", "secret-0123456789")
                .admin("EAAE-person")
                .system_user("612", "crm-sync", "EMPLOYEE")
                .system_user_token(
                    "612",
                    "EAAE-regular-su",
                    &["ads_read", "business_management"],
                ),
        )
        .start()
        .await;
    let no_secret = emulator.client_builder("EAAE-person").build().unwrap();
    let report = run(&no_secret, "11", "21", &[]).await;
    assert_eq!(status(&report, &CheckKind::AppSecret), CheckStatus::Fail);
    assert_eq!(
        status(&report, &CheckKind::TokenValid),
        CheckStatus::Pass,
        "checked with the client's own token"
    );

    let regular = emulator.client("EAAE-regular-su").unwrap();
    let report = run(&regular, "11", "21", &[]).await;
    assert_eq!(
        status(&report, &CheckKind::CallerIsAdmin),
        CheckStatus::Fail,
        "{report}"
    );
    assert_eq!(
        status(&report, &CheckKind::HumanAdmin),
        CheckStatus::Unknown,
        "a regular system user cannot read business users"
    );

    let revoked = emulator
        .client_builder("EAAE-unknown-token")
        .app_secret("secret-0123456789")
        .build()
        .unwrap();
    let report = run(&revoked, "11", "21", &[]).await;
    assert_eq!(status(&report, &CheckKind::TokenValid), CheckStatus::Fail);
    assert_eq!(
        report.checks.len(),
        9,
        "the other checks still ran: {report}"
    );
    assert_eq!(
        status(&report, &CheckKind::AdminQuota),
        CheckStatus::Unknown
    );
    let _ = DEMO;
}

#[tokio::test]
async fn people_and_app_permissions_over_several_pages() {
    let emulator = GraphEmulator::builder()
        .business(
            BusinessSeed::new("11", "Big")
                .tier(AccessTier::Full)
                .app("21", "App", "secret-0123456789")
                // 60 people without the ADMIN role come first: the admin is on page 3.
                .employees(60)
                .admin("EAAE-person")
                .system_user("611", "ops-admin", "ADMIN")
                .system_user_token("611", "EAAE-admin-su-bm-only", &["business_management"])
                .app_permissions(
                    "21",
                    &[
                        "pages_show_list",
                        "read_insights",
                        "leads_retrieval",
                        "catalog_management",
                        "pages_read_engagement",
                        "pages_manage_ads",
                        "ads_management",
                        "whatsapp_business_management",
                        "instagram_basic",
                        "attribution_read",
                        "page_events",
                        "publish_video",
                        "read_page_mailboxes",
                        "pages_messaging",
                        "pages_manage_posts",
                        "pages_manage_metadata",
                        "pages_manage_engagement",
                        "pages_manage_cta",
                        "pages_read_user_content",
                        "instagram_manage_insights",
                        "instagram_content_publish",
                        "instagram_manage_comments",
                        "instagram_manage_messages",
                        "commerce_account_read_orders",
                        "commerce_account_read_settings",
                        // Past the first page of 25.
                        "ads_read",
                        "business_management",
                    ],
                ),
        )
        .start()
        .await;
    let client = emulator.client("EAAE-admin-su-bm-only").unwrap();
    let report = client
        .business("11")
        .preflight()
        .app("21")
        .scopes([Permission::AdsRead, Permission::BusinessManagement])
        .send()
        .await;
    assert_eq!(
        status(&report, &CheckKind::HumanAdmin),
        CheckStatus::Pass,
        "{report}"
    );
    let scopes = report.check(&CheckKind::RequestedScopes).unwrap();
    assert_eq!(
        scopes.status,
        CheckStatus::Warn,
        "the app has both; the caller's own token lacks ads_read: {report}"
    );
    assert!(scopes.detail.contains("lacks ads_read"), "{report}");
    assert_eq!(
        status(&report, &CheckKind::AdminQuota),
        CheckStatus::Fail,
        "{report}"
    );
    assert_eq!(
        report.failures().count(),
        1,
        "the warning is not a failure: {report}"
    );
    assert!(
        report
            .to_string()
            .ends_with("1 check(s) failed; 1 passed with a warning.\n"),
        "{report}"
    );
    let people_pages = emulator
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/business_users"))
        .count();
    assert_eq!(people_pages, 3, "paged until the admin was found");
    let permission_reads: Vec<_> = emulator
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/21/permissions"))
        .collect();
    assert_eq!(permission_reads.len(), 2, "two pages of permissions");
    assert!(
        permission_reads
            .iter()
            .all(|r| r.token_suffix.as_deref() == Some("456789")),
        "read as the app"
    );

    // A scope the app cannot grant fails, naming it.
    let report = client
        .business("11")
        .preflight()
        .app("21")
        .scopes([Permission::AdsRead, Permission::PrivateComputationAccess])
        .send()
        .await;
    let scopes = report.check(&CheckKind::RequestedScopes).unwrap();
    assert_eq!(scopes.status, CheckStatus::Fail, "{report}");
    assert!(
        scopes.detail.contains("private_computation_access"),
        "{report}"
    );

    // No one with the ADMIN role among 60 people: a failure, after reading every page.
    let emulator = GraphEmulator::builder()
        .business(
            BusinessSeed::new("11", "Big")
                .app("21", "App", "secret-0123456789")
                .employees(60)
                .system_user("611", "ops-admin", "ADMIN")
                .system_user_token("611", "EAAE-admin-su", &["ads_read", "business_management"]),
        )
        .start()
        .await;
    let client = emulator.client("EAAE-admin-su").unwrap();
    let report = client.business("11").preflight().app("21").send().await;
    let admin = report.check(&CheckKind::HumanAdmin).unwrap();
    assert_eq!(admin.status, CheckStatus::Fail, "{report}");
    assert!(admin.detail.contains("60 person(s)"), "{report}");
}
