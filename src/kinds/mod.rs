//! The asset kinds: the one table of what the crate knows about each kind of asset a system
//! user can be given.
//!
//! Each kind is one module of this folder, holding all of its knowledge: its id type, its task
//! enum (exactly the values the Graph API accepts on its `assigned_users` edge), and its
//! marker (below: [`AdAccount`], [`Page`], …) whose [`AssetKind`] constants say its name, the
//! business's edge that lists it, the system user's edge that lists it (if any), whether tasks
//! are required and whether an assignment can be removed. The table at the end of this file
//! lists the kinds once; from it come [`AssetRef`] (an asset known only at run time), the
//! dispatch from an [`AssetRef`] to the typed [`AssetHandler`](crate::AssetHandler)
//! ([`AssetRef::visit`]), and the list provisioning, audit, offboarding and the live reader go
//! through. ARCHITECTURE.md says how to add a kind.
//!
//! ```
//! use meta_business::{AdAccountId, AssetKind, asset};
//! use meta_business::asset::AssetRef;
//! // What each kind allows, known at compile time…
//! assert!(asset::Catalog::TASKS_REQUIRED);
//! assert!(!asset::Pixel::CAN_UNASSIGN);
//! assert_eq!(asset::AdAccount::OWNED_EDGE, "owned_ad_accounts");
//! // …and at run time.
//! let asset = AssetRef::AdAccount(AdAccountId::from("3000000000001"));
//! assert_eq!((asset.kind(), asset.id()), ("ad_account", "act_3000000000001"));
//! ```

use std::fmt::Debug;

use futures_util::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::api::assignments::AssetHandler;
use crate::api::business::BusinessHandler;
use crate::api::system_user::SystemUserHandler;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::ids::{BusinessId, SystemUserId};

mod declare;

pub(crate) mod ad_account;
pub(crate) mod business_asset_group;
pub(crate) mod catalog;
pub(crate) mod instagram;
pub(crate) mod page;
pub(crate) mod pixel;
pub(crate) mod whatsapp;

pub use ad_account::AdAccount;
pub use business_asset_group::BusinessAssetGroup;
pub use catalog::Catalog;
pub use instagram::Instagram;
pub use page::Page;
pub use pixel::Pixel;
pub use whatsapp::WhatsApp;

pub(crate) use declare::asset_kind;

/// The most items read from any one list by the table's own readers.
pub(crate) const MAX_ITEMS: usize = 10_000;

pub(crate) mod sealed {
    pub trait Sealed {}

    /// An asset id: its wire form, its check, and how it is built from a raw string.
    pub trait AssetId:
        Clone
        + std::fmt::Debug
        + std::str::FromStr<Err = crate::Error>
        + From<String>
        + serde::de::DeserializeOwned
        + serde::Serialize
        + Send
        + Sync
        + 'static
    {
        fn wire(&self) -> &str;
        fn into_wire(self) -> String;
        fn check(&self) -> crate::Result<()>;
    }

    /// A node of a business's owned list: its id.
    pub trait Owned<I>: serde::de::DeserializeOwned + Send + 'static {
        fn into_id(self) -> I;
    }
}

/// What every task enum offers (`AdAccountTask`, `PageTask`, …); implemented by the task enums
/// of this crate only.
pub trait Task:
    sealed::Sealed + Clone + Debug + PartialEq + Send + Sync + DeserializeOwned + 'static
{
    /// The value as sent.
    fn as_str(&self) -> &str;
    /// Whether this value is not one of the listed ones.
    fn is_unlisted(&self) -> bool;
    /// Every listed value, in wire order.
    fn known() -> &'static [Self];
    /// The value for a wire string (an unlisted one is kept as the enum's escape variant).
    fn parse(raw: &str) -> Self;
    /// The task-list parameters an assignment is sent in and its reads answer: one `tasks`
    /// list for most kinds, one list per asset type for a business asset group.
    const LISTS: &'static [&'static str] = &["tasks"];
    /// The list this task is sent in and its value there; `None` for a value naming no list of
    /// the kind (refused before sending).
    fn wire(&self) -> Option<(&'static str, &str)> {
        Some((Self::LISTS[0], self.as_str()))
    }
    /// The task a read answers in one of [`Task::LISTS`].
    fn from_wire(list: &str, raw: &str) -> Self {
        let _ = list;
        Self::parse(raw)
    }
}

