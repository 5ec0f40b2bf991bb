//! A business: read it, list and claim its assets, reach its system users.

use crate::api::core::Core;
use crate::api::system_users::{QuotaRequest, SystemUsersHandler};
use crate::api::tokens::BusinessSystemUserToken;
use crate::api::{Call, first_error};
use crate::client::Client;
use crate::ids::{AppId, BusinessId, NodeId, SystemUserId};
use crate::kinds::ad_account::AdAccountId;
use crate::kinds::page::PageId;
use crate::models::assets::{
    AdAccount, App, BusinessAssetGroup, ClaimResult, FacebookPage, InstagramAsset, NAMED_FIELDS,
    Pixel, ProductCatalog, WhatsAppBusinessAccount,
};
use crate::models::business::{Business, BusinessField};
use crate::pagination::ListRequest;
use crate::preflight::PreflightRequest;
use crate::request::Request;

/// Fields read by default: the documented fields that describe the business itself.
pub(crate) const BUSINESS_FIELDS: &str =
    "id,name,vertical,verification_status,two_factor_type,timezone_id,created_time,link";

/// A business, by id. Get one with [`Client::business`].
#[derive(Debug, Clone)]
pub struct BusinessHandler {
    client: Client,
    id: BusinessId,
}

impl BusinessHandler {
    pub(crate) fn new(client: Client, id: BusinessId) -> Self {
        BusinessHandler { client, id }
    }

    /// The business id.
    ///
    /// ```
    /// use meta_business::Client;
    /// let client = Client::builder().access_token("EAAB...").build()?;
    /// assert_eq!(client.business("1000000000001").id().as_str(), "1000000000001");
    /// # Ok::<(), meta_business::Error>(())
    /// ```
    pub fn id(&self) -> &BusinessId {
        &self.id
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// `GET /{business}`: the business, with its descriptive fields (choose others with
    /// [`Call::fields`]). An answer about another node than this business is an
    /// [`Error::UnexpectedResponse`](crate::Error::UnexpectedResponse).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// let business = client.business(demo.business_id).get().send().await?;
    /// assert_eq!(business.name.as_deref(), Some("Acme Demo Retail"));
    /// # Ok(()) }
    /// ```
    pub fn get(&self) -> Call<Business> {
        let req = Request::get([self.id.as_str()]).static_param("fields", BUSINESS_FIELDS);
        Call::new(self.client.clone(), req, self.id.validate().err())
            .about(self.id.as_str(), |b: &Business| b.id.as_str())
    }

    /// The business's system users: create, list, rename.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// let users = client.business(demo.business_id).system_users().list().collect(100).await?;
    /// assert!(users.is_empty()); // the demo business starts without system users
    /// # Ok(()) }
    /// ```
    pub fn system_users(&self) -> SystemUsersHandler {
        SystemUsersHandler::new(self.client.clone(), self.id.clone())
    }

    /// How many system users of each kind exist, against the client's quota.
    ///
    /// ```
    /// use meta_business::SystemUserKind;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// let usage = client.business(demo.business_id).system_user_quota().send().await?;
    /// assert!(usage.can_create(SystemUserKind::Regular)); // Limited tier: 1 + 1 admin, none used
    /// println!("{usage}");
    /// # Ok(()) }
    /// ```
    pub fn system_user_quota(&self) -> QuotaRequest {
        self.system_users().quota()
    }

    fn owned<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        edge: &str,
        fields: &'static str,
    ) -> ListRequest<T> {
        ListRequest::edge(&self.client, &self.id, edge, fields)
    }

    /// `POST /{business}/{edge}` with `{param}={id}`: a claim of an app or an asset.
    fn claim(
        &self,
        edge: &'static str,
        param: &'static str,
        id: &impl NodeId,
    ) -> Call<ClaimResult> {
        let req = Request::post([self.id.as_str(), edge]).param(param, id.as_str());
        Call::new(
            self.client.clone(),
            req,
            first_error([self.id.validate(), id.validate()]),
        )
    }

    /// `GET /{business}/{edge}`: the assets of kind `K` the business owns, through the kind's
    /// owned edge ([`AssetKind::OWNED_EDGE`](crate::AssetKind::OWNED_EDGE)) with its default
    /// fields; `owned_ad_accounts()` and the others are this for one kind each.
    ///
    /// ```
    /// use meta_business::asset;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// let pixels = client.business(demo.business_id).owned_assets::<asset::Pixel>().collect(100).await?;
    /// assert_eq!(pixels[0].id.as_str(), demo.pixel);
    /// # Ok(()) }
    /// ```
    pub fn owned_assets<K: crate::kinds::AssetKind>(&self) -> ListRequest<K::Owned> {
        self.owned(K::OWNED_EDGE, K::OWNED_FIELDS)
    }

