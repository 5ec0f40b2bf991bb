//! The per-request timeout of each of the token builders.

use std::time::Duration;

use super::{BusinessSystemUserToken, DebugToken, GenerateToken, RefreshToken, RevokeToken};

impl GenerateToken {
    /// Per-request timeout, overriding the client's.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.core.timeout = Some(timeout);
        self
    }
}

impl BusinessSystemUserToken {
    /// Per-request timeout, overriding the client's.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.core.timeout = Some(timeout);
        self
    }
}

impl DebugToken {
    /// Per-request timeout, overriding the client's.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.core.timeout = Some(timeout);
        self
    }
}

impl RefreshToken {
    /// Per-request timeout, overriding the client's.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.call.core.timeout = Some(timeout);
        self
    }
}

impl RevokeToken {
    /// Per-request timeout, overriding the client's.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.call.core.timeout = Some(timeout);
        self
    }
}
