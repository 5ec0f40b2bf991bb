//! Reading what a business looks like now: its system users, their assignments and apps, its
//! owned assets.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::client::Client;
use crate::error::Result;
use crate::ids::{AppId, BusinessId};
use crate::models::assets::AssetRef;
use crate::models::system_user::SystemUser;
use crate::models::tasks::Task;

/// The most items read from any one list.
const MAX_ITEMS: usize = 10_000;

/// Tasks per asset, for one system user.
pub(crate) type Assignments = BTreeMap<AssetRef, Vec<String>>;

/// The assets a business owns, by kind.
#[derive(Debug, Default, Clone)]
pub(crate) struct Owned {
    pub(crate) ad_accounts: Vec<AssetRef>,
    pub(crate) pages: Vec<AssetRef>,
    pub(crate) catalogs: Vec<AssetRef>,
    pub(crate) pixels: Vec<AssetRef>,
    pub(crate) instagram: Vec<AssetRef>,
    pub(crate) whatsapp: Vec<AssetRef>,
}

impl Owned {
    pub(crate) async fn read(client: &Client, business: &BusinessId) -> Result<Owned> {
        let biz = client.business(business.clone());
        Ok(Owned {
            ad_accounts: biz
                .owned_ad_accounts()
                .collect(MAX_ITEMS)
                .await?
                .into_iter()
                .map(|a| AssetRef::AdAccount(a.id))
                .collect(),
            pages: biz
                .owned_pages()
                .collect(MAX_ITEMS)
                .await?
                .into_iter()
                .map(|a| AssetRef::Page(a.id))
                .collect(),
            catalogs: biz
                .owned_product_catalogs()
                .collect(MAX_ITEMS)
                .await?
                .into_iter()
                .map(|a| AssetRef::Catalog(a.id))
                .collect(),
            pixels: biz
                .owned_pixels()
                .collect(MAX_ITEMS)
                .await?
                .into_iter()
                .map(|a| AssetRef::Pixel(a.id))
                .collect(),
            instagram: biz
                .owned_instagram_assets()
                .collect(MAX_ITEMS)
                .await?
                .into_iter()
                .map(|a| AssetRef::Instagram(a.id))
                .collect(),
            whatsapp: biz
                .owned_whatsapp_business_accounts()
                .collect(MAX_ITEMS)
                .await?
                .into_iter()
                .map(|a| AssetRef::WhatsApp(a.id))
                .collect(),
        })
    }

    /// Each kind's name and owned assets.
    pub(crate) fn by_kind(&self) -> [(&'static str, &[AssetRef]); 6] {
        [
            ("ad account", &self.ad_accounts),
            ("Page", &self.pages),
            ("product catalog", &self.catalogs),
            ("pixel", &self.pixels),
            ("Instagram asset", &self.instagram),
            ("WhatsApp Business Account", &self.whatsapp),
        ]
    }
}

fn names<T: Task>(tasks: &[T]) -> Vec<String> {
    tasks.iter().map(|t| t.as_str().to_owned()).collect()
}

/// Reads the assignments of system users: the edges a system user has (ad accounts, Pages,
/// catalogs, WhatsApp accounts), and for pixels and Instagram assets (which have no such
/// edge) each asset's `assigned_users`, read once per asset.
pub(crate) async fn assignments(
    client: &Client,
    business: &BusinessId,
    users: &[String],
    scanned: &BTreeSet<AssetRef>,
) -> Result<HashMap<String, Assignments>> {
    let mut out: HashMap<String, Assignments> = HashMap::new();
    for id in users {
        let su = client.system_user(id.as_str());
        let map = out.entry(id.clone()).or_default();
        for a in su.assigned_ad_accounts().collect(MAX_ITEMS).await? {
            map.insert(AssetRef::AdAccount(a.id), names(&a.tasks));
        }
        for a in su.assigned_pages().collect(MAX_ITEMS).await? {
            map.insert(AssetRef::Page(a.id), names(&a.tasks));
        }
        for a in su.assigned_product_catalogs().collect(MAX_ITEMS).await? {
            map.insert(AssetRef::Catalog(a.id), names(&a.tasks));
        }
        for a in su
            .assigned_whatsapp_business_accounts()
            .collect(MAX_ITEMS)
            .await?
        {
            map.insert(AssetRef::WhatsApp(a.id), names(&a.tasks));
        }
    }
    for asset in scanned {
        let assigned: Vec<(String, Vec<String>)> = match asset {
            AssetRef::Pixel(id) => client
                .pixel(id.clone())
                .assigned_users(business.clone())
                .collect(MAX_ITEMS)
                .await?
                .into_iter()
                .map(|u| (u.id, names(&u.tasks)))
                .collect(),
            AssetRef::Instagram(id) => client
                .instagram_asset(id.clone())
                .assigned_users(business.clone())
                .collect(MAX_ITEMS)
                .await?
                .into_iter()
                .map(|u| (u.id, names(&u.tasks)))
                .collect(),
            _ => continue,
        };
        for (user, tasks) in assigned {
            if let Some(map) = out.get_mut(&user) {
                map.insert(asset.clone(), tasks);
            }
        }
    }
    Ok(out)
}

/// The apps installed for a system user, or `None` when the Graph API will not say.
pub(crate) async fn installed_apps(client: &Client, id: &str) -> Result<Option<BTreeSet<AppId>>> {
    match client
        .system_user(id)
        .assigned_applications()
        .collect(MAX_ITEMS)
        .await
    {
        Ok(apps) => Ok(Some(apps.into_iter().map(|a| a.id).collect())),
        Err(err) if err.api_error().is_some() && !err.is_auth() && !err.is_transient() => {
            tracing::debug!(system_user = id, error = %err, "cannot read installed apps; installs will be ensured");
            Ok(None)
        }
        Err(err) => Err(err),
    }
}

/// Every system user of the business.
pub(crate) async fn system_users(
    client: &Client,
    business: &BusinessId,
) -> Result<Vec<SystemUser>> {
    client
        .business(business.clone())
        .system_users()
        .list()
        .collect(MAX_ITEMS)
        .await
}
