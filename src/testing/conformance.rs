//! The [`TokenStore`] contract as a test any store can run: [`store_conformance`].

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::sync::Arc;

use secrecy::ExposeSecret;

use crate::models::permissions::Permission;
use crate::store::{
    Conflict, Expect, Minted, Put, Removed, StoreError, StoredToken, TokenKey, TokenMeta,
    TokenStore, Version, Versioned,
};

/// How many tasks race in each race of the suite.
const RACERS: usize = 8;

/// Checks every rule of the [`TokenStore`] contract against a store, and panics naming the rule
/// a store breaks.
///
/// `make` returns a new handle on the **same** store each time it is called (a clone of a
/// [`MemoryStore`](crate::store::MemoryStore), [`FileStore::open`](crate::store::FileStore::open) of one
/// directory, a client of one server): the suite writes through one handle and reads through
/// another, and races several handles. Every key it touches belongs to a business id drawn at
/// random for the run, and it removes them at the end, so it can run against a shared server
/// beside other data and other runs. Run it on a multi-threaded runtime so that its races run in
/// parallel.
///
/// What it checks: reads of a missing key; `put` and `remove` with every [`Expect`] on a missing
/// and a present key, with the exact outcome ([`Put::Conflict`] naming the current version,
/// never a [`StoreError`]); that a `get` returns the version a `put` returned; that versions never
/// repeat for a key, a remove and a re-create included; that the token, its previous token and
/// its metadata are read as one while writers race; that of 8 tasks racing a `put` over one
/// version, or racing to create one key, or racing a `remove` of one version, exactly one
/// succeeds and the others see the winner's version; that every metadata field comes back as
/// written (a grace period's `previous_until` included); and that `keys` lists the keys in order.
///
/// ```
/// use meta_business::store::MemoryStore;
/// # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
/// # async fn main() {
/// let store = MemoryStore::new();
/// meta_business::testing::store_conformance(|| store.clone()).await;
/// # }
/// ```
///
/// # Panics
/// On the first rule the store breaks, or when the store fails (a [`StoreError`]), naming both.
pub async fn store_conformance<S, F>(make: F)
where
    S: TokenStore + 'static,
    F: Fn() -> S,
{
    let business = format!("9{:014}", fastrand::u64(..100_000_000_000_000));
    let suite = Suite {
        business,
        make: &make,
    };
    suite.missing_keys().await;
    suite.compare_and_set().await;
    suite.versions_never_repeat().await;
    suite.race_one_version().await;
    suite.race_to_create().await;
    suite.race_to_remove().await;
    suite.written_as_one().await;
    suite.metadata_kept().await;
    suite.listing().await;
    suite.clean_up().await;
}

struct Suite<'a, F> {
    business: String,
    make: &'a F,
}

/// The outcome of a store call, or a panic naming the rule and the store's error.
fn ok<T>(rule: &str, result: Result<T, StoreError>) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("store conformance, {rule}: the store failed: {e}"),
    }
}

fn expect_eq<T: PartialEq + Debug>(rule: &str, got: T, want: T) {
    assert!(
        got == want,
        "store conformance, {rule}: expected {want:?}, got {got:?}"
    );
}

fn written(rule: &str, put: Put) -> Version {
    match put {
        Put::Written(version) => version,
        other => panic!("store conformance, {rule}: expected a write, got {other:?}"),
    }
}

/// A token whose secret, previous secret and metadata all carry `tag`.
fn token(key: &TokenKey, tag: &str) -> StoredToken {
    StoredToken::new(
        key.clone(),
        format!("EAAB-conformance-{tag}"),
        TokenMeta::new([], Some(1_900_000_000), Minted::Imported).named(tag),
    )
    .with_previous(format!("EAAB-conformance-before-{tag}"))
}

/// The tag a read token carries, after checking that its three parts carry the same one.
fn tag_of(rule: &str, found: &Versioned) -> String {
    let secret = found.token.secret().expose_secret();
    let tag = secret
        .strip_prefix("EAAB-conformance-")
        .unwrap_or_else(|| panic!("store conformance, {rule}: a token the suite did not write"));
    let previous = found.token.previous().map(|p| p.expose_secret().to_owned());
    let name = found.token.meta.system_user_name.as_deref();
    assert!(
        previous.as_deref() == Some(&*format!("EAAB-conformance-before-{tag}"))
            && name == Some(tag),
        "store conformance, {rule}: token {tag:?} read with the previous token {previous:?} and \
         the metadata of {name:?}: parts of two writes"
    );
    tag.to_owned()
}

