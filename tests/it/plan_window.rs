//! A plan reads the business's system users, then the store. A replica that creates the user
//! and stores its token between those two reads of another replica's plan must keep its
//! token: applying that plan finds the user, and its token write expects the key empty (the
//! plan decided nothing about a token of a user it did not list), so it loses the race.

use std::sync::Arc;
use std::time::Duration;

use meta_business::provision::{self, PlanOptions, Spec, SystemUserBuilder};
use meta_business::testing::{Fault, FaultRule, GraphEmulator};
use meta_business::{
    AccessTier, AdAccountTask, ExposeSecret, Permission,
    store::{MemoryStore, TokenKey, TokenStore},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_that_listed_no_user_never_overwrites_the_token_stored_since_by_another_replica() {
    let (emulator, demo) = GraphEmulator::demo().await;
    emulator.set_access_tier(demo.business_id, AccessTier::Full);
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let spec = Spec::builder(demo.business_id)
        .system_user(
            SystemUserBuilder::new("ads-reporting-server")
                .app(demo.app_id)
                .ad_account(demo.ad_accounts[0], [AdAccountTask::Analyze])
                .token(demo.app_id, [Permission::AdsRead]),
        )
        .build()
        .unwrap();
    let options = PlanOptions::default().store(store.clone());
    let client = emulator.client(demo.admin_token).unwrap();

    // The late replica's list of system users is answered (empty) 1.5 s after it is read.
    emulator.inject(
        FaultRule::new(Fault::Delay(Duration::from_millis(1500)))
            .on("GET", "/system_users")
            .times(1),
    );
    let late = {
        let (client, spec, options) = (client.clone(), spec.clone(), options.clone());
        tokio::spawn(async move { provision::plan(&client, &spec, &options).await })
    };
    while !emulator
        .requests()
        .iter()
        .any(|r| r.method == "GET" && r.path.ends_with("/system_users"))
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Meanwhile the first replica plans and applies: it creates the user and stores a token.
    let first = provision::plan(&client, &spec, &options).await.unwrap();
    let first = first.apply(&client).await;
    assert!(first.is_complete(), "{first}");
    assert!(
        !late.is_finished(),
        "the late plan's window closed too early"
    );
    let won = first.tokens[0].1.secret().expose_secret().to_owned();

    let late = late.await.unwrap().unwrap();
    assert!(
        late.to_string().contains("create system user"),
        "the late plan listed no user: {late}"
    );
    let report = late.apply(&client).await;

    let users = emulator.system_users(demo.business_id);
    assert_eq!(users.len(), 1, "{report}");
    let key = TokenKey::new(demo.business_id, users[0].id.as_str(), demo.app_id);
    let stored = store.get(&key).await.unwrap().unwrap();
    assert_eq!(stored.token.secret().expose_secret(), won, "{report}");
    assert!(emulator.token_is_valid(&won));
    assert_eq!(
        emulator.valid_tokens_of(users[0].id.as_str()),
        1,
        "one valid token, the stored one: {report}"
    );
    assert!(report.is_complete(), "{report}");
    assert!(report.tokens.is_empty(), "{report}");
    assert_eq!(report.lost_races, ["ads-reporting-server"], "{report}");
    assert!(report.orphan_risk.is_empty(), "{report}");
}
