//! Properties: any subset of the disclosable claims presented verifies to exactly that subset,
//! and any single-character change of a presentation is refused.

mod common;

use common::*;
use identity::{SdJwt, verify_presentation};
use proptest::prelude::*;
use serde_json::{Value, json};

/// The top-level flat claims of the common request and their values.
const FLAT: [(&str, &str); 4] = [
    ("given_name", r#""Erika""#),
    ("family_name", r#""Mustermann""#),
    ("birthdate", r#""1964-08-12""#),
    ("age_over_18", "true"),
];

fn held() -> SdJwt {
    SdJwt::parse(&issue().sd_jwt).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_subset_verifies_to_exactly_that_subset(mask in 0u8..16, country in any::<bool>(), nationality in proptest::option::of(0usize..2), seed in any::<u64>()) {
        let issued = identity::Issuer::new(ISS, KID, issuer_key()).issue(&request(), &mut rng(seed)).unwrap();
        let held = SdJwt::parse(&issued.sd_jwt).unwrap();
        let mut paths: Vec<String> = FLAT.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, (n, _))| format!("/{n}")).collect();
        if country { paths.push("/address/country".into()); }
        if let Some(i) = nationality { paths.push(format!("/nationalities/{i}")); }
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let presentation = held.present(&refs, AUD, NONCE, now(), &holder_key()).unwrap();
        let verified = verify_presentation(&presentation, lookup, &expect()).unwrap();

        let mut expected = serde_json::Map::new();
        for (i, (name, value)) in FLAT.iter().enumerate() {
            if mask & (1 << i) != 0 { expected.insert((*name).into(), serde_json::from_str::<Value>(value).unwrap()); }
        }
        if country { expected.insert("address".into(), json!({"country": "DE"})); }
        let nationalities = match nationality { Some(0) => json!(["DE"]), Some(_) => json!(["FR"]), None => json!([]) };
        expected.insert("nationalities".into(), nationalities);
        expected.insert("resident_in_euro_area".into(), json!(true));
        prop_assert_eq!(verified.claims, expected);
    }

    #[test]
    fn any_single_character_change_is_refused(position in any::<prop::sample::Index>(), replacement in 0x21u8..0x7f) {
        let presentation = held().present(&["age_over_18", "/address/country"], AUD, NONCE, now(), &holder_key()).unwrap();
        let at = position.index(presentation.len());
        prop_assume!(presentation.as_bytes()[at] != replacement);
        let mut bytes = presentation.into_bytes();
        bytes[at] = replacement;
        let changed = String::from_utf8(bytes).unwrap();
        prop_assert!(verify_presentation(&changed, lookup, &expect()).is_err(), "accepted a change at {}", at);
    }
}
