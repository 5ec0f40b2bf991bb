//! The `TokenStore` implementation (waits for the versioned store contract).