/// A kind of asset with an `assigned_users` edge: the compile-time half of the table.
/// Implemented by the markers of this module only.
pub trait AssetKind: sealed::Sealed + Debug + Send + Sync + 'static {
    /// Its id type.
    type Id: sealed::AssetId;
    /// Its task enum.
    type Task: Task;
    /// A node of the business's owned list of this kind.
    type Owned: sealed::Owned<Self::Id>;
    /// Its node type, as Meta's API description names it (`AdAccount`): the key of its row in
    /// the contract table, from which the emulator takes its wire facts.
    const NODE: &'static str;
    /// Its name, for messages (`ad account`).
    const NAME: &'static str;
    /// Its key in spec files and in [`AssetRef`]'s serialized form (`ad_account`).
    const KEY: &'static str;
    /// The business's edge that lists the assets it owns (`owned_ad_accounts`).
    const OWNED_EDGE: &'static str;
    /// The fields read from that edge by default.
    const OWNED_FIELDS: &'static str;
    /// The system user's edge that lists its assets of this kind, if the Graph API has one
    /// (`assigned_ad_accounts`); without it, each asset's `assigned_users` is read instead.
    const SYSTEM_USER_EDGE: Option<&'static str>;
    /// Whether the Graph API itself requires at least one task. This crate requires one for
    /// every kind: least privilege is stated, never left to a server default.
    const TASKS_REQUIRED: bool;
    /// Whether the Graph API can remove an assignment (`DELETE …/assigned_users`).
    const CAN_UNASSIGN: bool;
    /// The asset's edges that list the partner businesses with access to it, as Meta's API
    /// description lists them (`agencies`; for pixels `shared_agencies` too); none for a kind
    /// whose description has no such edge (WhatsApp Business Accounts).
    const PARTNER_EDGES: &'static [&'static str] = &[];
    /// The fields read from the asset's `assigned_users` edge: the AssignedUser node's and the
    /// edge's task lists.
    const ASSIGNED_USER_FIELDS: &'static str = "id,name,user_type,tasks,permitted_tasks";
    /// The fields read from the system user's edge: the asset's id and name, and the edge's
    /// task lists.
    const HELD_FIELDS: &'static str = "id,name,tasks,permitted_tasks";
    /// The run-time reference to an asset of this kind.
    fn asset_ref(id: Self::Id) -> AssetRef;
}

/// Something to do with the typed handler of an asset known only at run time: see
/// [`AssetRef::visit`].
pub trait KindVisitor {
    /// What the visit gives back (the same for every kind).
    type Output;
    /// Called with the typed handler of the asset's kind.
    fn visit<K: AssetKind>(self, handler: AssetHandler<K>) -> Self::Output;
}

/// An asset and a system user's tasks on it, as read from the Graph API (unlisted task values
/// kept as sent).
pub(crate) type Held = (AssetRef, Vec<String>);

/// A read of the table's, in flight.
pub(crate) type Reading<T> = BoxFuture<'static, Result<T>>;

/// The run-time half of the table: a kind's constants and its typed operations behind
/// function pointers, so that code holding an [`AssetRef`] or iterating every kind reaches the
/// typed handlers.
#[derive(Clone, Copy)]
pub(crate) struct KindInfo {
    pub(crate) key: &'static str,
    pub(crate) name: &'static str,
    /// The node type in Meta's API description.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    pub(crate) node: &'static str,
    // Read by the emulator's test that holds its table to this one.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    pub(crate) owned_edge: &'static str,
    pub(crate) system_user_edge: Option<&'static str>,
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) tasks_required: bool,
    pub(crate) can_unassign: bool,
    /// The task values the Graph API accepts for the kind, as the crate writes them.
    pub(crate) tasks: fn() -> Vec<&'static str>,
    /// The same, as sent: each list parameter with its values.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) wire_tasks: fn() -> Vec<(&'static str, Vec<&'static str>)>,
    /// An asset of the kind from an id given by a person (checked).
    pub(crate) parse: fn(&str) -> Result<AssetRef>,
    /// The assets of the kind the business owns, reading at most this many pages.
    pub(crate) owned: fn(BusinessHandler, u32) -> Reading<Vec<AssetRef>>,
    /// The assets of the kind a system user holds, with its tasks, when the Graph API has an
    /// edge for it, reading at most this many pages.
    pub(crate) held_by: fn(SystemUserHandler, u32) -> Option<Reading<Vec<Held>>>,
}

