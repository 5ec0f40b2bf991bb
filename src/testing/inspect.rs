//! What a test reads back from the emulator: the requests it received, and the state its
//! calls left (system users, assignments, tokens).

use std::collections::BTreeMap;

use super::{EmulatedSystemUser, GraphEmulator, Recorded, lock, state};

impl GraphEmulator {
    /// Every HTTP request received so far, in order (a batch request counts once).
    ///
    /// Assert on what your own code sent:
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// use meta_business::testing::GraphEmulator;
    ///
    /// let (emulator, demo) = GraphEmulator::demo().await;
    /// let client = emulator.client(demo.admin_token)?;
    /// client.business(demo.business_id).system_users().create("svc").send().await?;
    ///
    /// let journal = emulator.requests();
    /// let create = journal
    ///     .iter()
    ///     .find(|r| r.method == "POST" && r.path.ends_with("/system_users"))
    ///     .expect("the create was sent");
    /// assert_eq!(create.params["name"], "svc");
    /// assert!(create.bearer && create.proof, "token in the header, proof attached");
    /// assert!(journal.iter().all(|r| !r.access_token_in_url));
    /// # Ok(()) }
    /// ```
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared.journal)
            .iter()
            .filter(|r| !r.in_batch)
            .cloned()
            .collect()
    }

    /// Every call received so far, in order, batch items included (each right after its
    /// batch request, with [`Recorded::in_batch`] set).
    ///
    /// ```
    /// use meta_business::AdAccountTask;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// emulator.clear_requests();
    /// let ops = demo.ad_accounts.iter().map(|a| client.ad_account(*a).assign(&su.id, [AdAccountTask::Analyze]));
    /// client.bulk(ops).send().await?;
    /// assert_eq!(emulator.requests().len(), 1); // one batch request
    /// assert_eq!(emulator.calls().iter().filter(|c| c.in_batch).count(), 2); // carrying two calls
    /// # Ok(()) }
    /// ```
    pub fn calls(&self) -> Vec<Recorded> {
        lock(&self.shared.journal).clone()
    }

    /// Forgets the requests received so far.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// client.business(demo.business_id).get().send().await?;
    /// emulator.clear_requests();
    /// assert!(emulator.requests().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn clear_requests(&self) {
        lock(&self.shared.journal).clear();
    }

    /// The most requests that were being answered at the same time, given the configured
    /// latency (each answer takes at least that long).
    ///
    /// ```
    /// use meta_business::AdAccountTask;
    /// use meta_business::bulk::BulkMode;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// let ops = demo.ad_accounts.iter().map(|a| client.ad_account(*a).assign(&su.id, [AdAccountTask::Analyze]));
    /// client.bulk(ops).mode(BulkMode::Concurrent).concurrency(2).send().await?;
    /// assert!(emulator.max_in_flight() <= 2);
    /// # Ok(()) }
    /// ```
    pub fn max_in_flight(&self) -> usize {
        let latency = self.shared.latency;
        let mut starts: Vec<std::time::Duration> = self.requests().iter().map(|r| r.at).collect();
        starts.sort();
        let mut max = 0;
        for (i, start) in starts.iter().enumerate() {
            let overlapping = starts[i..]
                .iter()
                .take_while(|s| **s < *start + latency)
                .count();
            max = max.max(overlapping);
        }
        max
    }

    /// The system users of a business.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// assert_eq!(emulator.system_users(demo.business_id).len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn system_users(&self, business: &str) -> Vec<EmulatedSystemUser> {
        let state = self.shared.state();
        let Some(biz) = state.businesses.get(business) else {
            return Vec::new();
        };
        biz.system_users
            .iter()
            .filter_map(|id| {
                state.system_users.get(id).map(|su| EmulatedSystemUser {
                    id: id.clone(),
                    name: su.name.clone(),
                    role: su.role.clone(),
                    installed_apps: su.installed_apps.iter().cloned().collect(),
                })
            })
            .collect()
    }

    /// Who is assigned to an asset, with which tasks.
    ///
    /// ```
    /// use meta_business::PageTask;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// client.page(demo.pages[0]).assign(&su.id, [PageTask::Analyze]).send().await?;
    /// assert_eq!(emulator.assignments(demo.pages[0])[su.id.as_str()], ["ANALYZE"]);
    /// # Ok(()) }
    /// ```
    pub fn assignments(&self, asset: &str) -> BTreeMap<String, Vec<String>> {
        self.shared
            .state()
            .assignments
            .get(asset)
            .cloned()
            .unwrap_or_default()
    }

    /// Whether a token is known, valid and unexpired.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// assert!(emulator.token_is_valid(demo.admin_token));
    /// assert!(!emulator.token_is_valid("EAAE-never-issued"));
    /// # Ok(()) }
    /// ```
    pub fn token_is_valid(&self, token: &str) -> bool {
        let state = self.shared.state();
        state
            .token(token)
            .is_some_and(|t| t.valid && !state.expired(&t.principal))
    }

    /// How many valid tokens of this system user exist, for any app, whoever holds them: what
    /// a test checks to show that no token was left behind (minted and never stored, or
    /// replaced and never revoked).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// # client.system_user(&su.id).install_app(demo.app_id).send().await?;
    /// # let mint = || client.system_user(&su.id).generate_token(demo.app_id).business(demo.business_id)
    /// #     .scopes([meta_business::Permission::AdsRead]).expires_in_60_days(true).send();
    /// mint().await?;
    /// mint().await?;
    /// assert_eq!(emulator.valid_tokens_of(su.id.as_str()), 2);
    /// client.system_user(&su.id).invalidate_tokens().send().await?;
    /// assert_eq!(emulator.valid_tokens_of(su.id.as_str()), 0);
    /// # Ok(()) }
    /// ```
    pub fn valid_tokens_of(&self, system_user: &str) -> usize {
        let state = self.shared.state();
        state
            .tokens
            .values()
            .filter(|t| t.valid && !state.expired(&t.principal))
            .filter(|t| matches!(&t.principal, state::Principal::SystemUser { id, .. } if id == system_user))
            .count()
    }
}
