//! Bounded workflows and safe offboarding: preflight, audit, plan and offboard read each list
//! within a page budget against a server that never stops paging; offboarding fits its rename
//! into the name limit and refuses the system user whose token the client uses.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use meta_business::provision::{
    self, AuditOptions, FindingKind, OffboardOptions, PlanOptions, ProvisionError, Spec,
};
use meta_business::testing::{BusinessSeed, DEMO, Fault, FaultRule, GraphEmulator};
use meta_business::{
    AccessTier, Error, MAX_NAME_CHARS, PageTask, Permission,
    pagination::DEFAULT_WORKFLOW_MAX_PAGES,
    preflight::{CheckKind, CheckStatus},
};
use serde_json::json;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::common::*;

/// Answers every GET with a page of one fresh item and a fresh cursor, forever, and counts
/// the requests; anything else is refused.
async fn endless() -> (MockServer, Arc<AtomicU64>) {
    let server = server().await;
    let count = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&count);
    Mock::given(wiremock::matchers::method("GET"))
        .respond_with(move |_: &Request| {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            ResponseTemplate::new(200).set_body_json(json!({
                "data": [{"id": n.to_string(), "name": "x", "role": "EMPLOYEE",
                          "permission": "ads_read", "status": "live", "tasks": []}],
                "paging": {"cursors": {"after": format!("c{n}")}, "next": "https://x/next"}
            }))
        })
        .mount(&server)
        .await;
    (server, count)
}

async fn writes(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() != "GET")
        .count()
}

#[tokio::test]
async fn preflight_against_endless_cursors_returns_within_its_budget() {
    let (server, count) = endless().await;
    let client = client_for(&server, AccessTier::Limited);
    let preflight = || {
        client
            .business(BIZ)
            .preflight()
            .app("555")
            .scopes([Permission::AdsRead])
    };
    let report = preflight().max_pages(5).send().await;
    // Two debug_token calls (as the app, then as itself: both refused as lists), then four
    // lists of five pages each: the app's permissions, its owned apps, its people, its
    // system users.
    assert_eq!(count.load(Ordering::SeqCst), 2 + 4 * 5);
    for kind in [
        CheckKind::RequestedScopes,
        CheckKind::AppOwned,
        CheckKind::HumanAdmin,
        CheckKind::CallerIsAdmin,
        CheckKind::RegularQuota,
    ] {
        let check = report.check(&kind).unwrap();
        assert_eq!(check.status, CheckStatus::Unknown, "{kind}: {check:?}");
        assert!(check.detail.contains("could not"), "{kind}: {check:?}");
        assert!(
            check
                .remedy
                .as_deref()
                .unwrap()
                .contains("PreflightRequest::max_pages"),
            "{kind}: {check:?}"
        );
    }
    let human = report.check(&CheckKind::HumanAdmin).unwrap();
    assert!(human.detail.contains("could not read all"), "{human:?}");

    // Without a budget of its own, the workflow default holds: never the client's 100,000.
    count.store(0, Ordering::SeqCst);
    let started = Instant::now();
    let report = preflight().send().await;
    assert_eq!(
        count.load(Ordering::SeqCst),
        2 + 4 * u64::from(DEFAULT_WORKFLOW_MAX_PAGES)
    );
    assert!(started.elapsed() < Duration::from_secs(120));
    assert_eq!(
        report.check(&CheckKind::HumanAdmin).unwrap().status,
        CheckStatus::Unknown
    );
    assert_eq!(writes(&server).await, 0);
}