impl<S: TokenStore + 'static, F: Fn() -> S> Suite<'_, F> {
    fn key(&self, n: u32) -> TokenKey {
        TokenKey::new(
            self.business.as_str(),
            format!("61{n:013}"),
            "2000000000001",
        )
    }

    fn handle(&self) -> Arc<S> {
        Arc::new((self.make)())
    }

    async fn get(&self, rule: &str, key: &TokenKey) -> Option<Versioned> {
        ok(rule, self.handle().get(key).await)
    }

    async fn missing_keys(&self) {
        let (store, key) = (self.handle(), self.key(1));
        let rule = "a missing key";
        assert!(
            ok(rule, store.get(&key).await).is_none(),
            "store conformance, {rule}: get found a token"
        );
        let stale = Version::new(7);
        for (expect, want) in [
            (Expect::Any, Removed::Absent),
            (Expect::Absent, Removed::Absent),
            (
                Expect::Version(stale),
                Removed::Conflict(Conflict::new(None)),
            ),
        ] {
            let rule = format!("remove of a missing key, expecting {expect:?}");
            expect_eq(&rule, ok(&rule, store.remove(&key, expect).await), want);
        }
        let rule = "put over a version of a missing key";
        let put = ok(
            rule,
            store.put(token(&key, "x"), Expect::Version(stale)).await,
        );
        expect_eq(rule, put, Put::Conflict(Conflict::new(None)));
        assert!(
            self.get(rule, &key).await.is_none(),
            "store conformance, {rule}: the refused write was stored"
        );
    }

    async fn compare_and_set(&self) {
        let (store, key) = (self.handle(), self.key(2));
        let rule = "put expecting Absent of a missing key";
        let v1 = written(
            rule,
            ok(rule, store.put(token(&key, "a"), Expect::Absent).await),
        );
        let found = self.get(rule, &key).await;
        let found = found.unwrap_or_else(|| panic!("store conformance, {rule}: nothing read"));
        expect_eq("get after put (another handle)", found.version, v1);
        expect_eq(
            "get after put (another handle)",
            tag_of(rule, &found),
            "a".into(),
        );

        let rule = "put expecting Absent of a present key";
        let put = ok(rule, store.put(token(&key, "b"), Expect::Absent).await);
        expect_eq(rule, put, Put::Conflict(Conflict::new(Some(v1))));
        let rule = "put expecting the current version";
        let v2 = written(
            rule,
            ok(rule, store.put(token(&key, "c"), Expect::Version(v1)).await),
        );
        assert!(
            v2 != v1,
            "store conformance, {rule}: the version did not change"
        );
        let rule = "put expecting a stale version";
        let put = ok(rule, store.put(token(&key, "d"), Expect::Version(v1)).await);
        expect_eq(rule, put, Put::Conflict(Conflict::new(Some(v2))));
        let found = self
            .get(rule, &key)
            .await
            .map(|f| (f.version, tag_of(rule, &f)));
        expect_eq(
            "a refused put changes nothing",
            found,
            Some((v2, "c".into())),
        );
        let rule = "put expecting Any";
        let v3 = written(
            rule,
            ok(rule, store.put(token(&key, "e"), Expect::Any).await),
        );
        assert!(
            ![v1, v2].contains(&v3),
            "store conformance, {rule}: version reused"
        );
        expect_eq(
            rule,
            self.get(rule, &key).await.map(|f| f.version),
            Some(v3),
        );

        for (expect, rule) in [
            (Expect::Version(v2), "remove expecting a stale version"),
            (Expect::Absent, "remove expecting Absent of a present key"),
        ] {
            let removed = ok(rule, store.remove(&key, expect).await);
            expect_eq(rule, removed, Removed::Conflict(Conflict::new(Some(v3))));
        }
        expect_eq(
            "a refused remove changes nothing",
            self.get("", &key).await.map(|f| f.version),
            Some(v3),
        );
        let rule = "remove expecting the current version";
        expect_eq(
            rule,
            ok(rule, store.remove(&key, Expect::Version(v3)).await),
            Removed::Removed,
        );
        assert!(
            self.get(rule, &key).await.is_none(),
            "store conformance, {rule}: still there"
        );
        let rule = "remove expecting Any";
        let v4 = written(
            rule,
            ok(rule, store.put(token(&key, "f"), Expect::Any).await),
        );
        expect_eq(
            rule,
            ok(rule, store.remove(&key, Expect::Any).await),
            Removed::Removed,
        );
        assert!(
            self.get(rule, &key).await.is_none(),
            "store conformance, {rule}: still there"
        );
        assert!(
            ![v1, v2, v3].contains(&v4),
            "store conformance, {rule}: version reused"
        );
    }