    /// `GET /{business}/owned_ad_accounts`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// let accounts = client.business(demo.business_id).owned_ad_accounts().collect(1_000).await?;
    /// assert_eq!(accounts[0].id.as_str(), "act_3000000000001");
    /// # Ok(()) }
    /// ```
    pub fn owned_ad_accounts(&self) -> ListRequest<AdAccount> {
        self.owned_assets::<crate::kinds::AdAccount>()
    }

    /// `GET /{business}/owned_pages`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// let first = client.business(demo.business_id).owned_pages().limit(1).send().await?;
    /// assert_eq!(first.data.len(), 1);
    /// assert!(first.has_next()); // the demo business has two Pages
    /// # Ok(()) }
    /// ```
    pub fn owned_pages(&self) -> ListRequest<FacebookPage> {
        self.owned_assets::<crate::kinds::Page>()
    }

    /// `GET /{business}/owned_apps`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// let apps = client.business(demo.business_id).owned_apps().collect(100).await?;
    /// assert_eq!(apps[0].id.as_str(), demo.app_id);
    /// # Ok(()) }
    /// ```
    pub fn owned_apps(&self) -> ListRequest<App> {
        self.owned("owned_apps", NAMED_FIELDS)
    }

    /// `GET /{business}/owned_product_catalogs`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// let catalogs = client.business(demo.business_id).owned_product_catalogs().collect(100).await?;
    /// assert_eq!(catalogs[0].id.as_str(), demo.catalog);
    /// # Ok(()) }
    /// ```
    pub fn owned_product_catalogs(&self) -> ListRequest<ProductCatalog> {
        self.owned_assets::<crate::kinds::Catalog>()
    }

    /// `GET /{business}/owned_pixels`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// let pixels = client.business(demo.business_id).owned_pixels().collect(100).await?;
    /// assert_eq!(pixels[0].id.as_str(), demo.pixel);
    /// # Ok(()) }
    /// ```
    pub fn owned_pixels(&self) -> ListRequest<Pixel> {
        self.owned_assets::<crate::kinds::Pixel>()
    }

    /// `GET /{business}/owned_instagram_assets`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// let accounts = client.business(demo.business_id).owned_instagram_assets().collect(100).await?;
    /// assert_eq!(accounts[0].id.as_str(), demo.instagram);
    /// # Ok(()) }
    /// ```
    pub fn owned_instagram_assets(&self) -> ListRequest<InstagramAsset> {
        self.owned_assets::<crate::kinds::Instagram>()
    }

    /// `GET /{business}/owned_whatsapp_business_accounts`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// let wabas = client.business(demo.business_id).owned_whatsapp_business_accounts().collect(100).await?;
    /// assert_eq!(wabas[0].id.as_str(), demo.whatsapp);
    /// # Ok(()) }
    /// ```
    pub fn owned_whatsapp_business_accounts(&self) -> ListRequest<WhatsAppBusinessAccount> {
        self.owned_assets::<crate::kinds::WhatsApp>()
    }

    /// `GET /{business}/business_asset_groups`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// let groups = client.business(demo.business_id).business_asset_groups().collect(100).await?;
    /// assert_eq!(groups[0].id.as_str(), demo.business_asset_group);
    /// # Ok(()) }
    /// ```
    pub fn business_asset_groups(&self) -> ListRequest<BusinessAssetGroup> {
        self.owned_assets::<crate::kinds::BusinessAssetGroup>()
    }

    /// `GET /{business}/client_apps`: apps of other businesses shared with this one (a
    /// partner's app appears here after Business On Behalf Of).
    ///
    /// ```no_run
    /// # async fn run(client: meta_business::Client) -> meta_business::Result<()> {
    /// for app in client.business("1000000000001").client_apps().collect(100).await? {
    ///     println!("{} {}", app.id, app.name.as_deref().unwrap_or(""));
    /// }
    /// # Ok(()) }
    /// ```
    pub fn client_apps(&self) -> ListRequest<App> {
        self.owned("client_apps", NAMED_FIELDS)
    }

    /// `POST /{business}/owned_apps` with `app_id`: claims an app, which system users of
    /// this business can then install.
    ///
    /// ```no_run
    /// # async fn run(client: meta_business::Client) -> meta_business::Result<()> {
    /// let claimed = client.business("1000000000001").claim_app("2000000000001").send().await?;
    /// println!("{claimed:?}");
    /// # Ok(()) }
    /// ```
    pub fn claim_app(&self, app: impl Into<AppId>) -> Call<ClaimResult> {
        self.claim("owned_apps", "app_id", &app.into())
    }

