//! Every entry point of the crate, in one place: the methods of [`Client`] that start a call
//! or give a handler. The handlers' own methods live with each handler (`api/`), the
//! workflows in `provision/` and `preflight/`.
//!
//! | for | entry point |
//! |---|---|
//! | a business, its system users and assets | [`Client::business`], [`Client::businesses`] |
//! | one system user (tokens, apps, its assets) | [`Client::system_user`] |
//! | one asset, by kind | [`Client::asset`], [`Client::ad_account`], [`Client::page`], [`Client::catalog`], [`Client::pixel`], [`Client::instagram_asset`], [`Client::whatsapp_business_account`] |
//! | tokens as the app | [`Client::as_app`], [`Client::debug_token`], [`Client::refresh_token`], [`Client::revoke_token`] |
//! | many calls at once | [`Client::bulk`], [`Client::batch`] |
//! | acting for a client business | [`Client::on_behalf_of`] |
//! | anything else | [`Client::get`], [`Client::post`], [`Client::delete`] |
//!
//! Workflows that are not one call: [`BusinessHandler::preflight`],
//! [`provision::plan`](crate::provision::plan), [`Plan::apply`](crate::provision::Plan::apply),
//! [`provision::audit`](crate::provision::audit), [`provision::offboard`](crate::provision::offboard).

use secrecy::SecretString;
use serde::de::DeserializeOwned;

use crate::api::assignments::AssetHandler;
use crate::api::business::BusinessHandler;
use crate::api::businesses::BusinessesHandler;
use crate::api::core::Core;
use crate::api::system_user::SystemUserHandler;
use crate::api::tokens::{AppTokenCall, DebugToken, RefreshToken, RevokeToken};
use crate::batch::{BatchItem, BatchRequest};
use crate::bulk::{BulkMode, BulkOp, BulkRequest};
use crate::client::Client;
use crate::error::Result;
use crate::ids::{AppId, BusinessId, SystemUserId};
use crate::kinds::ad_account::AdAccountId;
use crate::kinds::business_asset_group::BusinessAssetGroupId;
use crate::kinds::catalog::CatalogId;
use crate::kinds::instagram::InstagramAssetId;
use crate::kinds::page::PageId;
use crate::kinds::pixel::PixelId;
use crate::kinds::whatsapp::WhatsAppBusinessAccountId;
use crate::kinds::{self, AssetKind};
use crate::obo::OnBehalfOf;
use crate::request::Request;

impl Client {
    // Resources.

    /// The business with this id.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// let business = client.business(demo.business_id);
    /// let quota = business.system_user_quota().send().await?;
    /// println!("{quota}");
    /// # Ok(()) }
    /// ```
    pub fn business(&self, id: impl Into<BusinessId>) -> BusinessHandler {
        BusinessHandler::new(self.clone(), id.into())
    }

