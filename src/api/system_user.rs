//! One system user: read it, install apps and mint its tokens, list what it holds.

use crate::api::core::Core;
/// Fields of a system user's `assigned_*` edges: the node's id and name, and the edge's tasks.
use crate::api::system_users::NODE_FIELDS;
use crate::api::tokens::{Acknowledged, GenerateToken};
use crate::api::{Call, first_error};
use crate::client::Client;
use crate::error::Error;
use crate::ids::{AppId, SystemUserId};
use crate::kinds::AssetKind;
use crate::kinds::ad_account::AdAccountId;
use crate::kinds::ad_account::AdAccountTask;
use crate::kinds::business_asset_group::{BusinessAssetGroupId, BusinessAssetGroupTask};
use crate::kinds::catalog::CatalogId;
use crate::kinds::catalog::CatalogTask;
use crate::kinds::page::PageId;
use crate::kinds::page::PageTask;
use crate::kinds::whatsapp::WhatsAppBusinessAccountId;
use crate::kinds::whatsapp::WhatsAppTask;
use crate::models::assets::App;
use crate::models::assignment::AssignedAsset;
use crate::models::system_user::SystemUser;
use crate::pagination::ListRequest;
use crate::request::Request;

/// One system user, by its app-scoped id. Get one with [`Client::system_user`].
///
/// There is no delete: the Graph API cannot delete system users. Invalidate its tokens and
/// remove its assignments instead.
#[derive(Debug, Clone)]
pub struct SystemUserHandler {
    pub(crate) client: Client,
    pub(crate) id: SystemUserId,
}

impl SystemUserHandler {
    pub(crate) fn new(client: Client, id: SystemUserId) -> Self {
        SystemUserHandler { client, id }
    }

    /// The system user's id.
    ///
    /// ```
    /// use meta_business::Client;
    /// let client = Client::builder().access_token("EAAB...").build()?;
    /// assert_eq!(client.system_user("100000008899900").id().as_str(), "100000008899900");
    /// # Ok::<(), meta_business::Error>(())
    /// ```
    pub fn id(&self) -> &SystemUserId {
        &self.id
    }

    /// `GET /{system_user}`: the node's fields (`role` is not one of them; read it from the
    /// business's list). An answer about another node than this system user is an
    /// [`Error::UnexpectedResponse`](crate::Error::UnexpectedResponse).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// let created = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// let read = client.system_user(&created.id).get().send().await?;
    /// assert_eq!(read.name.as_deref(), Some("ads-reporting"));
    /// # Ok(()) }
    /// ```
    pub fn get(&self) -> Call<SystemUser> {
        let req = Request::get([self.id.as_str()]).static_param("fields", NODE_FIELDS);
        Call::new(self.client.clone(), req, self.id.validate().err())
            .about(self.id.as_str(), |su: &SystemUser| su.id.as_str())
    }

