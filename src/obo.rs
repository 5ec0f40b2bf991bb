//! Business On Behalf Of: a partner business (which owns the app) acting for a client
//! business through a system user created in the client business.
//!
//! Each step needs a particular token, and each token has its own type, so a client token
//! cannot be passed where the partner's admin token is required:
//!
//! | step | call | token |
//! |---|---|---|
//! | link | `POST /{partner}/managed_businesses` | [`ClientAdminToken`] (a person administering the client) |
//! | client system-user token | `POST /{client}/access_token` | [`PartnerAdminToken`] (the partner's admin system user) |
//! | who am I | `GET /me` | [`ClientSystemUserToken`] |
//! | assign client assets | `POST /{asset}/assigned_users` | [`ClientAdminToken`] |
//! | Pages and their tokens | `GET /me/accounts` | [`ClientSystemUserToken`] |
//! | unlink | `DELETE /{partner}/managed_businesses` | [`ClientAdminToken`] |

use std::fmt;

use secrecy::SecretString;
use serde::Deserialize;

use crate::api::core::Core;
use crate::api::exchange::{self, Prepared};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::ids::{AppId, BusinessId, SystemUserId};
use crate::kinds::page::PageId;
use crate::models::NodeRef;
use crate::models::permissions::{Permission, scope_param};
use crate::pagination::ListRequest;
use crate::request::Request;

macro_rules! token_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub struct $name(SecretString);

        impl $name {
            /// Wraps a token.
            pub fn new(token: impl Into<SecretString>) -> Self {
                Self(token.into())
            }

            /// The token itself.
            pub fn secret(&self) -> &SecretString {
                &self.0
            }

            /// Consumes this value, returning the token.
            pub fn into_secret(self) -> SecretString {
                self.0
            }

            /// A form safe to print: the first and last four characters, e.g. `EAAB…9xYz`.
            pub fn masked(&self) -> String {
                crate::auth::mask(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

token_type!(
    /// The token of a person who administers the client business (`USERS_ACCESS_TOKEN` in
    /// Meta's guide), obtained through Facebook Login on the partner's app.
    ///
    /// Each On Behalf Of step takes the one token type it needs, so they cannot be mixed up;
    /// none shows its token in `Debug`.
    ///
    /// ```
    /// use meta_business::ExposeSecret;
    /// use meta_business::obo::ClientAdminToken;
    /// let token = ClientAdminToken::new("EAAB-client-admin-token");
    /// assert_eq!(format!("{token:?}"), "ClientAdminToken([redacted])");
    /// assert_eq!(token.secret().expose_secret(), "EAAB-client-admin-token");
    /// ```
    ClientAdminToken
);
token_type!(
    /// The token of the partner business's admin system user, for the partner's app.
    PartnerAdminToken
);
token_type!(
    /// The token of the system user created in the client business.
    ClientSystemUserToken
);
token_type!(
    /// A Page token, from the client system user's Pages.
    PageAccessToken
);

/// The relationship between a partner and a client business. Get one with
/// [`Client::on_behalf_of`].
///
/// ```
/// use meta_business::{PageTask, Permission};
/// use meta_business::obo::{ClientAdminToken, PartnerAdminToken};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, d) = meta_business::testing::GraphEmulator::obo_demo().await;
/// # let client = emulator.client(d.partner_admin_token)?;
/// let obo = client.on_behalf_of(d.partner, d.client);
/// let client_admin = ClientAdminToken::new(d.client_admin_token);
/// obo.link(&client_admin).await?;
/// let su_token = obo
///     .client_system_user_token(&PartnerAdminToken::new(d.partner_admin_token), d.app_id)
///     .scopes([Permission::PagesReadEngagement])
///     .send()
///     .await?;
/// let me = obo.client_system_user(&su_token).await?;
/// obo.as_client_admin(&client_admin)
///     .page(d.client_page)
///     .assign(me.id.as_str(), [PageTask::Analyze])
///     .send()
///     .await?;
/// assert_eq!(obo.pages(&su_token).collect(10).await?.len(), 1);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct OnBehalfOf {
    pub(crate) client: Client,
    pub(crate) partner: BusinessId,
    pub(crate) client_business: BusinessId,
}

/// The answer to linking the businesses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ManagedBusiness {
    /// The client business, as the Graph API returns it.
    pub id: Option<BusinessId>,
    /// Its name.
    pub name: Option<String>,
}

/// A Page of the client system user, with its Page token.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct ClientPage {
    /// The Page.
    pub id: PageId,
    /// Its name.
    pub name: Option<String>,
    /// Its category.
    pub category: Option<String>,
    /// The system user's tasks on it.
    #[serde(default)]
    pub tasks: Vec<String>,
    #[serde(default, deserialize_with = "page_token")]
    access_token: Option<PageAccessToken>,
}

