//! The businesses a user belongs to: list them, create one.

use crate::api::business::BUSINESS_FIELDS;
use crate::api::core::Core;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::ids::{BusinessId, UserId};
use crate::kinds::page::PageId;
use crate::models::business::{Business, BusinessVertical};
use crate::models::{check_enum_escape, check_name};
use crate::pagination::ListRequest;
use crate::request::Request;

/// Highest `timezone_id` the Graph API accepts.
const MAX_TIMEZONE_ID: u32 = 592;

/// The businesses of a user (the token's user by default). Get one with
/// [`Client::businesses`].
#[derive(Debug, Clone)]
pub struct BusinessesHandler {
    client: Client,
    user: Option<UserId>,
}

impl BusinessesHandler {
    pub(crate) fn new(client: Client) -> Self {
        BusinessesHandler { client, user: None }
    }

    /// Acts on this user's businesses instead of the token user's (`/me`).
    ///
    /// ```no_run
    /// # async fn run(client: meta_business::Client) -> meta_business::Result<()> {
    /// let theirs = client.businesses().for_user("1000000001234").list().collect(100).await?;
    /// # let _ = theirs; Ok(()) }
    /// ```
    pub fn for_user(mut self, user: impl Into<UserId>) -> Self {
        self.user = Some(user.into());
        self
    }

    fn user_segment(&self) -> (String, Option<Error>) {
        match &self.user {
            Some(user) => (user.as_str().to_owned(), user.validate().err()),
            None => ("me".to_owned(), None),
        }
    }

    /// `GET /me/businesses`: the businesses the user can act on.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// let businesses = client.businesses().list().collect(100).await?;
    /// assert_eq!(businesses[0].id.as_str(), demo.business_id);
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> ListRequest<Business> {
        let (user, invalid) = self.user_segment();
        let req =
            Request::get([user, "businesses".to_owned()]).static_param("fields", BUSINESS_FIELDS);
        ListRequest::new(self.client.clone(), req, invalid)
    }

    /// `POST /me/businesses`: creates a business. `name` and `vertical` are required by the
    /// Graph API.
    ///
    /// ```no_run
    /// use meta_business::BusinessVertical;
    /// # async fn run(client: meta_business::Client) -> meta_business::Result<()> {
    /// let business = client
    ///     .businesses()
    ///     .create("Acme Retail EU", BusinessVertical::Retail)
    ///     .email("ops@example.com")
    ///     .send()
    ///     .await?;
    /// println!("created business {}", business.id);
    /// # Ok(()) }
    /// ```
    pub fn create(&self, name: impl Into<String>, vertical: BusinessVertical) -> CreateBusiness {
        let (user, invalid) = self.user_segment();
        CreateBusiness {
            core: Core::new(self.client.clone()).refusing(invalid),
            user,
            name: name.into(),
            vertical,
            primary_page: None,
            timezone_id: None,
            email: None,
        }
    }
}

/// Builder for [`BusinessesHandler::create`].
#[derive(Debug)]
#[must_use = "a request does nothing until `.send().await`"]
pub struct CreateBusiness {
    pub(crate) core: Core,
    user: String,
    name: String,
    vertical: BusinessVertical,
    primary_page: Option<PageId>,
    timezone_id: Option<u32>,
    email: Option<String>,
}

impl CreateBusiness {
    /// The business's primary Page.
    pub fn primary_page(mut self, primary_page: impl Into<PageId>) -> Self {
        self.primary_page = Some(primary_page.into());
        self
    }

    /// Its timezone id (0–592).
    pub fn timezone_id(mut self, timezone_id: u32) -> Self {
        self.timezone_id = Some(timezone_id);
        self
    }

    /// Its contact email.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    fn validate(&self) -> Result<()> {
        if let Some(err) = &self.core.invalid {
            return Err(Error::invalid_input("user_id", err.to_string()));
        }
        check_name("name", &self.name)?;
        if let BusinessVertical::Unlisted(raw) = &self.vertical {
            check_enum_escape("vertical", raw)?;
        }
        if let Some(page) = &self.primary_page {
            page.validate()?;
        }
        if let Some(tz) = self.timezone_id.filter(|tz| *tz > MAX_TIMEZONE_ID) {
            return Err(Error::invalid_input(
                "timezone_id",
                format!("must be 0–{MAX_TIMEZONE_ID}, got {tz}"),
            ));
        }
        if let Some(email) = &self.email {
            let ok = email
                .split_once('@')
                .is_some_and(|(a, b)| !a.is_empty() && b.contains('.'))
                && !email.chars().any(|c| c.is_whitespace() || c.is_control());
            if !ok {
                return Err(Error::invalid_input("email", "is not an email address"));
            }
        }
        Ok(())
    }

    /// Creates the business and returns it (id, name, vertical).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (and no request) for an empty name, a bad escape vertical, a
    /// timezone id above 592, a malformed email or page id; otherwise any request error.
    pub async fn send(self) -> Result<Business> {
        crate::api::exchange::send(self).await
    }
}

/// The business's answer to its create.
#[derive(serde::Deserialize)]
pub(crate) struct CreatedBusiness {
    id: BusinessId,
}

impl crate::api::exchange::Exchange for CreateBusiness {
    type Answer = CreatedBusiness;
    type Output = Business;

    fn core(&self) -> &Core {
        &self.core
    }

    fn core_mut(&mut self) -> &mut Core {
        &mut self.core
    }

    fn request(&self) -> Result<Request> {
        self.validate()?;
        let mut req = Request::post([self.user.as_str(), "businesses"])
            .param("name", self.name.trim())
            .param("vertical", self.vertical.as_str());
        if let Some(page) = &self.primary_page {
            req = req.param("primary_page", page.as_str());
        }
        if let Some(tz) = self.timezone_id {
            req = req.param("timezone_id", tz.to_string());
        }
        if let Some(email) = &self.email {
            req = req.param("email", email.as_str());
        }
        Ok(req)
    }

    /// A create: never sent again once it may have reached the server.
    fn effect(&self) -> crate::retry::Effect {
        crate::retry::Effect::Creates
    }

    fn finish(
        self,
        created: CreatedBusiness,
    ) -> std::result::Result<Business, crate::api::exchange::Refusal> {
        Ok(Business::created(
            created.id,
            self.name.trim().to_owned(),
            self.vertical,
        ))
    }
}

impl CreateBusiness {
    /// Per-request timeout, overriding the client's.
    pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.core.timeout = Some(timeout);
        self
    }
}
