//! Builders are order-independent: for every builder with setters that touch the same
//! setting, both orders give the same result (the one the docs promise).

use std::time::Duration;

use meta_business::provision::{Spec, SystemUserBuilder};
use meta_business::testing::GraphEmulator;
use meta_business::{
    AccessTier, AdAccountTask, Client, Error, ExposeSecret, Permission, QuotaPolicy,
    SystemUserQuota,
    keeper::TokenKeeper,
    store::{Expect, MemoryStore, Minted, Put, StoredToken, TokenKey, TokenMeta, TokenStore},
};

const DAY: u64 = 86_400;

fn spec_of(user: SystemUserBuilder) -> Spec {
    Spec::builder("1000000000001")
        .system_user(user)
        .build()
        .unwrap()
}

#[test]
fn system_user_builder_token_never_expires_before_or_after_token() {
    let base = || {
        SystemUserBuilder::new("catalog-feed-uploader")
            .app("2000000000001")
            .ad_account("act_3000000000001", [AdAccountTask::Analyze])
    };
    let before = spec_of(
        base()
            .token_never_expires()
            .token("2000000000001", [Permission::AdsRead]),
    );
    let after = spec_of(
        base()
            .token("2000000000001", [Permission::AdsRead])
            .token_never_expires(),
    );
    assert_eq!(before, after);
    let token = before.system_users[0].token.as_ref().unwrap();
    assert!(!token.expires_in_60_days, "the token must not expire");
    // And without the call, the token expires (the default the docs state).
    let default = spec_of(base().token("2000000000001", [Permission::AdsRead]));
    assert!(
        default.system_users[0]
            .token
            .as_ref()
            .unwrap()
            .expires_in_60_days
    );
}

fn policy(
    configure: impl FnOnce(meta_business::ClientBuilder) -> meta_business::ClientBuilder,
) -> QuotaPolicy {
    configure(Client::builder().access_token("EAAB-builder-order-0123456789"))
        .build()
        .unwrap()
        .quota_policy()
}

#[test]
fn client_builder_quota_setters_in_either_order() {
    let custom = SystemUserQuota {
        admin: 1,
        regular: 20,
    };
    // A custom quota replaces the tier's, whichever is called first.
    let tier_first = policy(|b| b.access_tier(AccessTier::Full).system_user_quota(custom));
    let custom_first = policy(|b| b.system_user_quota(custom).access_tier(AccessTier::Full));
    assert_eq!(tier_first, custom_first);
    assert_eq!(tier_first, QuotaPolicy::Custom(custom));
    // Turning the check off wins over both, whichever is called first.
    let off_last = policy(|b| {
        b.access_tier(AccessTier::Full)
            .system_user_quota(custom)
            .disable_quota_check()
    });
    let off_first = policy(|b| {
        b.disable_quota_check()
            .system_user_quota(custom)
            .access_tier(AccessTier::Full)
    });
    assert_eq!(off_last, off_first);
    assert_eq!(off_last, QuotaPolicy::Disabled);
    // Alone, each still does what it says.
    assert_eq!(
        policy(|b| b.access_tier(AccessTier::Full)),
        QuotaPolicy::Tier(AccessTier::Full)
    );
}

#[cfg(feature = "vault")]
#[test]
fn vault_builder_refuses_a_token_and_an_approle_in_either_order() {
    use meta_business::store::VaultStore;
    let token_first = VaultStore::builder("http://127.0.0.1:8200")
        .token("hvs.vault-token-0123456789")
        .approle("role-id", "secret-id")
        .build();
    let approle_first = VaultStore::builder("http://127.0.0.1:8200")
        .approle("role-id", "secret-id")
        .token("hvs.vault-token-0123456789")
        .build();
    for built in [token_first, approle_first] {
        match built {
            Err(Error::InvalidInput { field, reason }) => {
                assert_eq!(field, "auth");
                assert!(reason.contains("not both"), "{reason}");
            }
            other => panic!("expected an invalid input, got {other:?}"),
        }
    }
}

/// A keeper pass on a 60-day token 50 days old, with the keeper `configure` gives: what the
/// report says of the old token, and whether the old token is still valid after it.
async fn keeper_pass(
    configure: impl FnOnce(TokenKeeper<MemoryStore>) -> TokenKeeper<MemoryStore>,
) -> (Option<String>, bool) {
    let (emulator, demo) = GraphEmulator::demo().await;
    let client = emulator.client(demo.admin_token).unwrap();
    let su = client
        .business(demo.business_id)
        .system_users()
        .create("keeper-order")
        .send()
        .await
        .unwrap();
    client
        .system_user(&su.id)
        .install_app(demo.app_id)
        .send()
        .await
        .unwrap();
    let minted = client
        .system_user(&su.id)
        .generate_token(demo.app_id)
        .business(demo.business_id)
        .scopes([Permission::AdsRead])
        .expires_in_60_days(true)
        .send()
        .await
        .unwrap();
    let old = minted.secret().expose_secret().to_owned();
    let store = MemoryStore::new();
    let key = TokenKey::new(demo.business_id, su.id.clone(), demo.app_id);
    let put = store
        .put(
            StoredToken::new(
                key,
                old.clone(),
                TokenMeta::new([Permission::AdsRead], None, Minted::Generated),
            ),
            Expect::Absent,
        )
        .await
        .unwrap();
    assert!(matches!(put, Put::Written(_)));
    emulator.advance_clock(Duration::from_secs(50 * DAY));
    let keeper = configure(TokenKeeper::new(client, store).clock(emulator.clock_source()));
    let report = keeper.run_once().await;
    assert!(report.tokens[0].refreshed, "{report}");
    (
        report.tokens[0].warning.clone(),
        emulator.token_is_valid(&old),
    )
}

#[tokio::test]
async fn keeper_keep_old_tokens_wins_over_a_grace_period_in_either_order() {
    let keep_first = keeper_pass(|k| {
        k.keep_old_tokens()
            .keep_old_tokens_for(Duration::from_secs(DAY))
    })
    .await;
    let grace_first = keeper_pass(|k| {
        k.keep_old_tokens_for(Duration::from_secs(DAY))
            .keep_old_tokens()
    })
    .await;
    assert_eq!(keep_first, grace_first);
    assert_eq!(
        keep_first,
        (
            Some("the old token was kept (keep_old_tokens)".to_owned()),
            true
        )
    );
}
