//! The Secret Service's encrypted transfer, `dh-ietf1024-sha256-aes128-cbc-pkcs7` (Secret Service
//! API, "Transfer of Secrets"): a Diffie-Hellman agreement in the second Oakley group (RFC 2409
//! section 6.2: the 1024-bit MODP prime, generator 2), HKDF-SHA256 of the shared value (no salt,
//! no info) to a 16-byte key, then AES-128-CBC with PKCS#7 padding and a fresh IV per secret.
//!
//! The exponentiations are crypto-bigint's constant-time Montgomery ladder over a compile-time
//! modulus: the time depends on the exponent's fixed width, never on its value. Our private
//! exponent is 256 random bits. The group is a safe-prime group (p = 2q + 1, q prime), where an
//! exponent of twice the security level is the standing advice (RFC 7919 section 5.2, RFC 3526
//! section 8); a 1024-bit group gives about 80 bits, so 256 bits costs the attacker more than the
//! group itself does, and makes each exponentiation four times cheaper than a full-width one.
//! The server's public value is checked to lie in [2, p - 2] (not 0, 1 or p - 1, the values that
//! would force a known shared secret).

use crypto_bigint::modular::ConstMontyForm;
use crypto_bigint::{U256, U1024, const_monty_params};
use zeroize::{Zeroize, Zeroizing};

/// RFC 2409 section 6.2, "Second Oakley Group": 2^1024 - 2^960 - 1 + 2^64 * { [2^894 pi] + 129093 }.
const PRIME_HEX: &str = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74\
                         020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437\
                         4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED\
                         EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF";

const_monty_params!(
    Oakley2,
    U1024,
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
    "The second Oakley group's prime (RFC 2409 section 6.2)"
);

type Element = ConstMontyForm<Oakley2, { U1024::LIMBS }>;

/// The spec's name for this transfer, as `OpenSession` takes it.
pub(super) const ALGORITHM: &str = "dh-ietf1024-sha256-aes128-cbc-pkcs7";

/// Bytes of a group element (and of the shared secret fed to HKDF, zero-padded on the left).
const ELEMENT_BYTES: usize = 128;

/// What went wrong in the agreement or the decryption (never any key material).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum CryptoError {
    /// The service's public value is not a usable group element.
    BadPublicKey,
    /// The ciphertext did not decrypt (wrong key, bad padding, bad IV length).
    Decrypt,
    /// The system's random number generator failed.
    Random,
}

impl std::fmt::Display for CryptoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CryptoError::BadPublicKey => "the Secret Service sent an unusable public key",
            CryptoError::Decrypt => "a secret from the Secret Service did not decrypt",
            CryptoError::Random => "the system's random number generator failed",
        })
    }
}

/// Our half of the agreement: a private exponent and the public value to send.
pub(super) struct Keypair {
    private: Zeroizing<[u8; 32]>,
    /// g^x mod p, big-endian without leading zero bytes (what the store crate sent, and what
    /// gnome-keyring and libsecret accept).
    pub(super) public: Vec<u8>,
}

/// The agreed AES-128 key.
pub(super) struct SessionKey(Zeroizing<[u8; 16]>);

impl Keypair {
    pub(super) fn generate() -> Result<Keypair, CryptoError> {
        let mut private = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut private[..]).map_err(|_| CryptoError::Random)?;
        // An all-zero (or one) exponent would publish 1 (or g): draw again. Chance 2^-255.
        if private[..31].iter().all(|&b| b == 0) && private[31] <= 1 {
            return Keypair::generate();
        }
        Ok(Keypair::from_private(private))
    }

    fn from_private(private: Zeroizing<[u8; 32]>) -> Keypair {
        let public = pow(&Element::new(&U1024::from_u8(2)), &private);
        let bytes = public.retrieve().to_be_bytes();
        let first = bytes
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(bytes.len() - 1);
        Keypair {
            private,
            public: bytes[first..].to_vec(),
        }
    }

    /// The key both sides derive from the service's public value `theirs` (big-endian).
    pub(super) fn agree(&self, theirs: &[u8]) -> Result<SessionKey, CryptoError> {
        let y = element(theirs)?;
        let mut shared = pow(&Element::new(&y), &self.private).retrieve();
        let mut ikm = Zeroizing::new([0u8; ELEMENT_BYTES]);
        ikm.copy_from_slice(&shared.to_be_bytes());
        shared.zeroize();
        let mut key = Zeroizing::new([0u8; 16]);
        hkdf::Hkdf::<sha2::Sha256>::new(None, &ikm[..])
            .expand(&[], &mut key[..])
            .map_err(|_| CryptoError::BadPublicKey)?;
        Ok(SessionKey(key))
    }
}

