//! Session tokens: 32 lowercase hex characters, the shape the original design used.
//!
//! A token is MD5 over 32 bytes from the OS CSPRNG followed by the session id. The random bytes
//! carry the secret (MD5's 128-bit output keeps 128 bits of it); the session id only keeps the
//! original shape of the digest input. The token cannot be derived from the session id, and two
//! publishes of the same session never share a token.

use md5::{Digest, Md5};

use super::Error;

/// Length of a token in characters.
pub const TOKEN_LEN: usize = 32;

const RANDOM_BYTES: usize = 32;
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Mints a fresh token for a session.
pub fn mint(session_id: &[u8]) -> Result<String, Error> {
    let mut random = [0u8; RANDOM_BYTES];
    getrandom::fill(&mut random)
        .map_err(|e| Error::Connection(format!("the OS random source failed: {e}")))?;
    let digest = Md5::new().chain_update(random).chain_update(session_id).finalize();
    Ok(to_hex(&digest))
}

/// True when `candidate` has the shape of a token. Anything else is never sent to Redis.
pub fn is_well_formed(candidate: &[u8]) -> bool {
    candidate.len() == TOKEN_LEN && candidate.iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

/// Lowercase hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 0x0f) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn minted_tokens_are_32_lowercase_hex_characters() {
        let token = mint(b"abc").unwrap();
        assert_eq!(token.len(), TOKEN_LEN);
        assert!(is_well_formed(token.as_bytes()), "{token}");
    }

    #[test]
    fn the_same_session_never_gets_the_same_token_twice() {
        let tokens: HashSet<String> = (0..100_000).map(|_| mint(b"same").unwrap()).collect();
        assert_eq!(tokens.len(), 100_000);
    }

    #[test]
    fn a_token_is_not_the_digest_of_the_session_id() {
        let plain = to_hex(&Md5::digest(b"abc"));
        assert_ne!(mint(b"abc").unwrap(), plain);
    }

    #[test]
    fn rejects_anything_that_is_not_a_token() {
        let good = "0123456789abcdef0123456789abcdef";
        assert!(is_well_formed(good.as_bytes()));
        for bad in [
            "",
            "0123456789abcdef0123456789abcde",
            "0123456789abcdef0123456789abcdef0",
            "0123456789ABCDEF0123456789abcdef",
            "0123456789abcdef0123456789abcdeg",
            "0123456789abcdef0123456789abcd\r\n",
            "0123456789abcdef 123456789abcdef",
        ] {
            assert!(!is_well_formed(bad.as_bytes()), "{bad:?}");
        }
        assert!(!is_well_formed(&[b'a'; 1 << 20]));
        assert!(!is_well_formed(&[0xff; 32]));
    }
}
