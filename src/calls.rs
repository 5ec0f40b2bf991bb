//! The request builders the handlers return, other than the token ones (in
//! [`tokens`](crate::tokens)): set options, then `send().await`. Each comes from a method of a
//! handler ([`Client::business`](crate::Client::business),
//! [`Client::system_user`](crate::Client::system_user),
//! [`Client::ad_account`](crate::Client::ad_account), …); a program names them only to store
//! or pass a builder before sending it.

pub use crate::api::Call;
pub use crate::api::assignments::{Assign, Unassign};
pub use crate::api::businesses::CreateBusiness;
pub use crate::api::system_users::{
    CreateSystemUser, GetOrCreateSystemUser, GetOrCreated, QuotaRequest, RenameSystemUser,
};
pub use crate::api::tokens::Acknowledged;