impl std::fmt::Debug for KindInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key)
    }
}

impl KindInfo {
    const fn of<K: AssetKind>() -> KindInfo {
        KindInfo {
            key: K::KEY,
            name: K::NAME,
            node: K::NODE,
            owned_edge: K::OWNED_EDGE,
            system_user_edge: K::SYSTEM_USER_EDGE,
            tasks_required: K::TASKS_REQUIRED,
            can_unassign: K::CAN_UNASSIGN,
            tasks: task_names::<K>,
            wire_tasks: wire_task_names::<K>,
            parse: parse_ref::<K>,
            owned: owned_refs::<K>,
            held_by: held_by::<K>,
        }
    }
}

fn task_names<K: AssetKind>() -> Vec<&'static str> {
    K::Task::known().iter().map(Task::as_str).collect()
}

fn wire_task_names<K: AssetKind>() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut lists: Vec<(&'static str, Vec<&'static str>)> =
        K::Task::LISTS.iter().map(|l| (*l, Vec::new())).collect();
    for task in K::Task::known() {
        if let Some((list, value)) = task.wire()
            && let Some((_, values)) = lists.iter_mut().find(|(l, _)| *l == list)
        {
            values.push(value);
        }
    }
    lists
}

fn parse_ref<K: AssetKind>(raw: &str) -> Result<AssetRef> {
    raw.parse::<K::Id>().map(K::asset_ref)
}

fn task_strings<T: Task>(tasks: &[T]) -> Vec<String> {
    tasks.iter().map(|t| t.as_str().to_owned()).collect()
}

fn owned_refs<K: AssetKind>(
    business: BusinessHandler,
    pages: u32,
) -> BoxFuture<'static, Result<Vec<AssetRef>>> {
    Box::pin(async move {
        let owned = business
            .owned_assets::<K>()
            .max_pages(pages)
            .collect(MAX_ITEMS)
            .await?;
        Ok(owned
            .into_iter()
            .map(|o| K::asset_ref(sealed::Owned::into_id(o)))
            .collect())
    })
}

fn held_by<K: AssetKind>(
    user: SystemUserHandler,
    pages: u32,
) -> Option<BoxFuture<'static, Result<Vec<Held>>>> {
    K::SYSTEM_USER_EDGE?;
    Some(Box::pin(async move {
        let held = user
            .assigned::<K>()
            .max_pages(pages)
            .collect(MAX_ITEMS)
            .await?;
        Ok(held
            .into_iter()
            .map(|a| (K::asset_ref(a.id), task_strings(&a.tasks)))
            .collect())
    }))
}

/// Assigns with tasks given as wire strings (from a spec or a plan), through the typed handler.
pub(crate) struct AssignTasks<'a> {
    pub(crate) user: &'a SystemUserId,
    pub(crate) tasks: &'a [String],
}

impl KindVisitor for AssignTasks<'_> {
    type Output = BoxFuture<'static, Result<()>>;
    fn visit<K: AssetKind>(self, handler: AssetHandler<K>) -> Self::Output {
        let request = handler.assign(self.user, self.tasks.iter().map(|t| K::Task::parse(t)));
        Box::pin(request.send())
    }
}

/// Removes an assignment through the typed handler.
pub(crate) struct UnassignUser<'a>(pub(crate) &'a SystemUserId);

impl KindVisitor for UnassignUser<'_> {
    type Output = BoxFuture<'static, Result<()>>;
    fn visit<K: AssetKind>(self, handler: AssetHandler<K>) -> Self::Output {
        Box::pin(handler.unassign(self.0).send())
    }
}