impl ClientPage {
    /// The Page token, when the Graph API returned one.
    pub fn access_token(&self) -> Option<PageAccessToken> {
        self.access_token.clone()
    }
}

fn page_token<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<PageAccessToken>, D::Error> {
    Ok(Option::<SecretString>::deserialize(d)?.map(PageAccessToken))
}

impl OnBehalfOf {
    fn check_ids(&self) -> Result<()> {
        self.partner
            .validate()
            .map_err(|e| e.relabel("partner_business_id"))?;
        self.client_business
            .validate()
            .map_err(|e| e.relabel("client_business_id"))?;
        if self.partner == self.client_business {
            return Err(Error::invalid_input(
                "client_business_id",
                "must be another business than the partner",
            ));
        }
        Ok(())
    }

    fn managed_request(&self, method: reqwest::Method) -> Request {
        Request::new(method, [self.partner.as_str(), "managed_businesses"])
            .param("existing_client_business_id", self.client_business.as_str())
    }

    /// Step 1, `POST /{partner}/managed_businesses` with `existing_client_business_id`: a
    /// person who administers the client business links it to the partner.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (nothing sent) for bad or equal business ids; any request error.
    pub async fn link(&self, token: &ClientAdminToken) -> Result<ManagedBusiness> {
        self.check_ids()?;
        let req = self.managed_request(reqwest::Method::POST).idempotent();
        let client = self.client.with_token(token.0.clone());
        exchange::send(Prepared::new(Core::new(client), req)).await
    }

    /// Step 2, `POST /{client}/access_token` with `app_id` and `scope`: the partner's admin
    /// system user gets the token of a system user in the client business (created the first
    /// time, named "{client name} SYSTEM USER" by default). `appsecret_proof` is required, so
    /// the client needs the partner app's secret.
    pub fn client_system_user_token(
        &self,
        token: &PartnerAdminToken,
        app: impl Into<AppId>,
    ) -> ClientTokenRequest {
        ClientTokenRequest {
            core: Core::new(self.client.clone()),
            obo: self.clone(),
            token: token.clone(),
            app: app.into(),
            scopes: Vec::new(),
            system_user_name: None,
        }
    }

    /// Step 3, `GET /me` with the client system user's token: its id and name.
    ///
    /// # Errors
    /// Any request error.
    pub async fn client_system_user(&self, token: &ClientSystemUserToken) -> Result<NodeRef> {
        let client = self.client.with_token(token.0.clone());
        let req = Request::get(["me"]).param("fields", "id,name");
        exchange::send(Prepared::new(Core::new(client), req)).await
    }

    /// Step 4: a client of the API acting as the client business's admin person, to assign
    /// client assets to the client system user with the usual typed calls.
    pub fn as_client_admin(&self, token: &ClientAdminToken) -> Client {
        self.client.with_token(token.0.clone())
    }

    /// Step 5, `GET /me/accounts` with the client system user's token: its Pages, each with a
    /// Page token.
    pub fn pages(&self, token: &ClientSystemUserToken) -> ListRequest<ClientPage> {
        let req = Request::get(["me", "accounts"])
            .param("fields", "id,name,category,tasks,access_token")
            .sensitive();
        ListRequest::new(self.client.with_token(token.0.clone()), req, None)
    }

    /// Step 6, `DELETE /{partner}/managed_businesses?existing_client_business_id=`: removes the
    /// relationship, and with it the partner's system user in the client business.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (nothing sent) for bad or equal business ids; any request error.
    pub async fn unlink(&self, token: &ClientAdminToken) -> Result<()> {
        self.check_ids()?;
        let req = self.managed_request(reqwest::Method::DELETE);
        let client = self.client.with_token(token.0.clone());
        exchange::send(Prepared::ack(Core::new(client), req)).await
    }
}

/// Builder for [`OnBehalfOf::client_system_user_token`].
#[derive(Debug)]
#[must_use = "a request does nothing until `.send().await`"]
pub struct ClientTokenRequest {
    pub(crate) core: Core,
    obo: OnBehalfOf,
    token: PartnerAdminToken,
    app: AppId,
    scopes: Vec<Permission>,
    system_user_name: Option<String>,
}

impl ClientTokenRequest {
    /// Every permission the client system user will need (sent as a comma-separated string,
    /// the only form this edge accepts).
    pub fn scopes(mut self, scopes: impl IntoIterator<Item = Permission>) -> Self {
        self.scopes.extend(scopes);
        self
    }

