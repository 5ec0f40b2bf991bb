//! The names almost every program uses, for `use meta_business::prelude::*;`: the client, the
//! error, the tier, the permissions and task enums, and the traits whose methods a program
//! calls ([`TokenStore`], [`ExposeSecret`]) or whose constants it reads ([`AssetKind`]).
//!
//! ```
//! use meta_business::prelude::*;
//!
//! fn least_privilege() -> (Permission, AdAccountTask, AccessTier) {
//!     (Permission::AdsRead, AdAccountTask::Analyze, AccessTier::Limited)
//! }
//! # let _ = least_privilege();
//! # let _: Option<Result<Client>> = None;
//! # let _: Option<Error> = None;
//! ```

#[doc(no_inline)]
pub use crate::store::TokenStore;
#[doc(no_inline)]
pub use crate::{
    AccessTier, AdAccountTask, AssetKind, CatalogTask, Client, Error, ExposeSecret, InstagramTask,
    PageTask, Permission, PixelTask, Result, SystemUserRole, Task, WhatsAppTask,
};