#[tokio::test]
async fn an_audit_against_endless_cursors_reports_what_it_could_not_read() {
    let (server, count) = endless().await;
    let client = client_for(&server, AccessTier::Limited);
    let report = provision::audit(&client, BIZ, &AuditOptions::default().max_pages(3))
        .await
        .unwrap();
    // 3 pages of system users (3 users), 7 kinds' owned lists, each user's 5 system-user
    // edges, and the business's partners and clients: 3 + 21 + 45 + 6 requests, each list
    // cut at 3 pages.
    assert_eq!(count.load(Ordering::SeqCst), 3 + 7 * 3 + 3 * 5 * 3 + 2 * 3);
    assert_eq!(report.system_users.len(), 3);
    let incomplete: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::IncompleteRead)
        .collect();
    assert_eq!(incomplete.len(), 1 + 7 + 3 * 5 + 2, "{report}");
    assert!(
        incomplete
            .iter()
            .all(|f| f.message.starts_with("could not read all of")
                && f.remedy.contains("AuditOptions::max_pages")),
        "{report}"
    );
    assert!(
        incomplete
            .iter()
            .any(|f| f.subject.contains("system users of business"))
    );
    // What it holds could not be read: no user is called empty on a guess.
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::NoAssets),
        "{report}"
    );
    assert_eq!(writes(&server).await, 0);
}

#[tokio::test]
async fn a_plan_that_cannot_read_every_system_user_refuses() {
    let (server, count) = endless().await;
    let client = client_for(&server, AccessTier::Limited);
    let spec = Spec::from_json_str(&format!(
        r#"{{"business": "{BIZ}", "system_users": [{{"name": "crm-sync"}}]}}"#
    ))
    .unwrap();
    let err = provision::plan(&client, &spec, &PlanOptions::default().max_pages(4))
        .await
        .unwrap_err();
    match &err {
        ProvisionError::Client(Error::Pagination { reason, .. }) => {
            assert!(reason.contains("could not read all"), "{reason}");
        }
        other => panic!("{other}"),
    }
    assert_eq!(count.load(Ordering::SeqCst), 4);

    // Offboarding reads the same list first: it stops there, before any write.
    count.store(0, Ordering::SeqCst);
    let err = provision::offboard(&client, BIZ, "61", &OffboardOptions::default().max_pages(4))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ProvisionError::Client(Error::Pagination { .. })),
        "{err}"
    );
    assert_eq!(count.load(Ordering::SeqCst), 4);
    assert_eq!(writes(&server).await, 0);
}

const SU: &str = "61000000000007";
const SU_TOKEN: &str = "EAAS-admin-system-user-token-0042";

/// A business whose admin system user has a token, and a Page for it to hold.
async fn business_with_an_admin_system_user(name: &str) -> GraphEmulator {
    GraphEmulator::builder()
        .business(
            BusinessSeed::new(DEMO.business_id, "Acme")
                .tier(AccessTier::Full)
                .app(DEMO.app_id, "App", DEMO.app_secret)
                .admin(DEMO.admin_token)
                .page(DEMO.pages[0], "Main Page")
                .system_user(SU, name, "ADMIN")
                .system_user_token(SU, SU_TOKEN, &["business_management"]),
        )
        .start()
        .await
}

fn writes_to(emu: &GraphEmulator) -> usize {
    emu.requests().iter().filter(|r| r.method != "GET").count()
}

#[tokio::test]
async fn a_240_character_name_is_offboarded_with_the_name_shortened() {
    let long = format!("crm-sync-{}", "x".repeat(231));
    assert_eq!(long.chars().count(), 240);
    let emu = business_with_an_admin_system_user(&long).await;
    let client = emu.client(DEMO.admin_token).unwrap();
    client
        .page(DEMO.pages[0])
        .assign(SU, [PageTask::Analyze])
        .send()
        .await
        .unwrap();
    let report = provision::offboard(&client, DEMO.business_id, SU, &OffboardOptions::default())
        .await
        .unwrap()
        .into_result()
        .unwrap();
    let renamed = report.renamed_to.clone().unwrap();
    assert!(renamed.chars().count() <= MAX_NAME_CHARS, "{renamed}");
    assert!(renamed.starts_with("[decommissioned "), "{renamed}");
    assert!(renamed.ends_with('…'), "{renamed}");
    // The report keeps the id and the whole old name.
    assert_eq!(report.system_user.as_str(), SU);
    assert_eq!(report.name, long);
    assert!(
        report.notes.iter().any(|n| n.contains("shortened")),
        "{report}"
    );
    // The state: renamed as reported, holding nothing, no valid token.
    let users = emu.system_users(DEMO.business_id);
    assert_eq!(users.iter().find(|u| u.id == SU).unwrap().name, renamed);
    assert!(emu.assignments(DEMO.pages[0]).is_empty());
    assert_eq!(emu.valid_tokens_of(SU), 0);
    // A second run has nothing left to do and does not rename again.
    let again = provision::offboard(&client, DEMO.business_id, SU, &OffboardOptions::default())
        .await
        .unwrap()
        .into_result()
        .unwrap();
    assert_eq!(again.renamed_to, None);
}