    async fn versions_never_repeat(&self) {
        let (store, key) = (self.handle(), self.key(3));
        let rule = "versions never repeat for a key, across removes";
        let mut seen = BTreeSet::new();
        for round in 0..5 {
            let mut version = written(
                rule,
                ok(rule, store.put(token(&key, "n"), Expect::Absent).await),
            );
            for _ in 0..3 {
                assert!(
                    seen.insert(version),
                    "store conformance, {rule}: {version:?} came back (round {round})"
                );
                let put = ok(
                    rule,
                    store.put(token(&key, "n"), Expect::Version(version)).await,
                );
                version = written(rule, put);
            }
            assert!(
                seen.insert(version),
                "store conformance, {rule}: {version:?} came back (round {round})"
            );
            let expect = if round % 2 == 0 {
                Expect::Version(version)
            } else {
                Expect::Any
            };
            expect_eq(
                rule,
                ok(rule, store.remove(&key, expect).await),
                Removed::Removed,
            );
            // A version of before the remove never matches again.
            for old in &seen {
                let put = ok(
                    rule,
                    store.put(token(&key, "stale"), Expect::Version(*old)).await,
                );
                expect_eq(rule, put, Put::Conflict(Conflict::new(None)));
            }
        }
    }

    /// Runs `RACERS` tasks, each on its own handle, and returns their outcomes.
    async fn race<T, Fut>(&self, rule: &str, run: impl Fn(Arc<S>, usize) -> Fut) -> Vec<T>
    where
        T: Send + 'static,
        Fut: std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let tasks: Vec<_> = (0..RACERS)
            .map(|n| tokio::spawn(run(self.handle(), n)))
            .collect();
        let mut outcomes = Vec::with_capacity(RACERS);
        for task in tasks {
            match task.await {
                Ok(outcome) => outcomes.push(ok(rule, outcome)),
                Err(e) => panic!("store conformance, {rule}: a racing task panicked: {e}"),
            }
        }
        outcomes
    }

    /// Exactly one of `puts` wrote; the others conflict on its version. Returns the winner.
    fn one_winner(rule: &str, puts: &[Put]) -> (usize, Version) {
        let winners: Vec<(usize, Version)> = puts
            .iter()
            .enumerate()
            .filter_map(|(n, p)| match p {
                Put::Written(v) => Some((n, *v)),
                Put::Conflict(_) => None,
            })
            .collect();
        let [(winner, version)] = winners[..] else {
            panic!(
                "store conformance, {rule}: {} of {RACERS} racing writes won: {puts:?}",
                winners.len()
            );
        };
        for (n, put) in puts.iter().enumerate() {
            if n != winner {
                expect_eq(rule, *put, Put::Conflict(Conflict::new(Some(version))));
            }
        }
        (winner, version)
    }

    async fn race_one_version(&self) {
        let rule = "8 tasks racing a put over one version";
        let key = self.key(4);
        for round in 0..5 {
            let start = written(
                rule,
                ok(
                    rule,
                    self.handle().put(token(&key, "start"), Expect::Any).await,
                ),
            );
            let puts = self
                .race(rule, |store, n| {
                    let t = token(&key, &format!("r{round}-{n}"));
                    async move { store.put(t, Expect::Version(start)).await }
                })
                .await;
            let (winner, version) = Self::one_winner(rule, &puts);
            let found = self
                .get(rule, &key)
                .await
                .map(|f| (f.version, tag_of(rule, &f)));
            expect_eq(rule, found, Some((version, format!("r{round}-{winner}"))));
        }
    }

    async fn race_to_create(&self) {
        let rule = "8 tasks racing to create one key (Expect::Absent)";
        for round in 0..5 {
            let key = self.key(100 + round);
            let puts = self
                .race(rule, |store, n| {
                    let t = token(&key, &format!("c{round}-{n}"));
                    async move { store.put(t, Expect::Absent).await }
                })
                .await;
            let (winner, version) = Self::one_winner(rule, &puts);
            let found = self
                .get(rule, &key)
                .await
                .map(|f| (f.version, tag_of(rule, &f)));
            expect_eq(rule, found, Some((version, format!("c{round}-{winner}"))));
        }
    }

    async fn race_to_remove(&self) {
        let rule = "8 tasks racing to remove one version";
        let key = self.key(5);
        for _ in 0..5 {
            let v = written(
                rule,
                ok(
                    rule,
                    self.handle().put(token(&key, "rm"), Expect::Any).await,
                ),
            );
            let removes = self
                .race(rule, |store, _| {
                    let key = key.clone();
                    async move { store.remove(&key, Expect::Version(v)).await }
                })
                .await;
            let removed = removes.iter().filter(|r| **r == Removed::Removed).count();
            let lost = Removed::Conflict(Conflict::new(None));
            assert!(
                removed == 1 && removes.iter().all(|r| *r == Removed::Removed || *r == lost),
                "store conformance, {rule}: {removes:?}"
            );
            assert!(
                self.get(rule, &key).await.is_none(),
                "store conformance, {rule}: still there"
            );
        }
    }

    async fn written_as_one(&self) {
        let rule = "token, previous token and metadata read as one while writers race";
        let key = self.key(6);
        let _ = written(
            rule,
            ok(
                rule,
                self.handle().put(token(&key, "w-start"), Expect::Any).await,
            ),
        );
        let reads = self
            .race(rule, |store, n| {
                let key = key.clone();
                async move {
                    let mut tags = Vec::new();
                    for i in 0..25 {
                        if n % 2 == 0 {
                            let put = store
                                .put(token(&key, &format!("w{n}-{i}")), Expect::Any)
                                .await?;
                            let _ = written("a racing put expecting Any", put);
                        } else if let Some(found) = store.get(&key).await? {
                            tags.push(tag_of("a read while writers race", &found));
                        }
                        tokio::task::yield_now().await;
                    }
                    Ok::<_, StoreError>(tags)
                }
            })
            .await;
        assert!(
            reads.iter().flatten().count() > 0,
            "store conformance, {rule}: no read found a token"
        );
    }

    async fn metadata_kept(&self) {
        let rule = "every metadata field read back as written";
        let (store, key) = (self.handle(), self.key(9));
        let mut meta = TokenMeta::new(
            [Permission::AdsRead, Permission::BusinessManagement],
            Some(1_900_000_000),
            Minted::Refreshed,
        )
        .named("conformance-meta");
        meta.previous_until = Some(1_900_086_400);
        let written = StoredToken::new(key.clone(), "EAAB-conformance-meta", meta)
            .with_previous("EAAB-conformance-meta-before");
        let _ = self::written(
            rule,
            ok(rule, store.put(written.clone(), Expect::Absent).await),
        );
        let found = self
            .get(rule, &key)
            .await
            .unwrap_or_else(|| panic!("store conformance, {rule}: nothing stored"));
        expect_eq(rule, &found.token.meta, &written.meta);
        expect_eq(
            rule,
            found.token.previous().map(|p| p.expose_secret().to_owned()),
            Some("EAAB-conformance-meta-before".to_owned()),
        );
        let _ = ok(rule, store.remove(&key, Expect::Any).await);
    }

    async fn listing(&self) {
        let rule = "keys lists every stored key, in order";
        let store = self.handle();
        let keys: Vec<TokenKey> = (10..14).map(|n| self.key(n)).collect();
        for key in keys.iter().rev() {
            let _ = written(
                rule,
                ok(rule, store.put(token(key, "k"), Expect::Any).await),
            );
        }
        let listed = ok(rule, store.keys().await);
        let mut sorted = listed.clone();
        sorted.sort();
        expect_eq(rule, &listed, &sorted);
        let ours: Vec<&TokenKey> = listed.iter().filter(|k| keys.contains(k)).collect();
        expect_eq(rule, ours, keys.iter().collect::<Vec<_>>());
        let _ = ok(rule, store.remove(&keys[0], Expect::Any).await);
        let listed = ok(rule, store.keys().await);
        assert!(
            !listed.contains(&keys[0]),
            "store conformance, {rule}: a removed key is listed"
        );
    }

    async fn clean_up(&self) {
        let store = self.handle();
        let rule = "removing the suite's keys";
        for key in ok(rule, store.keys().await) {
            if key.business.as_str() == self.business {
                let _ = ok(rule, store.remove(&key, Expect::Any).await);
            }
        }
    }
}
