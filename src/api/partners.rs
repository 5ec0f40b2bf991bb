//! Partner businesses: who has access to a business (`agencies`), which businesses it serves
//! (`clients`), and which partners have access to one of its assets (the asset's `agencies`,
//! and a pixel's `shared_agencies`).
//!
//! Every edge here answers Business nodes ([`Business`]), read with [`PARTNER_FIELDS`]; Meta's
//! API description gives no tasks on these answers (the tasks a partner was given travel only
//! in the `POST …/agencies` that shares an asset), so none are read.

use crate::api::assignments::AssetHandler;
use crate::api::business::BusinessHandler;
use crate::api::first_error;
use crate::error::Error;
use crate::kinds::sealed::AssetId;
use crate::kinds::{AssetKind, Pixel};
use crate::models::business::Business;
use crate::pagination::ListRequest;
use crate::request::Request;

/// The fields read from a partner: the Business node's id and name.
pub(crate) const PARTNER_FIELDS: &str = "id,name";

impl BusinessHandler {
    /// `GET /{business}/agencies`: the partner businesses (agencies) that have access to this
    /// business's assets, each with its id and name.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// emulator.add_partner(demo.business_id, "1000000000077", "Old Agency");
    /// let partners = client.business(demo.business_id).agencies().collect(100).await?;
    /// assert_eq!(partners[0].name.as_deref(), Some("Old Agency"));
    /// # Ok(()) }
    /// ```
    pub fn agencies(&self) -> ListRequest<Business> {
        ListRequest::edge(self.client(), self.id(), "agencies", PARTNER_FIELDS)
    }

    /// `GET /{business}/clients`: the client businesses this business works for (it is their
    /// partner), each with its id and name.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// emulator.add_client(demo.business_id, "1000000000088", "A Client");
    /// let clients = client.business(demo.business_id).clients().collect(100).await?;
    /// assert_eq!(clients[0].id.as_str(), "1000000000088");
    /// # Ok(()) }
    /// ```
    pub fn clients(&self) -> ListRequest<Business> {
        ListRequest::edge(self.client(), self.id(), "clients", PARTNER_FIELDS)
    }
}

impl<K: AssetKind> AssetHandler<K> {
    /// `GET /{asset}/agencies`: the partner businesses with access to this asset, each with
    /// its id and name (the answer holds no tasks). Refused before sending, as
    /// [`Error::InvalidInput`], for a kind whose description has no such edge
    /// ([`AssetKind::PARTNER_EDGES`]: WhatsApp Business Accounts).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// emulator.share_with_partner(demo.ad_accounts[0], "1000000000077", "Old Agency");
    /// let partners = client.ad_account(demo.ad_accounts[0]).agencies().collect(100).await?;
    /// assert_eq!(partners[0].id.as_str(), "1000000000077");
    /// # Ok(()) }
    /// ```
    pub fn agencies(&self) -> ListRequest<Business> {
        self.partners_on("agencies")
    }

    /// `GET /{asset}/{edge}` for one of the kind's [`AssetKind::PARTNER_EDGES`]; any other
    /// edge is refused before sending.
    pub(crate) fn partners_on(&self, edge: &'static str) -> ListRequest<Business> {
        let req = Request::get([self.id().wire(), edge]).static_param("fields", PARTNER_FIELDS);
        let unlisted = (!K::PARTNER_EDGES.contains(&edge)).then(|| {
            Error::invalid_input(
                "edge",
                format!(
                    "Meta's API description lists no `{edge}` edge on {}s",
                    K::NAME
                ),
            )
        });
        let invalid = first_error([self.id().check()]).or(unlisted);
        ListRequest::new(self.client().clone(), req, invalid)
    }
}

impl AssetHandler<Pixel> {
    /// `GET /{pixel}/shared_agencies`: the partner businesses the pixel is shared with, each
    /// with its id and name (the answer holds no tasks).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// # let client = emulator.client(demo.admin_token)?;
    /// emulator.share_pixel_with_agency(demo.pixel, "1000000000077", "Old Agency");
    /// let partners = client.pixel(demo.pixel).shared_agencies().collect(100).await?;
    /// assert_eq!(partners[0].id.as_str(), "1000000000077");
    /// # Ok(()) }
    /// ```
    pub fn shared_agencies(&self) -> ListRequest<Business> {
        self.partners_on("shared_agencies")
    }
}