    // Apps and tokens.
    /// `POST /{system_user}/applications` with `business_app`: installs an app of the
    /// business for the system user, which token generation requires.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// client.system_user(&su.id).install_app(demo.app_id).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn install_app(&self, app: impl Into<AppId>) -> Acknowledged {
        let app = app.into();
        let req = Request::post([self.id.as_str(), "applications"])
            .param("business_app", app.as_str())
            .idempotent();
        Acknowledged::new(
            self.client.clone(),
            req,
            first_error([self.id.validate(), app.validate()]),
        )
    }

    /// Generates a token of the system user for an installed app. The call requires
    /// `appsecret_proof`, so the client must have the app secret.
    ///
    /// Which edge mints it: Meta has closed `POST /{system_user}/access_tokens` to apps that
    /// have not called it within the last 90 days, so a new app cannot use it. With
    /// [`GenerateToken::business`] set and `app` being the client's own app
    /// ([`ClientBuilder::app_id`](crate::ClientBuilder::app_id): the app of the token and app
    /// secret), the token is minted through `POST /{business}/system_user_access_tokens`,
    /// which mints for the caller's app and stays open. Otherwise (another app) the legacy
    /// edge is the only way; when Meta refuses it the error's hint is
    /// [`ErrorHint::LegacyTokenEdgeClosed`](crate::ErrorHint::LegacyTokenEdgeClosed).
    ///
    /// ```no_run
    /// use meta_business::Permission;
    /// # async fn run(client: meta_business::Client) -> meta_business::Result<()> {
    /// let token = client
    ///     .system_user("100000008899900")
    ///     .generate_token("1234567")
    ///     .business("1234567890")
    ///     .scopes([Permission::AdsRead, Permission::BusinessManagement])
    ///     .expires_in_60_days(true)
    ///     .send()
    ///     .await?;
    /// println!("token {}", token.masked());
    /// # Ok(()) }
    /// ```
    pub fn generate_token(&self, app: impl Into<AppId>) -> GenerateToken {
        GenerateToken {
            core: Core::new(self.client.clone()),
            system_user: self.id.clone(),
            app: app.into(),
            business: None,
            scopes: Vec::new(),
            expires_in_60_days: None,
        }
    }

    /// `DELETE /{system_user}/access_tokens`: invalidates every token of the system user.
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
    /// client.system_user(&su.id).invalidate_tokens().send().await?;
    /// assert!(!emulator.token_is_valid(token.secret().expose_secret()));
    /// # Ok(()) }
    /// ```
    pub fn invalidate_tokens(&self) -> Acknowledged {
        let req = Request::delete([self.id.as_str(), "access_tokens"]);
        Acknowledged::new(self.client.clone(), req, self.id.validate().err())
    }

    // What it holds.
    /// `GET /{system_user}/{edge}`: its assets of kind `K`, with its tasks on each, through
    /// the kind's system-user edge ([`AssetKind::SYSTEM_USER_EDGE`]).
    ///
    /// ```
    /// use meta_business::{CatalogTask, asset};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// client.catalog(demo.catalog).assign(&su.id, [CatalogTask::Manage]).send().await?;
    /// let held = client.system_user(&su.id).assigned::<asset::Catalog>().collect(100).await?;
    /// assert_eq!(held[0].tasks, [CatalogTask::Manage]);
    /// // Pixels have no such edge: refused before sending (read the pixel's assigned users).
    /// assert!(client.system_user(&su.id).assigned::<asset::Pixel>().send().await.is_err());
    /// # Ok(()) }
    /// ```
    pub fn assigned<K: AssetKind>(&self) -> ListRequest<AssignedAsset<K::Id, K::Task>> {
        let edge = K::SYSTEM_USER_EDGE.unwrap_or("assigned_users");
        let req = Request::get([self.id.as_str(), edge]).static_param("fields", K::HELD_FIELDS);
        let invalid = match K::SYSTEM_USER_EDGE {
            Some(_) => self.id.validate().err(),
            None => Some(Error::Unsupported {
                operation: "listing a system user's assets of this kind",
                reason: "the Graph API has no system-user edge for this kind; read each asset's assigned_users instead",
            }),
        };
        ListRequest::new(self.client.clone(), req, invalid)
    }

    /// `GET /{system_user}/assigned_ad_accounts`: its ad accounts, with its tasks on each.
    ///
    /// ```
    /// use meta_business::AdAccountTask;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// client.ad_account(demo.ad_accounts[0]).assign(&su.id, [AdAccountTask::Analyze]).send().await?;
    /// let assigned = client.system_user(&su.id).assigned_ad_accounts().collect(100).await?;
    /// assert_eq!(assigned[0].id.as_str(), demo.ad_accounts[0]);
    /// assert_eq!(assigned[0].tasks, [AdAccountTask::Analyze]);
    /// # Ok(()) }
    /// ```
    pub fn assigned_ad_accounts(&self) -> ListRequest<AssignedAsset<AdAccountId, AdAccountTask>> {
        self.assigned::<crate::kinds::AdAccount>()
    }

    /// `GET /{system_user}/assigned_pages`: its Pages, with its tasks on each.
    ///
    /// ```
    /// use meta_business::PageTask;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// client.page(demo.pages[1]).assign(&su.id, [PageTask::Analyze]).send().await?;
    /// let pages = client.system_user(&su.id).assigned_pages().collect(100).await?;
    /// assert_eq!(pages[0].id.as_str(), demo.pages[1]);
    /// # Ok(()) }
    /// ```
    pub fn assigned_pages(&self) -> ListRequest<AssignedAsset<PageId, PageTask>> {
        self.assigned::<crate::kinds::Page>()
    }

    /// `GET /{system_user}/assigned_product_catalogs`: its catalogs, with its tasks on each.
    ///
    /// ```
    /// use meta_business::CatalogTask;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// client.catalog(demo.catalog).assign(&su.id, [CatalogTask::Manage]).send().await?;
    /// let catalogs = client.system_user(&su.id).assigned_product_catalogs().collect(100).await?;
    /// assert_eq!(catalogs[0].tasks, [CatalogTask::Manage]);
    /// # Ok(()) }
    /// ```
    pub fn assigned_product_catalogs(&self) -> ListRequest<AssignedAsset<CatalogId, CatalogTask>> {
        self.assigned::<crate::kinds::Catalog>()
    }

    /// `GET /{system_user}/assigned_whatsapp_business_accounts`: its WhatsApp accounts, with its
    /// tasks on each.
    ///
    /// ```
    /// use meta_business::WhatsAppTask;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// client.whatsapp_business_account(demo.whatsapp).assign(&su.id, [WhatsAppTask::Develop]).send().await?;
    /// let wabas = client.system_user(&su.id).assigned_whatsapp_business_accounts().collect(100).await?;
    /// assert_eq!(wabas[0].id.as_str(), demo.whatsapp);
    /// # Ok(()) }
    /// ```
    pub fn assigned_whatsapp_business_accounts(
        &self,
    ) -> ListRequest<AssignedAsset<WhatsAppBusinessAccountId, WhatsAppTask>> {
        self.assigned::<crate::kinds::WhatsApp>()
    }

    /// `GET /{system_user}/assigned_applications`: the apps installed for it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// client.system_user(&su.id).install_app(demo.app_id).send().await?;
    /// let apps = client.system_user(&su.id).assigned_applications().collect(100).await?;
    /// assert_eq!(apps[0].id.as_str(), demo.app_id);
    /// # Ok(()) }
    /// ```
    pub fn assigned_applications(&self) -> ListRequest<App> {
        self.named_list("assigned_applications")
    }

    /// `GET /{system_user}/assigned_business_asset_groups`: its business asset groups, with
    /// its tasks on each (read from the group's per-asset-type lists).
    ///
    /// ```
    /// use meta_business::BusinessAssetGroupTask;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// client
    ///     .asset::<meta_business::asset::BusinessAssetGroup>(demo.business_asset_group)
    ///     .assign(&su.id, [BusinessAssetGroupTask::PageAnalyze])
    ///     .send()
    ///     .await?;
    /// let groups = client.system_user(&su.id).assigned_business_asset_groups().collect(100).await?;
    /// assert_eq!(groups[0].tasks, [BusinessAssetGroupTask::PageAnalyze]);
    /// # Ok(()) }
    /// ```
    pub fn assigned_business_asset_groups(
        &self,
    ) -> ListRequest<AssignedAsset<BusinessAssetGroupId, BusinessAssetGroupTask>> {
        self.assigned::<crate::kinds::BusinessAssetGroup>()
    }

    /// A list edge of this system user, read with `id,name`.
    fn named_list<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        edge: &'static str,
    ) -> ListRequest<T> {
        ListRequest::edge(&self.client, &self.id, edge, "id,name")
    }
}