impl SessionKey {
    /// AES-128-CBC-PKCS7 decryption of one secret; the caller zeroizes the result.
    pub(super) fn decrypt(&self, iv: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        use aes::cipher::block_padding::Pkcs7;
        use aes::cipher::{BlockModeDecrypt, KeyIvInit};
        cbc::Decryptor::<aes::Aes128>::new_from_slices(&self.0[..], iv)
            .map_err(|_| CryptoError::Decrypt)?
            .decrypt_padded_vec::<Pkcs7>(ciphertext)
            .map_err(|_| CryptoError::Decrypt)
    }

    /// The inverse, for tests (gocred's writes still go through the store crate).
    #[cfg(test)]
    pub(super) fn encrypt(&self, iv: &[u8], plaintext: &[u8]) -> Vec<u8> {
        use aes::cipher::block_padding::Pkcs7;
        use aes::cipher::{BlockModeEncrypt, KeyIvInit};
        cbc::Encryptor::<aes::Aes128>::new_from_slices(&self.0[..], iv)
            .expect("BUG: key and IV lengths are fixed")
            .encrypt_padded_vec::<Pkcs7>(plaintext)
    }
}

/// `base` to the power of a 256-bit big-endian exponent, in constant time.
fn pow(base: &Element, exponent: &[u8; 32]) -> Element {
    let mut e = U256::from_be_slice(exponent);
    let r = base.pow(&e);
    e.zeroize();
    r
}

/// A public value received from the service, checked: 2 <= y <= p - 2.
fn element(bytes: &[u8]) -> Result<U1024, CryptoError> {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    let significant = &bytes[first..];
    if significant.len() > ELEMENT_BYTES {
        return Err(CryptoError::BadPublicKey);
    }
    let mut padded = [0u8; ELEMENT_BYTES];
    padded[ELEMENT_BYTES - significant.len()..].copy_from_slice(significant);
    let mut p_minus_one = prime_bytes();
    p_minus_one[ELEMENT_BYTES - 1] -= 1; // p ends in 0xFF: no borrow
    let mut two = [0u8; ELEMENT_BYTES];
    two[ELEMENT_BYTES - 1] = 2;
    // Big-endian arrays of one length compare as the numbers do (public values: no secret).
    if padded < two || padded >= p_minus_one {
        return Err(CryptoError::BadPublicKey);
    }
    Ok(U1024::from_be_slice(&padded))
}

fn prime_bytes() -> [u8; ELEMENT_BYTES] {
    let mut out = [0u8; ELEMENT_BYTES];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte =
            u8::from_str_radix(&PRIME_HEX[2 * i..2 * i + 2], 16).expect("BUG: the prime is hex");
    }
    out
}

#[cfg(test)]
mod tests {
    //! Known answers computed independently with Python's integers and hmac module:
    //! `a = int(sha256(b"gocred dh test a"))`, `A = pow(2, a, p)`, `S = pow(B, a, p)`,
    //! `K = HKDF-SHA256(salt = none, ikm = S as 128 bytes, info = "")[:16]`.

    use super::*;
    use crypto_bigint::modular::ConstMontyParams;

    const A: &str = "26bc83b5d767e5a6bafb3c8ad5d46fbaf940b36d65c748514f42ed0657161fee";
    const B: &str = "23c31f0b0fb9118734a904305b720447b025bd876017aa249e7974881418911e";
    const PUB_A: &str = "c89c391b8fd596a89ae14053f5727a7d20527eb1c0332919568f297e797cb723\
                         155f466b9bfd4c42b30e198d953a04e7b711d1912d56c90990e414f548571db5\
                         26dcdee901e89b145fa6f45787f7f4b830095ebced678216c15f1f67ad5b8f37\
                         bd1151c1dc810bfd28b502f9e0181173bb1b23790cbcc3161581534f34a80b3e";
    const PUB_B: &str = "3def2cf84747aea6bc491f0294e745972da68f3e27258519be459abe7e711b33\
                         d06d630df90ea44c8df918009b8fa14177640f2420f72db059ff9769ad283dc0\
                         0c0af1086f45b1fea9073e74e0407b3937a52a17875ee4d34be58a1229faf4a7\
                         3553630b94d5541ea859ca602a863005560d37e164577c9c9e6398bab64362cf";
    const SHARED: &str = "1c2ac9b35da87463796cb4e7d7b47238abba0a4be8666ccdf0f254be81ea20b8\
                          d8d0bce406354d34073d9e79f502d00cf90080135128abe3505d7879e48efd06\
                          c506a5ed6817df6bf649fd1b61a314d4fccf95f9e92d5803938d5573a2ce7043\
                          d81559e0b7eea6f7789e1e3c789130147cc79b0f95f8e1f0c3c6f2d4b927cda2";
    const KEY: &str = "95c2bbcd669c8ec0d37cb98d3ec2844b";

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn keypair(private: &str) -> Keypair {
        let mut x = Zeroizing::new([0u8; 32]);
        x.copy_from_slice(&hex(private));
        Keypair::from_private(x)
    }