#[tokio::test]
async fn offboarding_the_callers_own_system_user_is_refused_before_any_write() {
    let emu = business_with_an_admin_system_user("platform-admin").await;
    // Learned through debug_token as the app (the emulator's client has its id and secret),
    // then through GET /me (a client without them).
    let with_app = emu.client(SU_TOKEN).unwrap();
    let without_app = emu
        .client_builder(SU_TOKEN)
        .app_secret(DEMO.app_secret)
        .build()
        .unwrap();
    for (client, asks) in [(&with_app, "/debug_token"), (&without_app, "/me")] {
        emu.clear_requests();
        let err = provision::offboard(client, DEMO.business_id, SU, &OffboardOptions::default())
            .await
            .unwrap_err();
        match &err {
            ProvisionError::Client(Error::InvalidInput { reason, .. }) => {
                assert!(reason.contains("allow_self"), "{reason}");
            }
            other => panic!("{other}"),
        }
        assert_eq!(writes_to(&emu), 0);
        assert!(
            emu.requests().iter().any(|r| r.path.ends_with(asks)),
            "{asks}: {:?}",
            emu.requests()
        );
        assert!(emu.token_is_valid(SU_TOKEN));
        assert_eq!(emu.valid_tokens_of(SU), 1);
    }

    // Told to, it goes ahead: the client's own token is gone with the rest.
    let options = OffboardOptions::default().allow_self(true);
    let report = provision::offboard(&with_app, DEMO.business_id, SU, &options)
        .await
        .unwrap();
    assert!(report.tokens_invalidated);
    assert!(!emu.token_is_valid(SU_TOKEN));
    assert_eq!(emu.valid_tokens_of(SU), 0);
}

#[tokio::test]
async fn when_whose_token_it_is_cannot_be_learned_the_report_says_so() {
    let emu = business_with_an_admin_system_user("platform-admin").await;
    let client = emu.client(DEMO.admin_token).unwrap();
    emu.inject(FaultRule::new(Fault::graph(100)).on("GET", "/debug_token"));
    emu.inject(FaultRule::new(Fault::graph(100)).on("GET", "/me"));
    let report = provision::offboard(&client, DEMO.business_id, SU, &OffboardOptions::default())
        .await
        .unwrap()
        .into_result()
        .unwrap();
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("could not be learned") && n.contains("GET /me")),
        "{report}"
    );
    assert!(
        report.to_string().contains("could not be learned"),
        "{report}"
    );
    assert!(!report.to_string().contains(DEMO.admin_token));
    assert_eq!(emu.valid_tokens_of(SU), 0);

    // A person's token is not the system user's: offboarding goes ahead without a note.
    let emu = business_with_an_admin_system_user("platform-admin").await;
    let client = emu.client(DEMO.admin_token).unwrap();
    let report = provision::offboard(&client, DEMO.business_id, SU, &OffboardOptions::default())
        .await
        .unwrap()
        .into_result()
        .unwrap();
    assert!(report.notes.is_empty(), "{report}");
    assert_eq!(emu.valid_tokens_of(SU), 0);
}
