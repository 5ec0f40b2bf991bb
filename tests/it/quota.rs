//! The system-user quota, enforced before the create is sent.

use std::time::Duration;

use meta_business::{AccessTier, Client, Error, SystemUserKind, SystemUserQuota, SystemUserRole};

use crate::common::*;

fn posts_path() -> String {
    format!("/v26.0/{BIZ}/system_users")
}

#[tokio::test]
async fn limited_with_one_regular_refuses_another_without_posting() {
    let server = server().await;
    SystemUserStore::with(&[("reporting-server", "EMPLOYEE")])
        .mount(&server, BIZ)
        .await;
    let client = client_for(&server, AccessTier::Limited);
    let err = client
        .business(BIZ)
        .system_users()
        .create("second-server")
        .role(SystemUserRole::Employee)
        .send()
        .await
        .unwrap_err();
    match &err {
        Error::QuotaExceeded {
            business,
            tier,
            role,
            limit,
            existing,
        } => {
            assert_eq!(business.as_str(), BIZ);
            assert_eq!(*tier, Some(AccessTier::Limited));
            assert_eq!(*role, SystemUserKind::Regular);
            assert_eq!((*limit, *existing), (1, 1));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("limited access tier"), "{err}");
    // The remedy comes with the refusal.
    assert!(
        err.to_string().contains("get_or_create") && err.to_string().contains("Full access tier"),
        "{err}"
    );
    assert_eq!(count(&server, "POST", &posts_path()).await, 0);
    // The admin slot is still free.
    client
        .business(BIZ)
        .system_users()
        .create("admin-bot")
        .role(SystemUserRole::Admin)
        .send()
        .await
        .unwrap();
    assert_eq!(count(&server, "POST", &posts_path()).await, 1);
}

#[tokio::test]
async fn an_existing_admin_blocks_a_second_admin() {
    for tier in [AccessTier::Limited, AccessTier::Full] {
        let server = server().await;
        SystemUserStore::with(&[("admin-bot", "ADMIN")])
            .mount(&server, BIZ)
            .await;
        let client = client_for(&server, tier);
        let err = client
            .business(BIZ)
            .system_users()
            .create("admin-2")
            .role(SystemUserRole::Admin)
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::QuotaExceeded {
                    role: SystemUserKind::Admin,
                    limit: 1,
                    existing: 1,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(count(&server, "POST", &posts_path()).await, 0);
    }
}

#[tokio::test]
async fn full_allows_the_tenth_regular_and_refuses_the_eleventh() {
    let server = server().await;
    let existing: Vec<(String, &str)> = (1..=9)
        .map(|i| (format!("worker-{i}"), "EMPLOYEE"))
        .collect();
    let refs: Vec<(&str, &str)> = existing
        .iter()
        .map(|(n, r)| (n.as_str(), *r))
        .chain([("admin-bot", "ADMIN")])
        .collect();
    SystemUserStore::with(&refs).mount(&server, BIZ).await;
    let client = client_for(&server, AccessTier::Advanced);
    client
        .business(BIZ)
        .system_users()
        .create("worker-10")
        .send()
        .await
        .unwrap();
    let usage = client
        .business(BIZ)
        .system_user_quota()
        .send()
        .await
        .unwrap();
    assert_eq!((usage.admins, usage.regular), (1, 10));
    assert_eq!(usage.remaining(SystemUserKind::Regular), Some(0));
    let err = client
        .business(BIZ)
        .system_users()
        .create("worker-11")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::QuotaExceeded {
                limit: 10,
                existing: 10,
                tier: Some(AccessTier::Full),
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(count(&server, "POST", &posts_path()).await, 1);
}

#[tokio::test]
async fn ten_concurrent_creates_on_an_empty_limited_business_create_exactly_one() {
    let server = server().await;
    let store = SystemUserStore {
        post_delay: Duration::from_millis(50),
        ..Default::default()
    };
    store.mount(&server, BIZ).await;
    let client = client_for(&server, AccessTier::Limited);
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .business(BIZ)
                    .system_users()
                    .create(format!("worker-{i}"))
                    .role(SystemUserRole::Employee)
                    .send()
                    .await
            })
        })
        .collect();
    let mut ok = 0;
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(Error::QuotaExceeded { .. }) => refused += 1,
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!((ok, refused), (1, 9));
    assert_eq!(count(&server, "POST", &posts_path()).await, 1);
    assert_eq!(store.users.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn clones_with_other_tokens_share_the_serialization() {
    let server = server().await;
    SystemUserStore {
        post_delay: Duration::from_millis(50),
        ..Default::default()
    }
    .mount(&server, BIZ)
    .await;
    let client = client_for(&server, AccessTier::Limited);
    let other = client.with_token("EAAB-SECOND-ADMIN-TOKEN-1");
    let a = tokio::spawn({
        let c = client.clone();
        async move { c.business(BIZ).system_users().create("a").send().await }
    });
    let b =
        tokio::spawn(async move { other.business(BIZ).system_users().create("b").send().await });
    let results = [a.await.unwrap().is_ok(), b.await.unwrap().is_ok()];
    assert_eq!(results.iter().filter(|r| **r).count(), 1);
    assert_eq!(count(&server, "POST", &posts_path()).await, 1);
}

#[tokio::test]
async fn custom_quota_replaces_the_tier() {
    let server = server().await;
    SystemUserStore::with(&[("a", "EMPLOYEE"), ("b", "EMPLOYEE")])
        .mount(&server, BIZ)
        .await;
    let client = Client::builder()
        .access_token(TOKEN)
        .base_url(server.uri())
        .system_user_quota(SystemUserQuota::new(2, 1))
        .build()
        .unwrap();
    let err = client
        .business(BIZ)
        .system_users()
        .create("c")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::QuotaExceeded {
                tier: None,
                limit: 2,
                existing: 2,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("custom quota"));
}

#[tokio::test]
async fn quota_report_counts_every_page() {
    let server = server().await;
    SystemUserStore::with(&[
        ("admin", "ADMIN"),
        ("a", "EMPLOYEE"),
        ("b", "EMPLOYEE"),
        ("c", "EMPLOYEE"),
        ("d", "DEVELOPER"),
    ])
    .mount(&server, BIZ)
    .await;
    let client = client_for(&server, AccessTier::Full);
    let usage = client
        .business(BIZ)
        .system_user_quota()
        .send()
        .await
        .unwrap();
    assert_eq!((usage.admins, usage.regular), (1, 4));
    assert_eq!(usage.remaining(SystemUserKind::Regular), Some(6));
    assert!(!usage.can_create(SystemUserKind::Admin));
    assert_eq!(
        usage.to_string(),
        format!("business {BIZ}: 1/1 admin, 4/10 regular system users (full access tier)")
    );
    let reqs = received(&server).await;
    assert_eq!(reqs.len(), 3);
    assert_wire(&reqs, TOKEN);
}

#[tokio::test]
async fn a_plans_quota_refusal_gives_the_same_remedies_as_a_creates() {
    use meta_business::provision::{self, PlanOptions, ProvisionError, Spec};
    use meta_business::testing::{DEMO, GraphEmulator};
    // The demo business is on the Limited tier: one regular system user fits.
    let (emulator, demo) = GraphEmulator::demo().await;
    let client = emulator.client(demo.admin_token).unwrap();
    let users = client.business(DEMO.business_id).system_users();
    users.create("crm-sync-eu").send().await.unwrap();
    let create = users.create("catalog-feed").send().await.unwrap_err();
    assert!(matches!(create, Error::QuotaExceeded { .. }), "{create}");
    let create = create.to_string();
    let remedy = create
        .split_once("nothing was sent. ")
        .map(|(_, remedy)| remedy.to_owned())
        .unwrap_or_else(|| panic!("no remedy after the refusal: {create}"));
    assert!(
        remedy.contains("offboard an unused one") && remedy.contains("Full access tier"),
        "{remedy}"
    );

    let before = emulator.requests().len();
    let spec = Spec::from_json_str(&format!(
        r#"{{"business": "{}", "system_users": [{{"name": "catalog-feed"}}]}}"#,
        DEMO.business_id
    ))
    .unwrap();
    let plan = provision::plan(&client, &spec, &PlanOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &plan,
            ProvisionError::PlanExceedsQuota { system_users, tier: Some(AccessTier::Limited), .. }
                if system_users == &["catalog-feed"]
        ),
        "{plan}"
    );
    let plan = plan.to_string();
    assert!(
        plan.ends_with(&format!("nothing was written. {remedy}")),
        "{plan}"
    );
    // The refusal wrote nothing: the business still has the one user.
    assert!(
        emulator.requests()[before..]
            .iter()
            .all(|r| r.method == "GET"),
        "{:?}",
        &emulator.requests()[before..]
    );
    let names: Vec<String> = users
        .list()
        .collect(100)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|u| u.name)
        .collect();
    assert_eq!(names, ["crm-sync-eu"]);
}
