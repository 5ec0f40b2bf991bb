//! System-user tokens beyond [`SystemUserToken`](crate::SystemUserToken): the builders that
//! mint, refresh, inspect and revoke them (from
//! [`SystemUserHandler`](crate::SystemUserHandler) and [`Client`](crate::Client)), what
//! `debug_token` says of a token, and the `appsecret_proof` that signs each call.
//!
//! Keeping tokens alive is [`keeper`](crate::keeper)'s work; where they are kept,
//! [`store`](crate::store)'s.

pub use crate::api::tokens::{
    BusinessSystemUserToken, DebugToken, GenerateToken, RefreshToken, RevokeToken, TokenEdge,
};
pub use crate::auth::{appsecret_proof, appsecret_proof_at};
pub use crate::models::token::{
    Expiry, GranularScope, RefreshedToken, TokenError, TokenInfo, TokenType,
};
