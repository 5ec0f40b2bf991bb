//! Progress events: the exact sequence each workflow reports on the emulator (plan + apply,
//! offboard, a keeper pass and a rotation, bulk, the audit), the info-level log lines, and no
//! secret in any event.

use std::sync::{Arc, Mutex};

use meta_business::provision::{self, OffboardOptions, PlanOptions, Spec, SystemUserBuilder};
use meta_business::testing::{Demo, Fault, FaultRule, GraphEmulator};
use meta_business::{
    AdAccountTask, Client, ExposeSecret, PageTask, Permission, SystemUserId,
    bulk::BulkMode,
    keeper::TokenKeeper,
    progress::{Progress, ProgressSink, Workflow},
    retry::RetryPolicy,
    store::{MemoryStore, TokenKey, TokenStore},
};

use crate::common::{captured_logs, logs_text};

/// `text` without its ANSI colour codes.
fn without_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A sink that keeps every event it is given.
fn recorder() -> (ProgressSink, Arc<Mutex<Vec<Progress>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&events);
    let sink = ProgressSink::new(move |event: &Progress| kept.lock().unwrap().push(event.clone()));
    (sink, events)
}

/// The events so far, as their `Display` lines, and forgotten.
fn lines(events: &Mutex<Vec<Progress>>) -> Vec<String> {
    events
        .lock()
        .unwrap()
        .drain(..)
        .map(|e| e.to_string())
        .collect()
}

struct World {
    emulator: GraphEmulator,
    demo: Demo,
    client: Client,
    store: Arc<MemoryStore>,
    sink: ProgressSink,
    events: Arc<Mutex<Vec<Progress>>>,
}

async fn world() -> World {
    let (emulator, demo) = GraphEmulator::demo().await;
    let client = emulator.client(demo.admin_token).unwrap();
    let (sink, events) = recorder();
    World {
        emulator,
        demo,
        client,
        store: Arc::new(MemoryStore::new()),
        sink,
        events,
    }
}

fn spec(demo: &Demo) -> Spec {
    Spec::builder(demo.business_id)
        .system_user(
            SystemUserBuilder::new("progress-reporting")
                .app(demo.app_id)
                .ad_account(demo.ad_accounts[0], [AdAccountTask::Analyze])
                .page(demo.pages[0], [PageTask::Analyze])
                .token(demo.app_id, [Permission::AdsRead]),
        )
        .build()
        .unwrap()
}

/// Plans and applies the demo spec with the world's sink; the system user's id.
async fn provisioned(w: &World) -> SystemUserId {
    let options = PlanOptions::default()
        .store(w.store.clone())
        .progress(w.sink.clone());
    let plan = provision::plan(&w.client, &spec(&w.demo), &options)
        .await
        .unwrap();
    let report = plan.apply(&w.client).await;
    assert!(report.is_complete(), "{report}");
    report.identities["progress-reporting"].clone()
}

