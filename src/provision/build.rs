//! Building a desired state in code (for a service that keeps it in its own database), checked
//! exactly as a file is: the builders fill the file's form and `build` runs the same checks.

use std::collections::BTreeMap;

use super::error::Result;
use super::spec::{RawAsset, RawSpec, RawSystemUser, RawToken, Spec};
use crate::config::AccessTier;
use crate::ids::AppId;
use crate::kinds::Task;
use crate::kinds::ad_account::AdAccountId;
use crate::kinds::ad_account::AdAccountTask;
use crate::kinds::business_asset_group::{BusinessAssetGroupId, BusinessAssetGroupTask};
use crate::kinds::catalog::CatalogId;
use crate::kinds::catalog::CatalogTask;
use crate::kinds::instagram::InstagramAssetId;
use crate::kinds::instagram::InstagramTask;
use crate::kinds::page::PageId;
use crate::kinds::page::PageTask;
use crate::kinds::pixel::PixelId;
use crate::kinds::pixel::PixelTask;
use crate::kinds::whatsapp::WhatsAppBusinessAccountId;
use crate::kinds::whatsapp::WhatsAppTask;
use crate::kinds::{self as asset, AssetKind};
use crate::models::permissions::Permission;
use crate::models::system_user::SystemUserRole;

/// Builds a [`Spec`] in code; [`SpecBuilder::build`] checks it as [`Spec::from_toml_str`]
/// checks a file, with the same errors.
///
/// ```
/// use meta_business::provision::{Spec, SystemUserBuilder};
/// use meta_business::{AccessTier, AdAccountTask, PageTask, Permission};
///
/// let spec = Spec::builder("1000000000001")
///     .access_tier(AccessTier::Limited)
///     .system_user(
///         SystemUserBuilder::new("ads-reporting-server")
///             .app("2000000000001")
///             .ad_account("act_3000000000001", [AdAccountTask::Analyze])
///             .page("4000000000001", [PageTask::Analyze])
///             .token("2000000000001", [Permission::AdsRead]),
///     )
///     .build()?;
/// assert_eq!(spec.system_users[0].assets.len(), 2);
/// # Ok::<(), meta_business::provision::ProvisionError>(())
/// ```
#[derive(Default)]
#[must_use = "a builder does nothing until `.build()`"]
pub struct SpecBuilder {
    raw: RawSpec,
}

impl std::fmt::Debug for SpecBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpecBuilder")
            .field("business", &self.raw.business)
            .field("system_users", &self.raw.system_users.len())
            .finish_non_exhaustive()
    }
}

impl Spec {
    /// A desired state for this business, built in code.
    pub fn builder(business: impl Into<String>) -> SpecBuilder {
        SpecBuilder {
            raw: RawSpec {
                business: business.into(),
                ..RawSpec::default()
            },
        }
    }
}

impl SpecBuilder {
    /// The business's access tier (sets the quota the plan is checked against).
    pub fn access_tier(mut self, tier: AccessTier) -> Self {
        self.raw.access_tier = Some(tier.as_str().to_owned());
        self
    }

    /// Removes assignments the spec does not list.
    pub fn prune(mut self, prune: bool) -> Self {
        self.raw.prune = prune;
        self
    }

    /// Adds a system user.
    pub fn system_user(mut self, user: SystemUserBuilder) -> Self {
        self.raw.system_users.push(user.raw);
        self
    }

    /// Checks everything and returns the spec.
    ///
    /// # Errors
    /// [`ProvisionError::InvalidSpec`](crate::provision::ProvisionError::InvalidSpec) naming the place, as for a file.
    pub fn build(self) -> Result<Spec> {
        self.raw.validate()
    }
}

/// One system user of a [`SpecBuilder`].
///
/// ```
/// use meta_business::provision::{Spec, SystemUserBuilder};
/// use meta_business::{CatalogTask, Permission, SystemUserRole, WhatsAppTask};
/// let feed = SystemUserBuilder::new("catalog-feed-uploader")
///     .role(SystemUserRole::Employee)
///     .app("2000000000001")
///     .catalog("5000000000001", [CatalogTask::Manage])
///     .whatsapp("8000000000001", [WhatsAppTask::ManageTemplates])
///     .token("2000000000001", [Permission::CatalogManagement])
///     .token_never_expires();
/// let spec = Spec::builder("1000000000001").system_user(feed).build()?;
/// assert_eq!(spec.system_users[0].assets.len(), 2);
/// # Ok::<(), meta_business::provision::ProvisionError>(())
/// ```
#[derive(Debug)]
#[must_use = "add it with `SpecBuilder::system_user`"]
pub struct SystemUserBuilder {
    raw: RawSystemUser,
    /// `token_never_expires` was called: kept apart so that it holds whether it comes before
    /// or after `token`.
    never_expires: bool,
}

