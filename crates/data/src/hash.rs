//! FNV-1a 64: a stable hash for cache keys. `std`'s hasher is randomly seeded and may change
//! between Rust versions, which would silently invalidate (or worse, alias) caches.

pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
