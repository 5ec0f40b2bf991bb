//! Partner businesses in the emulator: who has access to a business or one of its assets
//! (`agencies`, a pixel's `shared_agencies`) and whom a business serves (`clients`), with the
//! ways a test seeds them.

use std::collections::BTreeMap;

use super::GraphEmulator;
use super::seed::BusinessSeed;
use super::state::{self, State};

/// The partner lists: (node, edge) → partner business ids, in the order they were added.
#[derive(Debug, Default)]
pub(crate) struct Partners {
    lists: BTreeMap<(String, &'static str), Vec<String>>,
}

impl Partners {
    /// The partner businesses a node's edge lists.
    pub(crate) fn of(&self, node: &str, edge: &str) -> Vec<String> {
        self.lists
            .iter()
            .find(|((n, e), _)| n == node && *e == edge)
            .map(|(_, ids)| ids.clone())
            .unwrap_or_default()
    }

    fn add(&mut self, node: &str, edge: &'static str, partner: &str) {
        let list = self.lists.entry((node.to_owned(), edge)).or_default();
        if !list.iter().any(|p| p == partner) {
            list.push(partner.to_owned());
        }
    }
}

/// The partners a [`BusinessSeed`] plants: (edge, node or `None` for the business, partner id,
/// partner name).
#[derive(Debug, Clone, Default)]
pub(crate) struct PartnerSeed(Vec<(&'static str, Option<String>, String, String)>);

impl PartnerSeed {
    pub(crate) fn plant(self, state: &mut State, business: &str) {
        for (edge, node, partner, name) in self.0 {
            match (edge, node) {
                ("clients", _) => add_client(state, business, &partner, &name),
                (_, None) => add_partner(state, business, &partner, &name),
                (edge, Some(asset)) => share(state, &asset, edge, &partner, &name),
            }
        }
    }
}

/// A business the emulator knows only as a partner: no admins, apps or assets.
fn ensure_business(state: &mut State, id: &str, name: &str) {
    if state.businesses.contains_key(id) {
        return;
    }
    let created = state::graph_time(state.now());
    state.businesses.insert(
        id.to_owned(),
        state::Business {
            name: name.to_owned(),
            vertical: "ADVERTISING".to_owned(),
            verification_status: "verified".to_owned(),
            created_time: created,
            tier: crate::config::AccessTier::Limited,
            apps: Vec::new(),
            assets: Vec::new(),
            system_users: Vec::new(),
            admins: Vec::new(),
            shared_apps: Vec::new(),
            employees: Vec::new(),
        },
    );
}

fn add_partner(state: &mut State, business: &str, partner: &str, name: &str) {
    ensure_business(state, partner, name);
    state.partners.add(business, "agencies", partner);
    state.partners.add(partner, "clients", business);
}

fn add_client(state: &mut State, business: &str, client: &str, name: &str) {
    ensure_business(state, client, name);
    state.partners.add(business, "clients", client);
    state.partners.add(client, "agencies", business);
}

/// Shares an asset with a partner; the partner then has access to the owner's assets, so it
/// is an agency of the owner too.
fn share(state: &mut State, asset: &str, edge: &'static str, partner: &str, name: &str) {
    let asset = if state.assets.contains_key(asset) {
        asset.to_owned()
    } else {
        format!("act_{asset}")
    };
    let owner = state.assets.get(&asset).map(|a| a.business.clone());
    ensure_business(state, partner, name);
    state.partners.add(&asset, edge, partner);
    if let Some(owner) = owner {
        add_partner(state, &owner, partner, name);
    }
}

impl GraphEmulator {
    /// Makes `partner` (created with this name if the emulator does not know it) a partner
    /// business (agency) of `business`: listed by `GET /{business}/agencies`, and `business`
    /// by the partner's `clients`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
    /// emulator.add_partner(demo.business_id, "1000000000077", "Old Agency");
    /// assert_eq!(emulator.partners(demo.business_id, "agencies"), ["1000000000077"]);
    /// # Ok(()) }
    /// ```
    pub fn add_partner(&self, business: &str, partner: &str, name: &str) {
        add_partner(&mut self.shared.state(), business, partner, name);
    }

    /// Makes `client` (created with this name if unknown) a client business of `business`:
    /// listed by `GET /{business}/clients`, and `business` by the client's `agencies`.
    pub fn add_client(&self, business: &str, client: &str, name: &str) {
        add_client(&mut self.shared.state(), business, client, name);
    }

    /// Gives `partner` (created with this name if unknown) access to an asset: listed by
    /// `GET /{asset}/agencies`, and as an agency of the asset's business.
    pub fn share_with_partner(&self, asset: &str, partner: &str, name: &str) {
        share(&mut self.shared.state(), asset, "agencies", partner, name);
    }

    /// Shares a pixel with `partner` (created with this name if unknown): listed by
    /// `GET /{pixel}/shared_agencies`, and as an agency of the pixel's business.
    pub fn share_pixel_with_agency(&self, pixel: &str, partner: &str, name: &str) {
        share(
            &mut self.shared.state(),
            pixel,
            "shared_agencies",
            partner,
            name,
        );
    }

    /// The partner businesses a node's edge lists (`agencies`, `clients` or
    /// `shared_agencies`), by id, in the order they were added.
    pub fn partners(&self, node: &str, edge: &str) -> Vec<String> {
        self.shared.state().partners.of(node, edge)
    }
}

impl BusinessSeed {
    /// A partner business (agency) with access to this business (see
    /// [`GraphEmulator::add_partner`]).
    pub fn partner(mut self, id: &str, name: &str) -> Self {
        let seed = ("agencies", None, id.to_owned(), name.to_owned());
        self.partners.0.push(seed);
        self
    }

    /// A client business this business serves (see [`GraphEmulator::add_client`]).
    pub fn client(mut self, id: &str, name: &str) -> Self {
        let seed = ("clients", None, id.to_owned(), name.to_owned());
        self.partners.0.push(seed);
        self
    }

    /// A partner business with access to one of this business's assets, seeded before it
    /// (see [`GraphEmulator::share_with_partner`]).
    ///
    /// ```
    /// use meta_business::testing::{BusinessSeed, GraphEmulator};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> meta_business::Result<()> {
    /// let emulator = GraphEmulator::builder()
    ///     .business(
    ///         BusinessSeed::new("1000000000042", "Shop")
    ///             .app("2000000000042", "Shop App", "secret")
    ///             .page("4000000000042", "Shop")
    ///             .admin("EAAE-shop-admin")
    ///             .asset_partner("4000000000042", "1000000000077", "Old Agency"),
    ///     )
    ///     .start()
    ///     .await;
    /// let client = emulator.client("EAAE-shop-admin")?;
    /// let partners = client.page("4000000000042").agencies().collect(10).await?;
    /// assert_eq!(partners[0].name.as_deref(), Some("Old Agency"));
    /// # Ok(()) }
    /// ```
    pub fn asset_partner(mut self, asset: &str, partner: &str, name: &str) -> Self {
        let seed = (
            "agencies",
            Some(asset.to_owned()),
            partner.to_owned(),
            name.to_owned(),
        );
        self.partners.0.push(seed);
        self
    }
}
