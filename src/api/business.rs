//! A business: read it, list and claim its assets, reach its system users.

use crate::api::system_users::{QuotaRequest, SystemUsersHandler};
use crate::api::{Call, first_error};
use crate::client::Client;
use crate::ids::{AdAccountId, AppId, BusinessId, PageId};
use crate::models::assets::{
    AD_ACCOUNT_FIELDS, AdAccount, App, ClaimResult, FacebookPage, INSTAGRAM_FIELDS, InstagramAsset,
    NAMED_FIELDS, Pixel, ProductCatalog, WhatsAppBusinessAccount,
};
use crate::models::business::{Business, BusinessField};
use crate::pagination::ListRequest;
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
    pub fn id(&self) -> &BusinessId {
        &self.id
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// `GET /{business}`: the business, with its descriptive fields (choose others with
    /// [`Call::fields`]).
    pub fn get(&self) -> Call<Business> {
        let req = Request::get([self.id.as_str()]).param("fields", BUSINESS_FIELDS);
        Call::new(self.client.clone(), req, self.id.validate().err())
    }

    /// The business's system users: create, list, rename.
    pub fn system_users(&self) -> SystemUsersHandler {
        SystemUsersHandler::new(self.client.clone(), self.id.clone())
    }

    /// How many system users of each kind exist, against the client's quota.
    pub fn system_user_quota(&self) -> QuotaRequest {
        self.system_users().quota()
    }

    fn owned<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        edge: &str,
        fields: &'static str,
    ) -> ListRequest<T> {
        let req = Request::get([self.id.as_str(), edge]).param("fields", fields);
        ListRequest::new(self.client.clone(), req, self.id.validate().err())
    }

    /// `GET /{business}/owned_ad_accounts`.
    pub fn owned_ad_accounts(&self) -> ListRequest<AdAccount> {
        self.owned("owned_ad_accounts", AD_ACCOUNT_FIELDS)
    }

    /// `GET /{business}/owned_pages`.
    pub fn owned_pages(&self) -> ListRequest<FacebookPage> {
        self.owned("owned_pages", NAMED_FIELDS)
    }

    /// `GET /{business}/owned_apps`.
    pub fn owned_apps(&self) -> ListRequest<App> {
        self.owned("owned_apps", NAMED_FIELDS)
    }

    /// `GET /{business}/owned_product_catalogs`.
    pub fn owned_product_catalogs(&self) -> ListRequest<ProductCatalog> {
        self.owned("owned_product_catalogs", NAMED_FIELDS)
    }

    /// `GET /{business}/owned_pixels`.
    pub fn owned_pixels(&self) -> ListRequest<Pixel> {
        self.owned("owned_pixels", NAMED_FIELDS)
    }

    /// `GET /{business}/owned_instagram_assets`.
    pub fn owned_instagram_assets(&self) -> ListRequest<InstagramAsset> {
        self.owned("owned_instagram_assets", INSTAGRAM_FIELDS)
    }

    /// `GET /{business}/owned_whatsapp_business_accounts`.
    pub fn owned_whatsapp_business_accounts(&self) -> ListRequest<WhatsAppBusinessAccount> {
        self.owned("owned_whatsapp_business_accounts", NAMED_FIELDS)
    }

    /// `GET /{business}/client_apps`: apps of other businesses shared with this one (a
    /// partner's app appears here after Business On Behalf Of).
    pub fn client_apps(&self) -> ListRequest<App> {
        self.owned("client_apps", NAMED_FIELDS)
    }

    /// `POST /{business}/owned_apps` with `app_id`: claims an app, which system users of
    /// this business can then install.
    pub fn claim_app(&self, app: impl Into<AppId>) -> Call<ClaimResult> {
        let app = app.into();
        let req = Request::post([self.id.as_str(), "owned_apps"]).param("app_id", app.as_str());
        Call::new(
            self.client.clone(),
            req,
            first_error([self.id.validate(), app.validate()]),
        )
    }

    /// `POST /{business}/owned_ad_accounts` with `adaccount_id=act_<id>`. Confirmed at once
    /// when the caller administers the ad account; otherwise an ownership request is sent
    /// and the result is `PENDING`.
    pub fn claim_ad_account(&self, account: impl Into<AdAccountId>) -> Call<ClaimResult> {
        let account = account.into();
        let req = Request::post([self.id.as_str(), "owned_ad_accounts"])
            .param("adaccount_id", account.as_str());
        Call::new(
            self.client.clone(),
            req,
            first_error([self.id.validate(), account.validate()]),
        )
    }

    /// `POST /{business}/owned_pages` with `page_id`.
    pub fn claim_page(&self, page: impl Into<PageId>) -> Call<ClaimResult> {
        let page = page.into();
        let req = Request::post([self.id.as_str(), "owned_pages"]).param("page_id", page.as_str());
        Call::new(
            self.client.clone(),
            req,
            first_error([self.id.validate(), page.validate()]),
        )
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
    pub fn fields_raw(self, fields: impl Into<String>) -> Self {
        self.set_fields(fields.into())
    }
}