    /// `POST /{business}/owned_ad_accounts` with `adaccount_id=act_<id>`. Confirmed at once
    /// when the caller administers the ad account; otherwise an ownership request is sent
    /// and the result is `PENDING`.
    ///
    /// ```no_run
    /// # async fn run(client: meta_business::Client) -> meta_business::Result<()> {
    /// // `act_` is optional: the id is normalized.
    /// let claimed = client.business("1000000000001").claim_ad_account("3000000000009").send().await?;
    /// println!("{claimed:?}");
    /// # Ok(()) }
    /// ```
    pub fn claim_ad_account(&self, account: impl Into<AdAccountId>) -> Call<ClaimResult> {
        self.claim("owned_ad_accounts", "adaccount_id", &account.into())
    }

    /// `POST /{business}/owned_pages` with `page_id`.
    ///
    /// ```no_run
    /// # async fn run(client: meta_business::Client) -> meta_business::Result<()> {
    /// let claimed = client.business("1000000000001").claim_page("4000000000009").send().await?;
    /// println!("{claimed:?}");
    /// # Ok(()) }
    /// ```
    pub fn claim_page(&self, page: impl Into<PageId>) -> Call<ClaimResult> {
        self.claim("owned_pages", "page_id", &page.into())
    }

    // Tokens.
    /// `POST /{business}/system_user_access_tokens`: the business-level way to get a
    /// system user's token.
    ///
    /// ```
    /// use meta_business::Permission;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
    /// client.system_user(&su.id).install_app(demo.app_id).send().await?;
    /// let token = client
    ///     .business(demo.business_id)
    ///     .system_user_access_token(&su.id)
    ///     .scopes([Permission::AdsRead])
    ///     .send()
    ///     .await?;
    /// # let _ = token;
    /// # Ok(()) }
    /// ```
    pub fn system_user_access_token(
        &self,
        system_user: impl Into<SystemUserId>,
    ) -> BusinessSystemUserToken {
        BusinessSystemUserToken {
            core: Core::new(self.client.clone()),
            handler: self.clone(),
            system_user: system_user.into(),
            scopes: Vec::new(),
            assets: Vec::new(),
            fetch_only: None,
            expires_in_60_days: None,
        }
    }

    // Workflows.
    /// Read-only checks of the prerequisites of system users: the token, its scopes, the app's
    /// ownership, a human admin, the caller's admin rights, the quota, the app secret, and the
    /// Custom Audience terms of given ad accounts.
    ///
    /// ```no_run
    /// use meta_business::Permission;
    /// # async fn run(client: meta_business::Client) -> meta_business::Result<()> {
    /// let report = client
    ///     .business("1234567890")
    ///     .preflight()
    ///     .app("1122334455")
    ///     .scopes([Permission::AdsRead])
    ///     .ad_accounts(["act_42"])
    ///     .send()
    ///     .await;
    /// print!("{report}");
    /// # Ok(()) }
    /// ```
    pub fn preflight(&self) -> PreflightRequest {
        PreflightRequest {
            business: self.clone(),
            app: None,
            scopes: Vec::new(),
            ad_accounts: Vec::new(),
            max_pages: None,
        }
    }
}

impl Call<Business> {
    /// Reads these fields instead of the default set.
    ///
    /// ```no_run
    /// use meta_business::BusinessField;
    /// # async fn run(client: meta_business::Client) -> meta_business::Result<()> {
    /// let biz = client
    ///     .business("1234")
    ///     .get()
    ///     .fields([BusinessField::Name, BusinessField::VerificationStatus])
    ///     .send()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn fields(self, fields: impl IntoIterator<Item = BusinessField>) -> Self {
        let mut list: Vec<String> = vec!["id".to_owned()];
        for field in fields {
            if field.as_str() != "id" {
                list.push(field.as_str().to_owned());
            }
        }
        self.set_fields(list.join(","))
    }

    /// Reads a raw Graph field list instead of the default set; fields the struct does not
    /// model land in [`Business::extra`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// // A field this crate does not list yet, comma-separated as the Graph API takes it.
    /// let business = client.business(demo.business_id).get().fields_raw("id,name").send().await?;
    /// assert_eq!(business.id.as_str(), demo.business_id);
    /// # Ok(()) }
    /// ```
    pub fn fields_raw(self, fields: impl Into<String>) -> Self {
        self.set_fields(fields.into())
    }
}
