//! The one hash of the crate: keys of bodies without an id, FIFO ids, long keys made short.

/// Lowercase hex SHA-256, the key for providers whose payload carries no id.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}