    #[test]
    fn dh_exponentiation_matches_known_answers_for_the_rfc2409_group() {
        let (a, b) = (keypair(A), keypair(B));
        assert_eq!(a.public, hex(PUB_A));
        assert_eq!(b.public, hex(PUB_B));
        // Both directions agree on the shared value, and on the key HKDF derives from it.
        for (ours, theirs) in [(&a, PUB_B), (&b, PUB_A)] {
            let y = element(&hex(theirs)).unwrap();
            let mut x = [0u8; 32];
            x.copy_from_slice(&ours.private[..]);
            let shared = pow(&Element::new(&y), &x).retrieve();
            assert_eq!(shared.to_be_bytes().to_vec(), hex(SHARED));
            assert_eq!(ours.agree(&hex(theirs)).unwrap().0.to_vec(), hex(KEY));
        }
    }

    #[test]
    fn the_modulus_is_the_rfc2409_second_oakley_prime_and_2_generates_its_prime_subgroup() {
        let p = prime_bytes();
        assert_eq!(
            U1024::from_be_slice(&p),
            *Oakley2::PARAMS.modulus().as_ref()
        );
        // p = 2q + 1 with q prime; 2 is a quadratic residue (p = 7 mod 8), so 2^q = 1 mod p, and
        // a value of order 2 (p - 1) is not in the subgroup: the full-width ladder agrees.
        let q = U1024::from_be_slice(&p).shr_vartime(1);
        let two = Element::new(&U1024::from_u8(2));
        assert_eq!(two.pow(&q).retrieve(), U1024::ONE);
        let mut p_minus_one = p;
        p_minus_one[ELEMENT_BYTES - 1] -= 1;
        let minus_one = Element::new(&U1024::from_be_slice(&p_minus_one));
        assert_eq!(
            minus_one.pow(&q).retrieve(),
            U1024::from_be_slice(&p_minus_one)
        );
    }

    #[test]
    fn degenerate_public_values_are_refused() {
        let mut p = prime_bytes().to_vec();
        let kp = keypair(A);
        for bad in [
            vec![],
            vec![0],
            vec![1],
            vec![0, 0, 1],
            p.clone(),
            vec![1; 129],
        ] {
            assert_eq!(
                kp.agree(&bad).err(),
                Some(CryptoError::BadPublicKey),
                "{bad:?}"
            );
        }
        *p.last_mut().unwrap() -= 1; // p - 1
        assert_eq!(kp.agree(&p).err(), Some(CryptoError::BadPublicKey));
        *p.last_mut().unwrap() -= 1; // p - 2: allowed
        assert!(kp.agree(&p).is_ok());
        assert!(kp.agree(&[2]).is_ok());
    }

    #[test]
    fn a_fresh_keypair_round_trips_a_secret_and_a_wrong_key_does_not_decrypt() {
        let (ours, theirs) = (Keypair::generate().unwrap(), Keypair::generate().unwrap());
        assert_ne!(ours.public, theirs.public);
        let k1 = ours.agree(&theirs.public).unwrap();
        let k2 = theirs.agree(&ours.public).unwrap();
        assert_eq!(k1.0, k2.0);
        let iv = [7u8; 16];
        let sealed = k1.encrypt(&iv, b"scope=https://h\nusername=u\npassword=p\n\n");
        assert_eq!(sealed.len() % 16, 0);
        assert_eq!(
            k2.decrypt(&iv, &sealed).unwrap(),
            b"scope=https://h\nusername=u\npassword=p\n\n"
        );
        let other = Keypair::generate().unwrap().agree(&theirs.public).unwrap();
        assert_ne!(
            other.decrypt(&iv, &sealed).ok(),
            Some(b"scope=https://h\nusername=u\npassword=p\n\n".to_vec())
        );
        assert_eq!(
            k2.decrypt(&[0; 8], &sealed).err(),
            Some(CryptoError::Decrypt)
        );
    }
}