    /// The businesses of the token's user (`/me/businesses`): list them, create one.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// let mine = client.businesses().list().collect(100).await?;
    /// assert_eq!(mine.len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn businesses(&self) -> BusinessesHandler {
        BusinessesHandler::new(self.clone())
    }

    /// The system user with this app-scoped id.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// let handler = client.system_user(&su.id);
    /// handler.install_app(demo.app_id).send().await?;
    /// assert_eq!(handler.get().send().await?.name.as_deref(), Some("ads-reporting"));
    /// # Ok(()) }
    /// ```
    pub fn system_user(&self, id: impl Into<SystemUserId>) -> SystemUserHandler {
        SystemUserHandler::new(self.clone(), id.into())
    }

    // Assets, by kind.
    /// The asset of kind `K` with this id; [`Client::ad_account`], [`Client::page`] and the
    /// others are this for one kind each.
    ///
    /// ```
    /// use meta_business::{PixelTask, asset};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// client.asset::<asset::Pixel>(demo.pixel).assign(&su.id, [PixelTask::Analyze]).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn asset<K: AssetKind>(&self, id: impl Into<K::Id>) -> AssetHandler<K> {
        AssetHandler::new(self.clone(), id.into())
    }

    /// The ad account with this id (`act_<digits>` or bare digits).
    ///
    /// ```
    /// use meta_business::AdAccountTask;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// client.ad_account(demo.ad_accounts[0]).assign(&su.id, [AdAccountTask::Analyze]).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn ad_account(&self, id: impl Into<AdAccountId>) -> AssetHandler<kinds::AdAccount> {
        self.asset(id)
    }

    /// The Page with this id.
    ///
    /// ```
    /// use meta_business::PageTask;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// client.page(demo.pages[0]).assign(&su.id, [PageTask::Analyze, PageTask::Advertise]).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn page(&self, id: impl Into<PageId>) -> AssetHandler<kinds::Page> {
        self.asset(id)
    }

    /// The product catalog with this id.
    ///
    /// ```
    /// use meta_business::CatalogTask;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// client.catalog(demo.catalog).assign(&su.id, [CatalogTask::Manage]).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn catalog(&self, id: impl Into<CatalogId>) -> AssetHandler<kinds::Catalog> {
        self.asset(id)
    }

    /// The pixel / dataset with this id.
    ///
    /// ```
    /// use meta_business::PixelTask;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// client.pixel(demo.pixel).assign(&su.id, [PixelTask::Analyze]).send().await?;
    /// // The Graph API cannot remove a pixel assignment: refused before anything is sent.
    /// let err = client.pixel(demo.pixel).unassign(&su.id).send().await.unwrap_err();
    /// assert!(matches!(err, meta_business::Error::Unsupported { .. }));
    /// # Ok(()) }
    /// ```
    pub fn pixel(&self, id: impl Into<PixelId>) -> AssetHandler<kinds::Pixel> {
        self.asset(id)
    }

    /// The Instagram business asset with this id.
    ///
    /// ```
    /// use meta_business::InstagramTask;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// client.instagram_asset(demo.instagram).assign(&su.id, [InstagramTask::Content]).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn instagram_asset(
        &self,
        id: impl Into<InstagramAssetId>,
    ) -> AssetHandler<kinds::Instagram> {
        self.asset(id)
    }

    /// The WhatsApp Business Account with this id.
    ///
    /// ```
    /// use meta_business::WhatsAppTask;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// client.whatsapp_business_account(demo.whatsapp).assign(&su.id, [WhatsAppTask::Manage]).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn whatsapp_business_account(
        &self,
        id: impl Into<WhatsAppBusinessAccountId>,
    ) -> AssetHandler<kinds::WhatsApp> {
        self.asset(id)
    }

    /// The business asset group with this id; its tasks travel in one list per asset type.
    ///
    /// ```
    /// use meta_business::BusinessAssetGroupTask;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// client
    ///     .business_asset_group(demo.business_asset_group)
    ///     .assign(&su.id, [BusinessAssetGroupTask::PageAnalyze])
    ///     .send()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn business_asset_group(
        &self,
        id: impl Into<BusinessAssetGroupId>,
    ) -> AssetHandler<kinds::BusinessAssetGroup> {
        self.asset(id)
    }

    // Tokens, as the app.
    /// A clone of this client that calls as the app (`{app_id}|{app_secret}`), the token
    /// `debug_token` expects.
    ///
    /// ```
    /// use meta_business::{Client, Error};
    /// // The app token is `{app id}|{app secret}`: without the secret there is none.
    /// let no_secret = Client::builder().access_token("EAAB...").build()?;
    /// assert!(matches!(no_secret.as_app("2000000000001"), Err(Error::InvalidInput { .. })));
    /// let with_secret = Client::builder().access_token("EAAB...").app_secret("s3cr3t").build()?;
    /// let as_app = with_secret.as_app("2000000000001")?;
    /// # let _ = as_app;
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) for a bad app id, or without the
    /// app's secret (see [`ClientBuilder::app_secret_for`](crate::ClientBuilder::app_secret_for)).
    pub fn as_app(&self, app: impl Into<AppId>) -> Result<Client> {
        let app = app.into();
        app.validate()?;
        let secret = self
            .app_secret_of(&app)
            .ok_or_else(|| self.no_secret_for(&app, "an app access token"))?;
        let mut as_app = self.with_token(crate::auth::app_access_token(app.as_str(), secret));
        // The proof of an app token is made with that app's secret, not the client's own.
        as_app.proof_secret = Some(std::sync::Arc::new(secret.clone()));
        Ok(as_app)
    }

    /// `GET /debug_token?input_token=`: what the Graph API says about a token (type, app,
    /// validity, expiry, scopes). Call it as the app ([`Client::as_app`]) or as a developer of
    /// the app.
    ///
    /// ```
    /// use meta_business::{ExposeSecret, Permission};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// # client.system_user(&su.id).install_app(demo.app_id).send().await?;
    /// # let token = client.system_user(&su.id).generate_token(demo.app_id).business(demo.business_id)
    /// #     .scopes([meta_business::Permission::AdsRead]).expires_in_60_days(true).send().await?;
    /// let info = client.as_app(demo.app_id)?.debug_token(token.secret().clone()).send().await?;
    /// assert_eq!(info.is_valid, Some(true));
    /// assert!(info.is_system_user() && info.has_scope(&Permission::AdsRead));
    /// # Ok(()) }
    /// ```
    pub fn debug_token(&self, token: impl Into<SecretString>) -> DebugToken {
        DebugToken {
            core: Core::new(self.clone()),
            token: token.into(),
        }
    }

    /// `GET /oauth/access_token` with `grant_type=fb_exchange_token`: exchanges a 60-day
    /// system-user token for a fresh one (the old one keeps working until it expires). Needs
    /// the app secret (`client_secret`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// # client.system_user(&su.id).install_app(demo.app_id).send().await?;
    /// # let token = client.system_user(&su.id).generate_token(demo.app_id).business(demo.business_id)
    /// #     .scopes([meta_business::Permission::AdsRead]).expires_in_60_days(true).send().await?;
    /// let fresh = client.refresh_token(demo.app_id, token.secret().clone()).send().await?;
    /// println!("new token {}, valid for {:?}", fresh.masked(), fresh.expires_in());
    /// # Ok(()) }
    /// ```
    pub fn refresh_token(
        &self,
        app: impl Into<AppId>,
        token: impl Into<SecretString>,
    ) -> RefreshToken {
        RefreshToken {
            call: AppTokenCall::new(self, app.into(), token.into()),
        }
    }

    /// `GET /oauth/revoke`: revokes one token at once. The app, the token's app, the caller
    /// token's app and the app secret must all match. Needs the app secret (`client_secret`).
    ///
    /// ```
    /// use meta_business::ExposeSecret;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// # client.system_user(&su.id).install_app(demo.app_id).send().await?;
    /// # let token = client.system_user(&su.id).generate_token(demo.app_id).business(demo.business_id)
    /// #     .scopes([meta_business::Permission::AdsRead]).expires_in_60_days(true).send().await?;
    /// client.revoke_token(demo.app_id, token.secret().clone()).send().await?;
    /// assert!(!emulator.token_is_valid(token.secret().expose_secret()));
    /// # Ok(()) }
    /// ```
    pub fn revoke_token(
        &self,
        app: impl Into<AppId>,
        token: impl Into<SecretString>,
    ) -> RevokeToken {
        RevokeToken {
            call: AppTokenCall::new(self, app.into(), token.into()),
        }
    }

    // Many calls at once.
    /// Many assign / unassign operations in one call. Each is checked before anything is sent;
    /// the mode chooses the transport (batches of 50 by default, as many in flight as the usage
    /// headers allow: [`Concurrency::Adaptive`](crate::bulk::Concurrency::Adaptive)).
    ///
    /// ```no_run
    /// use meta_business::AdAccountTask;
    /// use meta_business::bulk::BulkMode;
    /// # async fn run(client: meta_business::Client) -> meta_business::Result<()> {
    /// let su = "100000008899900";
    /// let ops = (1..=500).map(|n| client.ad_account(n as u64).assign(su, [AdAccountTask::Analyze]));
    /// let results = client.bulk(ops).mode(BulkMode::Batch).concurrency(4).send().await?;
    /// let failed = results.iter().filter(|r| r.is_err()).count();
    /// println!("{} assigned, {failed} failed", results.len() - failed);
    /// # Ok(()) }
    /// ```
    pub fn bulk(&self, ops: impl IntoIterator<Item = impl Into<BulkOp>>) -> BulkRequest {
        BulkRequest {
            core: Core::new(self.clone()),
            ops: ops.into_iter().map(Into::into).collect(),
            mode: BulkMode::default(),
            concurrency: crate::bulk::Concurrency::default(),
            progress: None,
        }
    }
    /// Sends many calls in batch requests of at most 50 (as many in flight as the usage headers
    /// allow, by default).
    ///
    /// ```no_run
    /// use meta_business::bulk::BatchItem;
    /// # async fn run(client: meta_business::Client) -> meta_business::Result<()> {
    /// let items = vec![
    ///     BatchItem::get("1234/system_users", &[("fields", "id,name")])?,
    ///     BatchItem::get("1234/owned_pages", &[("fields", "id,name")])?,
    /// ];
    /// for result in client.batch(items).send().await {
    ///     match result {
    ///         Ok(answer) => println!("{} {}", answer.status, answer.body),
    ///         Err(err) => eprintln!("{err}"),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn batch(&self, items: impl IntoIterator<Item = BatchItem>) -> BatchRequest {
        BatchRequest {
            core: Core::new(self.clone()),
            items: items.into_iter().collect(),
            concurrency: crate::bulk::Concurrency::default(),
            include_headers: false,
        }
    }

    // Business On Behalf Of.
    /// Business On Behalf Of between a partner business (which owns the app) and a client
    /// business. The client's own token is not used by these calls; each step takes the
    /// token it needs.
    pub fn on_behalf_of(
        &self,
        partner: impl Into<BusinessId>,
        client_business: impl Into<BusinessId>,
    ) -> OnBehalfOf {
        OnBehalfOf {
            client: self.clone(),
            partner: partner.into(),
            client_business: client_business.into(),
        }
    }

    // The raw escape hatch: any path, with the client's auth, retries and error mapping.

    /// `GET /{path}` with the client's auth, proof and error mapping, decoded into any type:
    /// the escape hatch for edges this crate does not wrap.
    ///
    /// `path` is relative to the version (`"me/businesses"`); `access_token`,
    /// `appsecret_proof` and `appsecret_time` are added by the client and rejected here.
    ///
    /// ```no_run
    /// # async fn run(client: meta_business::Client) -> meta_business::Result<()> {
    /// let me: serde_json::Value = client.get("me", &[("fields", "id,name")]).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput)(crate::Error::InvalidInput) for a bad path or a reserved parameter, before sending;
    /// otherwise as any request.
    pub async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, &str)]) -> Result<T> {
        let req = Request::raw(reqwest::Method::GET, path, query)?;
        self.send_raw(req).await
    }

    /// `POST /{path}` with form parameters; see [`Client::get`].
    ///
    /// ```no_run
    /// # async fn run(client: meta_business::Client) -> meta_business::Result<()> {
    /// let answer: serde_json::Value = client
    ///     .post("1000000000001/system_users", &[("name", "crm-sync-eu"), ("role", "EMPLOYEE")])
    ///     .await?;
    /// println!("{answer}");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`Client::get`].
    pub async fn post<T: DeserializeOwned>(&self, path: &str, form: &[(&str, &str)]) -> Result<T> {
        let req = Request::raw(reqwest::Method::POST, path, form)?;
        self.send_raw(req).await
    }

    /// `DELETE /{path}` with query parameters; see [`Client::get`].
    ///
    /// ```no_run
    /// # async fn run(client: meta_business::Client) -> meta_business::Result<()> {
    /// let answer: serde_json::Value = client
    ///     .delete("4000000000001/assigned_users", &[("user", "100000008899900")])
    ///     .await?;
    /// assert_eq!(answer["success"], true);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`Client::get`].
    pub async fn delete<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T> {
        let req = Request::raw(reqwest::Method::DELETE, path, query)?;
        self.send_raw(req).await
    }

    /// The escape hatch's request, sent through the one send as a builder's is; what it does
    /// is what its method says (a POST is taken to create, and not sent again).
    async fn send_raw<T: DeserializeOwned>(&self, req: Request) -> Result<T> {
        let core = crate::api::core::Core::new(self.clone());
        crate::api::exchange::send(crate::api::exchange::Prepared::new(core, req)).await
    }
}
