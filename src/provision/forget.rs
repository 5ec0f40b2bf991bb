//! Forgetting the stored tokens of a system user whose tokens are invalidated: only the
//! records read *before* the invalidation are removed, each at the version read, so that a
//! token another run (another replica) stored since is never deleted.

use crate::ids::{BusinessId, SystemUserId};
use crate::store::{Expect, Removed, StoreError, TokenKey, TokenStore, Version};

/// The records of one system user, as read before its tokens were invalidated.
#[derive(Debug, Default)]
pub(crate) struct Read(Vec<(TokenKey, Version)>);

/// What [`forget`] did.
#[derive(Debug, Default)]
pub(crate) struct Forgot {
    /// Removed: the record was still the one read.
    pub(crate) removed: Vec<TokenKey>,
    /// Left alone: written since it was read (a newer token, not invalidated by this run).
    pub(crate) changed: Vec<TokenKey>,
}

/// Reads the versions of every record of `id` in `business`. Call it before invalidating.
pub(crate) async fn read(
    store: &dyn TokenStore,
    business: &BusinessId,
    id: &SystemUserId,
) -> Result<Read, StoreError> {
    let mut read = Vec::new();
    for key in store.keys().await? {
        if &key.business == business
            && &key.system_user == id
            && let Some(found) = store.get(&key).await?
        {
            read.push((key, found.version));
        }
    }
    Ok(Read(read))
}

/// Removes every record of `read` that still holds the version read.
pub(crate) async fn forget(store: &dyn TokenStore, read: Read) -> Result<Forgot, StoreError> {
    let mut forgot = Forgot::default();
    for (key, version) in read.0 {
        match store.remove(&key, Expect::Version(version)).await? {
            Removed::Removed => forgot.removed.push(key),
            Removed::Conflict(found) if found.current.is_some() => forgot.changed.push(key),
            // Removed by another run meanwhile: nothing left to forget.
            _ => {}
        }
    }
    Ok(forgot)
}

/// The note for records left alone.
pub(crate) fn changed_note(changed: &[TokenKey]) -> Option<String> {
    (!changed.is_empty()).then(|| {
        let keys: Vec<String> = changed.iter().map(ToString::to_string).collect();
        format!(
            "left in the store, written by another run since they were read (a token newer than the invalidation): {}",
            keys.join(", ")
        )
    })
}