impl SystemUserBuilder {
    /// A system user with this name (names identify system users).
    pub fn new(name: impl Into<String>) -> Self {
        SystemUserBuilder {
            raw: RawSystemUser {
                name: name.into(),
                ..RawSystemUser::default()
            },
            never_expires: false,
        }
    }

    /// Its role (default: a regular system user).
    pub fn role(mut self, role: SystemUserRole) -> Self {
        self.raw.role = Some(role.as_str().to_owned());
        self
    }

    /// An app to install for it.
    pub fn app(mut self, app: impl Into<AppId>) -> Self {
        self.raw.apps.push(app.into().as_str().to_owned());
        self
    }

    /// An asset of kind `K` with these tasks; [`SystemUserBuilder::ad_account`] and the others
    /// are this for one kind each.
    ///
    /// ```
    /// use meta_business::provision::{Spec, SystemUserBuilder};
    /// use meta_business::{PixelTask, asset};
    /// let user = SystemUserBuilder::new("conversions-uploader")
    ///     .asset::<asset::Pixel>("6000000000001", [PixelTask::Upload]);
    /// let spec = Spec::builder("1000000000001").system_user(user).build()?;
    /// assert_eq!(spec.system_users[0].assets[0].asset.kind(), "pixel");
    /// # Ok::<(), meta_business::provision::ProvisionError>(())
    /// ```
    pub fn asset<K: AssetKind>(
        mut self,
        id: impl Into<K::Id>,
        tasks: impl IntoIterator<Item = K::Task>,
    ) -> Self {
        let id = K::asset_ref(id.into()).id().to_owned();
        self.raw.assets.push(RawAsset {
            tasks: tasks.into_iter().map(|t| t.as_str().to_owned()).collect(),
            ids: BTreeMap::from([(K::KEY.to_owned(), id)]),
        });
        self
    }

    /// An ad account with these tasks.
    pub fn ad_account(
        self,
        id: impl Into<AdAccountId>,
        tasks: impl IntoIterator<Item = AdAccountTask>,
    ) -> Self {
        self.asset::<asset::AdAccount>(id, tasks)
    }

    /// A Page with these tasks.
    pub fn page(self, id: impl Into<PageId>, tasks: impl IntoIterator<Item = PageTask>) -> Self {
        self.asset::<asset::Page>(id, tasks)
    }

    /// A product catalog with these tasks.
    pub fn catalog(
        self,
        id: impl Into<CatalogId>,
        tasks: impl IntoIterator<Item = CatalogTask>,
    ) -> Self {
        self.asset::<asset::Catalog>(id, tasks)
    }

    /// A pixel with these tasks.
    pub fn pixel(self, id: impl Into<PixelId>, tasks: impl IntoIterator<Item = PixelTask>) -> Self {
        self.asset::<asset::Pixel>(id, tasks)
    }

    /// An Instagram business asset with these tasks.
    pub fn instagram(
        self,
        id: impl Into<InstagramAssetId>,
        tasks: impl IntoIterator<Item = InstagramTask>,
    ) -> Self {
        self.asset::<asset::Instagram>(id, tasks)
    }

    /// A WhatsApp Business Account with these tasks.
    pub fn whatsapp(
        self,
        id: impl Into<WhatsAppBusinessAccountId>,
        tasks: impl IntoIterator<Item = WhatsAppTask>,
    ) -> Self {
        self.asset::<asset::WhatsApp>(id, tasks)
    }

    /// A business asset group with these tasks (each names its asset type:
    /// `BusinessAssetGroupTask::PageAnalyze` is `PAGE:ANALYZE`).
    pub fn business_asset_group(
        self,
        id: impl Into<BusinessAssetGroupId>,
        tasks: impl IntoIterator<Item = BusinessAssetGroupTask>,
    ) -> Self {
        self.asset::<asset::BusinessAssetGroup>(id, tasks)
    }

    /// The token it should have, for one of its apps (expiring after 60 days unless
    /// [`SystemUserBuilder::token_never_expires`], called before or after this).
    pub fn token(
        mut self,
        app: impl Into<AppId>,
        scopes: impl IntoIterator<Item = Permission>,
    ) -> Self {
        self.raw.token = Some(RawToken {
            app: app.into().as_str().to_owned(),
            scopes: scopes.into_iter().map(|s| s.as_str().to_owned()).collect(),
            expires_in_60_days: !self.never_expires,
        });
        self
    }

    /// Lets an admin system user hold the assets given (refused otherwise: admins should only
    /// administer).
    pub fn allow_admin_assets(mut self) -> Self {
        self.raw.allow_admin_assets = true;
        self
    }

    /// Makes its token one that does not expire (not recommended; see the audit), whether
    /// [`SystemUserBuilder::token`] is called before or after this.
    pub fn token_never_expires(mut self) -> Self {
        self.never_expires = true;
        if let Some(token) = self.raw.token.as_mut() {
            token.expires_in_60_days = false;
        }
        self
    }
}