/// Reads who holds the asset, with their tasks, through the typed handler, reading at most
/// this many pages.
pub(crate) struct HeldBy(pub(crate) BusinessId, pub(crate) u32);

impl KindVisitor for HeldBy {
    type Output = BoxFuture<'static, Result<Vec<(String, Vec<String>)>>>;
    fn visit<K: AssetKind>(self, handler: AssetHandler<K>) -> Self::Output {
        Box::pin(async move {
            let users = handler
                .assigned_users(self.0)
                .max_pages(self.1)
                .collect(MAX_ITEMS)
                .await?;
            Ok(users
                .into_iter()
                .map(|u| (u.id, task_strings(&u.tasks)))
                .collect())
        })
    }
}

/// The table: each kind once, with its [`AssetRef`] variant and id type.
macro_rules! kinds {
    ($( $(#[$doc:meta])* $variant:ident($id:ty) => $marker:ty, )+) => {
        /// A reference to any asset a system user can be assigned to, tagged by kind: an
        /// asset known only at run time (from a spec file, a database, a plan).
        ///
        /// Serialized as `{"kind": "ad_account", "id": "act_42"}`; the kind is the key of
        /// spec files (`ad_account`, `page`, `catalog`, `pixel`, `instagram`, `whatsapp`,
        /// `business_asset_group`).
        ///
        /// ```
        /// use meta_business::AdAccountId;
        /// use meta_business::asset::AssetRef;
        /// let asset = AssetRef::AdAccount(AdAccountId::from("3000000000001"));
        /// assert_eq!(asset.id(), "act_3000000000001");
        /// assert_eq!(asset.kind_name(), "ad account");
        /// assert!(asset.validate().is_ok());
        /// assert_eq!(AssetRef::parse("page", "4000000000001")?, AssetRef::Page("4000000000001".into()));
        /// # Ok::<(), meta_business::Error>(())
        /// ```
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum AssetRef {
            $( $(#[$doc])* $variant($id), )+
        }

        /// Every kind, in the table's order.
        pub(crate) const KINDS: &[KindInfo] = &[ $( KindInfo::of::<$marker>(), )+ ];

        impl AssetRef {
            /// The asset's id as used in paths.
            pub fn id(&self) -> &str {
                match self {
                    $( AssetRef::$variant(id) => sealed::AssetId::wire(id), )+
                }
            }

            /// The kind's key, as in spec files and the serialized form (`ad_account`, `page`, …).
            pub fn kind(&self) -> &'static str {
                self.info().key
            }

            /// The kind in words, for messages (`ad account`, `Page`, …).
            pub fn kind_name(&self) -> &'static str {
                self.info().name
            }

            /// Checks the id's form.
            ///
            /// # Errors
            /// [`Error::InvalidInput`] naming the id field.
            pub fn validate(&self) -> Result<()> {
                match self {
                    $( AssetRef::$variant(id) => sealed::AssetId::check(id), )+
                }
            }

            /// Calls `visitor` with this asset's typed handler: the way from an asset known at
            /// run time to the compile-time API (tasks of the right enum, the kind's rules).
            ///
            /// ```
            /// use meta_business::{AssetHandler, AssetKind};
            /// use meta_business::asset::{AssetRef, KindVisitor};
            ///
            /// /// Every task a kind accepts, as the crate's enum for it knows them.
            /// struct TaskCount;
            /// impl KindVisitor for TaskCount {
            ///     type Output = usize;
            ///     fn visit<K: AssetKind>(self, _handler: AssetHandler<K>) -> usize {
            ///         <K::Task as meta_business::Task>::known().len()
            ///     }
            /// }
            ///
            /// let client = meta_business::Client::builder().access_token("EAAB...").build()?;
            /// let from_a_database = AssetRef::parse("pixel", "6000000000001")?;
            /// assert_eq!(from_a_database.visit(&client, TaskCount), 5);
            /// # Ok::<(), meta_business::Error>(())
            /// ```
            pub fn visit<V: KindVisitor>(&self, client: &Client, visitor: V) -> V::Output {
                match self {
                    $( AssetRef::$variant(id) => visitor.visit(AssetHandler::<$marker>::new(client.clone(), id.clone())), )+
                }
            }

            pub(crate) fn info(&self) -> &'static KindInfo {
                match self {
                    $( AssetRef::$variant(_) => const { &KindInfo::of::<$marker>() }, )+
                }
            }
        }
    };
}

kinds! {
    /// An ad account.
    AdAccount(crate::AdAccountId) => AdAccount,
    /// A Facebook Page.
    Page(crate::PageId) => Page,
    /// A product catalog.
    Catalog(crate::CatalogId) => Catalog,
    /// A pixel / dataset.
    Pixel(crate::PixelId) => Pixel,
    /// An Instagram business asset.
    Instagram(crate::InstagramAssetId) => Instagram,
    /// A WhatsApp Business Account.
    WhatsApp(crate::WhatsAppBusinessAccountId) => WhatsApp,
    /// A business asset group.
    BusinessAssetGroup(crate::BusinessAssetGroupId) => BusinessAssetGroup,
}

impl AssetRef {
    /// An asset from its kind's key (`ad_account`, `page`, `catalog`, `pixel`, `instagram`,
    /// `whatsapp`, `business_asset_group`) and its id, both checked.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an unknown kind (naming the known ones) or a malformed id.
    pub fn parse(kind: &str, id: &str) -> Result<AssetRef> {
        match KINDS.iter().find(|k| k.key == kind) {
            Some(info) => (info.parse)(id),
            None => Err(Error::invalid_input(
                "kind",
                format!("{kind:?} is not an asset kind; one of {}", kind_keys()),
            )),
        }
    }

    /// The task values the Graph API accepts for this asset's kind.
    pub(crate) fn known_tasks(&self) -> Vec<&'static str> {
        (self.info().tasks)()
    }
}