    /// The client system user's name, instead of "{client name} SYSTEM USER".
    pub fn system_user_name(mut self, system_user_name: impl Into<String>) -> Self {
        self.system_user_name = Some(system_user_name.into());
        self
    }

    /// Gets the token. Each call mints one: the request is never re-sent once it may have
    /// reached the server. After an error with [`Error::outcome_unknown`], a token may exist
    /// that nobody holds: invalidate the client system user's tokens and ask again.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (nothing sent) for bad or equal business ids, a bad app id, no
    /// scope, an empty name, or no app secret; any request error; [`Error::TokenCheck`] when
    /// `debug_token` (asked as the app) does not show the answered token valid, of the app and
    /// a system user's: it is not returned, and is revoked when it is of the app.
    pub async fn send(self) -> Result<ClientSystemUserToken> {
        self.obo.check_ids()?;
        self.app.validate()?;
        let scope = scope_param(&self.scopes)?;
        if let Some(name) = &self.system_user_name {
            crate::models::check_name("system_user_name", name)?;
        }
        // The proof, and the check of the answered token as the app, need the app's secret.
        if !self.obo.client.has_app_secret() || !self.obo.client.has_app_secret_for(&self.app) {
            return Err(Error::invalid_input(
                "app_secret",
                "the client system user's token needs appsecret_proof and a check as the app: \
                 configure the partner app's secret (ClientBuilder::app_secret_for when the \
                 client's app is another)",
            ));
        }
        let mut req = Request::post([self.obo.client_business.as_str(), "access_token"])
            .param("app_id", self.app.as_str())
            .param("scope", scope)
            .with_timeout(self.core.timeout)
            .sensitive()
            // Mints a token (and may create the client system user): never re-sent.
            .creates();
        if let Some(name) = &self.system_user_name {
            req = req.param("system_user_name", name.trim());
        }
        #[derive(Deserialize)]
        struct Answer {
            access_token: SecretString,
        }
        let partner = self.obo.client.with_token(self.token.0.clone());
        let Answer { access_token } =
            exchange::send(Prepared::new(Core::new(partner.clone()), req)).await?;
        check_client_token(&partner, &self.app, access_token).await
    }
}

/// The identity check of a client system-user token answer: `debug_token`, asked as the
/// partner's app, must show it valid, of that app, and a system user's (a token the client
/// was given, echoed back, is refused before this by the client's registry). A token that
/// fails is refused and, when it is of the partner's app, revoked, so nobody is left with it.
async fn check_client_token(
    partner: &Client,
    app: &AppId,
    token: SecretString,
) -> Result<ClientSystemUserToken> {
    use crate::keeper::identity::{app_mismatch, type_mismatch};
    let refused = |why: String| Error::TokenCheck {
        reason: format!("the client system user token answered is refused: {why}"),
    };
    let info = match partner.as_app(app.clone()) {
        Ok(inspector) => inspector.debug_token(token.clone()).send().await,
        Err(err) => Err(err),
    };
    let (why, ours) = match info {
        // A dead token needs no revoking.
        Ok(info) if info.is_valid != Some(true) => {
            ("debug_token does not show it valid".to_owned(), false)
        }
        Ok(info) => {
            let Some(why) = app_mismatch(&info, app).or_else(|| type_mismatch(&info)) else {
                return Ok(ClientSystemUserToken(token));
            };
            (why, info.app_id.as_ref().is_none_or(|a| a == app))
        }
        // Unchecked, it is not handed out; revoking it is left to its app's owner.
        Err(err) => (format!("debug_token could not check it ({err})"), false),
    };
    if !ours {
        return Err(refused(format!("{why}; it was not revoked")));
    }
    let revoked = match partner.revoke_token(app.clone(), token).send().await {
        Ok(()) => "it was revoked".to_owned(),
        Err(err) => {
            format!("revoking it failed ({err}): invalidate the client system user's tokens")
        }
    };
    Err(refused(format!("{why}; {revoked}")))
}

impl ClientSystemUserToken {
    /// The client system user's id, from its token (`GET /me`).
    ///
    /// # Errors
    /// Any request error.
    pub async fn system_user_id(&self, client: &Client) -> Result<SystemUserId> {
        let client = client.with_token(self.0.clone());
        let req = Request::get(["me"]).param("fields", "id");
        let me: NodeRef = exchange::send(Prepared::new(Core::new(client), req)).await?;
        Ok(SystemUserId::new(me.id))
    }
}

impl ClientTokenRequest {
    /// Per-request timeout, overriding the client's.
    pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.core.timeout = Some(timeout);
        self
    }
}