#[tokio::test]
async fn plan_and_apply_report_each_step_in_order() {
    captured_logs();
    let w = world().await;
    let su = provisioned(&w).await;
    let b = w.demo.business_id;
    let (app, act, page) = (w.demo.app_id, w.demo.ad_accounts[0], w.demo.pages[0]);
    let got = lines(&w.events);
    let expected: Vec<String> = vec![
        "plan started: 3 step(s)".to_owned(),
        format!("plan [1/3] read business {b}"),
        format!("plan [1/3] done: read business {b}"),
        "plan [2/3] system user \"progress-reporting\"".to_owned(),
        "plan [2/3] done: system user \"progress-reporting\"".to_owned(),
        "plan [3/3] check 5 change(s) against the quota".to_owned(),
        "plan [3/3] done: check 5 change(s) against the quota".to_owned(),
        "plan finished: 3 done, 0 failed".to_owned(),
        "apply started: 5 step(s)".to_owned(),
        format!("apply [1/5] + create system user \"progress-reporting\" (EMPLOYEE)"),
        format!("apply [1/5] done: + create system user \"progress-reporting\" (EMPLOYEE)"),
        format!("apply [2/5] + install app {app} for \"progress-reporting\""),
        format!("apply [2/5] done: + install app {app} for \"progress-reporting\""),
        format!("apply [3/5] + assign ad account {act} to \"progress-reporting\": ANALYZE"),
        format!("apply [3/5] done: + assign ad account {act} to \"progress-reporting\": ANALYZE"),
        format!("apply [4/5] + assign Page {page} to \"progress-reporting\": ANALYZE"),
        format!("apply [4/5] done: + assign Page {page} to \"progress-reporting\": ANALYZE"),
        format!(
            "apply [5/5] + generate token for \"progress-reporting\" (app {app}; ads_read; expires in 60 days): new system user"
        ),
        format!(
            "apply [5/5] done: + generate token for \"progress-reporting\" (app {app}; ads_read; expires in 60 days): new system user"
        ),
        "apply finished: 5 done, 0 failed".to_owned(),
    ];
    assert_eq!(got, expected);
    // The state the events describe.
    assert_eq!(w.emulator.valid_tokens_of(su.as_str()), 1);
    assert_eq!(w.store.keys().await.unwrap().len(), 1);
    // And the same steps at info level in the log (colours taken out).
    let logs = without_colours(&logs_text());
    let line = format!(
        "INFO meta_business::progress: done workflow=\"apply\" step=3 total=5 what=+ assign ad account {act} to \"progress-reporting\": ANALYZE"
    );
    assert!(logs.contains(&line), "no info line for the apply step");
}

