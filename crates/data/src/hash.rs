//! FNV-1a 64: a stable hash for cache keys. `std`'s hasher is randomly seeded and may change
//! between Rust versions, which would silently invalidate (or worse, alias) caches.

pub fn fnv1a64(bytes: &[u8]) -> u64 {
    fnv1a64_more(FNV_START, bytes)
}

/// The hash's starting state, for hashing in pieces with [`fnv1a64_more`].
pub const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// Continue a hash over more bytes (`fnv1a64(a ++ b) == fnv1a64_more(fnv1a64(a), b)`).
pub fn fnv1a64_more(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
