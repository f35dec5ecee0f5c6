//! The one hash of the crate: keys of bodies without an id, FIFO ids, long keys made short.

/// Lowercase hex SHA-256, the key for providers whose payload carries no id.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    // Through a buffer: `hex::encode` builds its string a `char` at a time, which cost more
    // than the hash itself for an id of a few dozen bytes (hot_path profile, BENCHMARKS.md).
    let mut text = [0; 64];
    hex::encode_to_slice(Sha256::digest(bytes), &mut text).expect("32 bytes are 64 hex digits");
    String::from_utf8(text.to_vec()).expect("hex digits are ASCII")
}