/// The kinds' keys, for messages: `ad_account, page, …, whatsapp`.
pub(crate) fn kind_keys() -> String {
    KINDS.iter().map(|k| k.key).collect::<Vec<_>>().join(", ")
}

#[derive(Serialize, Deserialize)]
struct Tagged<'a> {
    kind: std::borrow::Cow<'a, str>,
    id: std::borrow::Cow<'a, str>,
}

impl Serialize for AssetRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        Tagged {
            kind: self.kind().into(),
            id: self.id().into(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for AssetRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let tagged = Tagged::deserialize(d)?;
        // `whats_app`: the form 0.1 wrote.
        let kind = if tagged.kind == "whats_app" {
            "whatsapp"
        } else {
            &tagged.kind
        };
        AssetRef::parse(kind, &tagged.id).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_and_the_markers_agree() {
        let keys: Vec<&str> = KINDS.iter().map(|k| k.key).collect();
        assert_eq!(
            keys,
            [
                "ad_account",
                "page",
                "catalog",
                "pixel",
                "instagram",
                "whatsapp",
                "business_asset_group"
            ]
        );
        for info in KINDS {
            let tasks = (info.tasks)();
            let asset = (info.parse)("1000000000042").expect("a numeric id fits every kind");
            assert_eq!(asset.kind(), info.key);
            assert_eq!(asset.known_tasks(), tasks);
            // Kinds without a system-user edge are the ones the readers scan asset by asset.
            assert_eq!(
                info.system_user_edge.is_none(),
                matches!(asset, AssetRef::Pixel(_) | AssetRef::Instagram(_))
            );
        }
    }

    #[test]
    fn asset_refs_round_trip_through_json() {
        for info in KINDS {
            let asset = (info.parse)("1000000000042").unwrap();
            let json = serde_json::to_string(&asset).unwrap();
            assert_eq!(serde_json::from_str::<AssetRef>(&json).unwrap(), asset);
        }
        let old: AssetRef = serde_json::from_str(r#"{"kind":"whats_app","id":"8"}"#).unwrap();
        assert_eq!(old.kind(), "whatsapp");
        assert!(serde_json::from_str::<AssetRef>(r#"{"kind":"page","id":"x"}"#).is_err());
        assert!(
            AssetRef::parse("story", "1")
                .unwrap_err()
                .to_string()
                .contains("ad_account, page")
        );
    }
}