#[tokio::test]
async fn offboard_reports_each_write_in_order() {
    let w = world().await;
    let su = provisioned(&w).await;
    lines(&w.events);
    let options = OffboardOptions::default()
        .store(w.store.clone())
        .progress(w.sink.clone());
    let report = provision::offboard(&w.client, w.demo.business_id, su.clone(), &options)
        .await
        .unwrap();
    assert!(report.is_complete(), "{report}");
    let (b, act, page) = (w.demo.business_id, w.demo.ad_accounts[0], w.demo.pages[0]);
    let got = lines(&w.events);
    let mut expected = vec![
        "offboard started".to_owned(),
        format!("offboard [1] check system user {su} of business {b}"),
        format!("offboard [1] done: check system user {su} of business {b}"),
        "offboard [2] invalidate its tokens".to_owned(),
        "offboard [2] done: invalidate its tokens".to_owned(),
        "offboard [3] remove its tokens from the store".to_owned(),
        "offboard [3] done: remove its tokens from the store".to_owned(),
        "offboard [4] read the assets it holds".to_owned(),
        "offboard [4] done: read the assets it holds".to_owned(),
    ];
    // The order the removals happen in: the report's.
    let mut n = 4;
    for asset in &report.removed {
        n += 1;
        let what = format!("remove it from {} {}", asset.kind_name(), asset.id());
        expected.push(format!("offboard [{n}] {what}"));
        expected.push(format!("offboard [{n}] done: {what}"));
    }
    expected.extend([
        "offboard [7] rename it as decommissioned".to_owned(),
        "offboard [7] done: rename it as decommissioned".to_owned(),
        "offboard finished: 7 done, 0 failed".to_owned(),
    ]);
    assert_eq!(got, expected);
    assert_eq!(report.removed.len(), 2);
    assert!(w.emulator.assignments(act).is_empty() && w.emulator.assignments(page).is_empty());
    assert_eq!(w.emulator.valid_tokens_of(su.as_str()), 0);
    assert!(w.store.keys().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_audit_reports_each_part_it_reads_and_a_failed_read() {
    let w = world().await;
    provisioned(&w).await;
    lines(&w.events);
    let options = provision::AuditOptions::default()
        .store(w.store.clone())
        .progress(w.sink.clone());
    let report = provision::audit(&w.client, w.demo.business_id, &options)
        .await
        .unwrap();
    let b = w.demo.business_id;
    let steps = [
        format!("read the system users of business {b}"),
        "read the assets the business owns".to_owned(),
        format!(
            "read what its {} system users hold",
            report.system_users.len()
        ),
        "read its partners and clients".to_owned(),
        "check the tokens".to_owned(),
    ];
    let mut expected = vec!["audit started".to_owned()];
    for (i, what) in steps.iter().enumerate() {
        expected.push(format!("audit [{}] {what}", i + 1));
        expected.push(format!("audit [{}] done: {what}", i + 1));
    }
    expected.push("audit finished: 5 done, 0 failed".to_owned());
    assert_eq!(lines(&w.events), expected);

    // The first read refused: its step is the failed one, and the audit's error says why.
    w.emulator.inject(
        FaultRule::new(Fault::graph(100))
            .on("GET", "/system_users")
            .times(1),
    );
    let err = provision::audit(&w.client, b, &options).await.unwrap_err();
    let got = lines(&w.events);
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(got[0], "audit started");
    assert_eq!(got[1], format!("audit [1] {}", steps[0]));
    assert!(
        got[2].starts_with(&format!("audit [1] FAILED: {}: ", steps[0])),
        "{got:?}"
    );
    assert_eq!(got[3], "audit finished: 0 done, 1 failed");
    assert!(err.to_string().contains("100"), "{err}");
}

#[tokio::test]
async fn a_keeper_pass_and_a_rotation_report_each_token() {
    let w = world().await;
    let su = provisioned(&w).await;
    lines(&w.events);
    let keeper = TokenKeeper::new(w.client.clone(), w.store.clone())
        .clock(w.emulator.clock_source())
        .progress(w.sink.clone());
    let key = TokenKey::new(w.demo.business_id, su.clone(), w.demo.app_id);
    let pass = keeper.run_once().await;
    let rotated = keeper.rotate(&key).await.unwrap();
    let got = lines(&w.events);
    let expected = vec![
        "keeper started".to_owned(),
        "keeper [1] list the store".to_owned(),
        "keeper [1] done: list the store".to_owned(),
        format!("keeper [2] {key}"),
        format!("keeper [2] done: {}", pass.tokens[0]),
        "keeper finished: 2 done, 0 failed".to_owned(),
        "keeper started: 1 step(s)".to_owned(),
        format!("keeper [1/1] rotate {key}"),
        format!("keeper [1/1] done: {rotated}"),
        "keeper finished: 1 done, 0 failed".to_owned(),
    ];
    assert_eq!(got, expected);
    assert!(pass.tokens[0].to_string().contains(": valid; expires "));
    assert!(
        rotated
            .to_string()
            .contains(": rotated on demand; expires ")
    );
    assert_eq!(w.emulator.valid_tokens_of(su.as_str()), 1);
}

#[tokio::test]
async fn bulk_reports_each_operation_with_its_result() {
    let w = world().await;
    let su = w
        .client
        .business(w.demo.business_id)
        .system_users()
        .create("bulk-progress")
        .send()
        .await
        .unwrap();
    for mode in [BulkMode::Sequential, BulkMode::Concurrent, BulkMode::Batch] {
        // The second is refused by the server: no such ad account in the business.
        let ops: Vec<meta_business::bulk::BulkOp> = [
            w.client
                .ad_account(w.demo.ad_accounts[0])
                .assign(&su.id, [AdAccountTask::Analyze]),
            w.client
                .ad_account("act_999999999")
                .assign(&su.id, [AdAccountTask::Analyze]),
            w.client
                .ad_account(w.demo.ad_accounts[1])
                .assign(&su.id, [AdAccountTask::Analyze]),
        ]
        .into_iter()
        .map(Into::into)
        .collect();
        let labels: Vec<String> = ops.iter().map(|op| op.label().to_owned()).collect();
        let results = w
            .client
            .bulk(ops)
            .mode(mode)
            .progress(w.sink.clone())
            .send()
            .await
            .unwrap();
        let failure = results[1].as_ref().unwrap_err().to_string();
        assert!(results[0].is_ok() && results[2].is_ok());
        let got = lines(&w.events);
        let expected = vec![
            "bulk started: 3 step(s)".to_owned(),
            format!("bulk [1/3] {}", labels[0]),
            format!("bulk [1/3] done: {}", labels[0]),
            format!("bulk [2/3] {}", labels[1]),
            format!("bulk [2/3] FAILED: {}: {failure}", labels[1]),
            format!("bulk [3/3] {}", labels[2]),
            format!("bulk [3/3] done: {}", labels[2]),
            "bulk finished: 2 done, 1 failed".to_owned(),
        ];
        assert_eq!(got, expected, "{mode:?}");
    }
    let held = w.emulator.assignments(w.demo.ad_accounts[1]);
    assert!(held.contains_key(su.id.as_str()), "{held:?}");
}

#[tokio::test]
async fn no_event_of_any_workflow_holds_a_secret() {
    let w = world().await;
    let su = provisioned(&w).await;
    let key = TokenKey::new(w.demo.business_id, su.clone(), w.demo.app_id);
    let first = w.store.get(&key).await.unwrap().unwrap().token;
    let keeper = TokenKeeper::new(w.client.clone(), w.store.clone())
        .clock(w.emulator.clock_source())
        .progress(w.sink.clone());
    let _ = keeper.run_once().await;
    keeper.rotate(&key).await.unwrap();
    let second = w.store.get(&key).await.unwrap().unwrap().token;
    let _ = w
        .client
        .bulk([w
            .client
            .page(w.demo.pages[1])
            .assign(&su, [PageTask::Analyze])])
        .progress(w.sink.clone())
        .send()
        .await
        .unwrap();
    let audit = provision::AuditOptions::default()
        .store(w.store.clone())
        .token("admin", w.demo.admin_token.to_owned())
        .progress(w.sink.clone());
    provision::audit(&w.client, w.demo.business_id, &audit)
        .await
        .unwrap();
    let options = OffboardOptions::default()
        .store(w.store.clone())
        .progress(w.sink.clone());
    let offboarded = provision::offboard(&w.client, w.demo.business_id, su, &options)
        .await
        .unwrap();
    assert!(offboarded.is_complete(), "{offboarded}");
    let events = w.events.lock().unwrap().clone();
    let workflows: std::collections::BTreeSet<&str> = events
        .iter()
        .filter_map(|e| match e {
            Progress::Started { workflow, .. } => Some(workflow.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        workflows,
        ["apply", "audit", "bulk", "keeper", "offboard", "plan"].into()
    );
    let secrets = [
        w.demo.admin_token.to_owned(),
        w.demo.app_secret.to_owned(),
        first.secret().expose_secret().to_owned(),
        second.secret().expose_secret().to_owned(),
    ];
    for event in &events {
        for shown in [format!("{event}"), format!("{event:?}")] {
            for secret in &secrets {
                assert!(!shown.contains(secret.as_str()), "a secret in {shown}");
            }
        }
    }
    assert!(matches!(
        events[0],
        Progress::Started {
            workflow: Workflow::Plan,
            ..
        }
    ));
}

#[tokio::test]
async fn an_apply_that_stops_reports_the_failed_step_and_its_counts() {
    let w = world().await;
    // The second assignment is refused: apply stops there, the token is not minted.
    w.emulator.inject(
        FaultRule::new(Fault::graph(200))
            .on("POST", "/assigned_users")
            .after(1)
            .times(1),
    );
    let client = w
        .emulator
        .client_builder(w.demo.admin_token)
        .app_secret(w.demo.app_secret)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let options = PlanOptions::default()
        .store(w.store.clone())
        .progress(w.sink.clone());
    let plan = provision::plan(&client, &spec(&w.demo), &options)
        .await
        .unwrap();
    lines(&w.events);
    let report = plan.apply(&client).await;
    let (_, err) = report.failed.as_ref().unwrap();
    let page = w.demo.pages[0];
    let got = lines(&w.events);
    assert_eq!(got.len(), 10, "{got:#?}");
    assert_eq!(
        got[7..],
        [
            format!("apply [4/5] + assign Page {page} to \"progress-reporting\": ANALYZE"),
            format!(
                "apply [4/5] FAILED: + assign Page {page} to \"progress-reporting\": ANALYZE: {err}"
            ),
            "apply finished: 3 done, 1 failed".to_owned(),
        ]
    );
    assert!(w.store.keys().await.unwrap().is_empty());
}
