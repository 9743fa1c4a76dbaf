//! Published vectors: RFC 9901's example disclosures and digests (section 4.2.1 `family_name`
//! "Möbius", also in `../shared/vectors/README.md`; section 4.2.2 array element "FR"; section
//! 5.1 `given_name` "John"), RFC 8037 appendix A.4's Ed25519 JWS, and the Token Status List
//! draft's two example lists (section 4.1: 1 bit `eNrbuRgAAhcBXQ`, 2 bits `eNo76fITAAPfAgc`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use identity::jws::{self, CREDENTIAL};
use identity::{Disclosure, IdentityError, Status, StatusList, sha256_b64};
use serde_json::json;

#[test]
fn rfc9901_object_member_disclosure() {
    let text = "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0";
    let disclosure = Disclosure::parse(text, 0).unwrap();
    assert_eq!(disclosure.digest(), "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0");
    assert_eq!(disclosure.salt(), "_26bc4LT-ac6q2KI6cBW5es");
    assert_eq!(disclosure.name(), Some("family_name"));
    assert_eq!(disclosure.value(), &json!("Möbius"));
    // The RFC's point: the same claim encoded with a JSON escape is another disclosure with
    // another digest, because the digest is over the text as sent.
    let escaped = "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNXHUwMGY2Yml1cyJd";
    let other = Disclosure::parse(escaped, 0).unwrap();
    assert_eq!(other.value(), disclosure.value());
    assert_ne!(other.digest(), disclosure.digest());
}

#[test]
fn rfc9901_array_element_and_given_name_disclosures() {
    let fr = Disclosure::parse("WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIkZSIl0", 0).unwrap();
    assert_eq!(fr.digest(), "w0I8EKcdCtUPkGCNUrfwVp2xEgNjtoIDlOxc9-PlOhs");
    assert_eq!(
        (fr.salt(), fr.name(), fr.value()),
        ("lklxF5jMYlGTPUovMNIvCA", None, &json!("FR"))
    );
    let john = Disclosure::parse(
        "WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3IiwgImdpdmVuX25hbWUiLCAiSm9obiJd",
        0,
    )
    .unwrap();
    assert_eq!(john.digest(), "jsu9yVulwQQlhFlM_3JlzMaSFzglhQG0DpfayQwLUK4");
    assert_eq!(john.name(), Some("given_name"));
    // We encode without spaces; the digest is still SHA-256 over our text.
    let ours = Disclosure::with_salt("2GLC42sKQveCfGfryNRN9w".into(), Some("given_name"), json!("John"));
    assert_eq!(Disclosure::parse(ours.encoded(), 0).unwrap(), ours);
    assert_eq!(ours.digest(), sha256_b64(ours.encoded()));
}

#[test]
fn rfc8037_ed25519_jws() {
    let d = URL_SAFE_NO_PAD
        .decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
        .unwrap();
    let key = SigningKey::from_bytes(&d.try_into().unwrap());
    assert_eq!(
        URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes()),
        "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    );
    let expected = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
    assert_eq!(
        jws::sign_parts(br#"{"alg":"EdDSA"}"#, b"Example of Ed25519 signing", &key),
        expected
    );
    let parsed = jws::parse(expected, 1024, CREDENTIAL).unwrap();
    parsed.verify(&key.verifying_key()).unwrap();
    assert_eq!(parsed.payload(), b"Example of Ed25519 signing");
    // The vector has no typ: a caller expecting one refuses it.
    assert!(matches!(
        parsed.expect_typ(jws::TYP_KB_JWT, &[]),
        Err(IdentityError::WrongTyp { found: None, .. })
    ));
}

#[test]
fn token_status_list_draft_examples() {
    let one = StatusList::from_lst(1, "eNrbuRgAAhcBXQ").unwrap();
    assert_eq!(one.as_bytes(), &[0xb9, 0xa3]);
    let expected_one = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1];
    for (idx, value) in expected_one.iter().enumerate() {
        assert_eq!(one.get(idx).unwrap(), Status::from_value(*value), "entry {idx}");
    }
    let two = StatusList::from_lst(2, "eNo76fITAAPfAgc").unwrap();
    assert_eq!(two.as_bytes(), &[0xc9, 0x44, 0xf9]);
    let expected_two = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3];
    for (idx, value) in expected_two.iter().enumerate() {
        assert_eq!(two.get(idx).unwrap(), Status::from_value(*value), "entry {idx}");
    }
    // Built from the statuses, the lists compress to the draft's exact text.
    let mut built = StatusList::new(2, 12).unwrap();
    for (idx, value) in expected_two.iter().enumerate() {
        built.set(idx, Status::from_value(*value)).unwrap();
    }
    assert_eq!(built.to_lst(), "eNo76fITAAPfAgc");
    assert_eq!(
        StatusList::from_bytes(1, vec![0xb9, 0xa3]).unwrap().to_lst(),
        "eNrbuRgAAhcBXQ"
    );
}
