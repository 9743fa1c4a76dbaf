//! Issuer -> holder -> verifier, and every format-level refusal of issue 22's "bad input" list,
//! each with its own error.

mod common;

use common::*;
use ed25519_dalek::SigningKey;
use identity::jws::{self, KB_JWT};
use identity::sdjwt::key_binding;
use identity::{IdentityError, SdJwt, Status, StatusList, StatusListToken, verify_presentation};
use serde_json::json;

fn present(paths: &[&str]) -> String {
    let held = SdJwt::parse(&issue().sd_jwt).unwrap();
    held.present(paths, AUD, NONCE, now(), &holder_key()).unwrap()
}

fn verify(presentation: &str) -> Result<identity::VerifiedPresentation, IdentityError> {
    verify_presentation(presentation, lookup, &expect())
}

#[test]
fn a_presentation_discloses_exactly_what_was_chosen() {
    let issued = issue();
    let held = SdJwt::parse(&issued.sd_jwt).unwrap();
    held.verify_issuer(&issuer_key().verifying_key()).unwrap();
    assert_eq!(held.disclosable().count(), 9);
    assert_eq!(
        held.claims()["address"],
        json!({"locality": "Berlin", "country": "DE"})
    );
    assert_eq!(held.claims()["nationalities"], json!(["DE", "FR"]));

    let presentation = held
        .present(
            &["age_over_18", "/address/country", "/nationalities/1"],
            AUD,
            NONCE,
            now(),
            &holder_key(),
        )
        .unwrap();
    let verified = verify(&presentation).unwrap();
    assert_eq!(
        serde_json::Value::Object(verified.claims.clone()),
        json!({
            "age_over_18": true,
            "address": {"country": "DE"},
            "nationalities": ["FR"],
            "resident_in_euro_area": true,
        })
    );
    let mut disclosed = verified.disclosed.clone();
    disclosed.sort();
    assert_eq!(
        disclosed,
        ["/address", "/address/country", "/age_over_18", "/nationalities/1"]
    );
    assert_eq!(verified.iss, ISS);
    assert_eq!(verified.status.as_ref().map(|s| s.idx), Some(5));
    assert_eq!(verified.holder_key, holder_key().verifying_key());
    // Undisclosed values appear nowhere in the presentation.
    assert!(!presentation.contains("Mustermann"));
}

#[test]
fn nothing_disclosed_still_verifies() {
    let verified = verify(&present(&[])).unwrap();
    assert_eq!(
        serde_json::Value::Object(verified.claims),
        json!({"resident_in_euro_area": true, "nationalities": []})
    );
}

#[test]
fn tampered_extra_and_duplicated_disclosures_are_refused() {
    let held = SdJwt::parse(&issue().sd_jwt).unwrap();
    let chosen = held.select(&["age_over_18"]).unwrap();
    let bind = |presented: &str| {
        let kb = key_binding::sign(presented, AUD, NONCE, now(), &holder_key());
        format!("{presented}{kb}")
    };
    // A disclosure re-encoded with another value (what a holder lying about its age sends).
    let forged = identity::Disclosure::with_salt("abc".into(), Some("age_over_18"), json!(true));
    let tampered = format!("{chosen}{}~", forged.encoded());
    assert!(matches!(
        verify(&bind(&tampered)),
        Err(IdentityError::UnreferencedDisclosure { .. })
    ));
    // A disclosure from another credential.
    let other = issuer().issue(&request(), &mut rng(8)).unwrap();
    let extra = format!("{chosen}{}~", other.disclosures[0].encoded());
    assert!(matches!(
        verify(&bind(&extra)),
        Err(IdentityError::UnreferencedDisclosure { .. })
    ));
    // The same disclosure twice.
    let age = chosen.split('~').nth(1).unwrap();
    let twice = format!("{chosen}{age}~");
    assert!(matches!(
        verify(&bind(&twice)),
        Err(IdentityError::DuplicateDisclosure { .. })
    ));
    // Not a disclosure at all.
    let garbage = format!("{chosen}!!~");
    assert!(matches!(
        verify(&bind(&garbage)),
        Err(IdentityError::MalformedDisclosure { index: 1, .. })
    ));
    // A disclosure added after the key binding was signed.
    let after = present(&["age_over_18"]);
    let (presented, kb) = after.rsplit_once('~').unwrap();
    let smuggled = format!("{presented}~{}~{kb}", held.disclosures()[0].encoded());
    assert!(verify(&smuggled).is_err());
}

#[test]
fn key_binding_refusals() {
    let presentation = present(&["age_over_18"]);
    let wrong =
        |expect: identity::Expectations<'_>| verify_presentation(&presentation, lookup, &expect).unwrap_err();
    assert!(matches!(
        wrong(identity::Expectations {
            nonce: "other",
            ..expect()
        }),
        IdentityError::WrongNonce { .. }
    ));
    assert!(matches!(
        wrong(identity::Expectations {
            audience: "did:key:other",
            ..expect()
        }),
        IdentityError::WrongAudience { .. }
    ));
    let late = identity::Expectations {
        now: at(ISSUED_SECS + 3600 + 301),
        ..expect()
    };
    assert!(matches!(wrong(late), IdentityError::StaleKeyBinding { .. }));

    // Signed by another key than the credential's cnf key.
    let held = SdJwt::parse(&issue().sd_jwt).unwrap();
    let chosen = held.select(&["age_over_18"]).unwrap();
    let thief = SigningKey::from_bytes(&[9; 32]);
    let stolen = format!(
        "{chosen}{}",
        key_binding::sign(&chosen, AUD, NONCE, now(), &thief)
    );
    assert_eq!(
        verify(&stolen).unwrap_err(),
        IdentityError::BadSignature { token: KB_JWT }
    );
    assert_eq!(verify(&stolen).unwrap_err().code(), "key_binding_signature");
    // The holder cannot even build it with the wrong key.
    assert!(held.present(&[], AUD, NONCE, now(), &thief).is_err());
    // No key binding at all.
    assert_eq!(verify(&chosen).unwrap_err(), IdentityError::MissingKeyBinding);
    // sd_hash over other disclosures than those sent.
    let all = held.select(&["age_over_18", "given_name"]).unwrap();
    let mismatched = format!(
        "{chosen}{}",
        key_binding::sign(&all, AUD, NONCE, now(), &holder_key())
    );
    assert_eq!(verify(&mismatched).unwrap_err(), IdentityError::SdHashMismatch);
}

#[test]
fn credential_level_refusals() {
    let presentation = present(&["age_over_18"]);
    // Unknown issuer key (the lookup's own error comes back).
    let no_key = verify_presentation(
        &presentation,
        |q| {
            Err(IdentityError::IssuerKeyUnavailable {
                iss: q.iss.to_owned(),
                kid: None,
                reason: "deactivated".into(),
            })
        },
        &expect(),
    );
    assert!(matches!(no_key, Err(IdentityError::IssuerKeyUnavailable { .. })));
    // A key that is not the issuer's.
    let wrong_key = verify_presentation(&presentation, |_| Ok(holder_key().verifying_key()), &expect());
    assert_eq!(
        wrong_key.unwrap_err(),
        IdentityError::BadSignature {
            token: jws::CREDENTIAL
        }
    );
    // Expired and not yet valid.
    let expired = identity::Expectations {
        now: at(ISSUED_SECS + 366 * 86_400),
        ..expect()
    };
    assert!(matches!(
        verify_presentation(&presentation, lookup, &expired),
        Err(IdentityError::Expired { .. })
    ));
    let early = identity::Expectations {
        now: at(ISSUED_SECS - 3600),
        ..expect()
    };
    assert!(matches!(
        verify_presentation(&presentation, lookup, &early),
        Err(IdentityError::NotYetValid { .. })
    ));
    // Oversized.
    let huge = format!(
        "{presentation}{}",
        "A".repeat(identity::sdjwt::MAX_PRESENTATION_BYTES)
    );
    assert!(matches!(verify(&huge), Err(IdentityError::TooLarge { .. })));
    // alg none: the same claims, unsigned.
    let jwt = presentation.split('~').next().unwrap();
    let payload = jwt.split('.').nth(1).unwrap();
    let unsigned = presentation.replacen(jwt, &format!("eyJhbGciOiJub25lIn0.{payload}."), 1);
    assert_eq!(verify(&unsigned).unwrap_err(), IdentityError::AlgNone);
    // Malformed JWT.
    assert!(matches!(
        verify("not-a-jwt~kb"),
        Err(IdentityError::MalformedJws { .. })
    ));
}

#[test]
fn issuance_refuses_bad_requests() {
    let mut reserved = request();
    reserved.claims.insert("iss".into(), json!("did:example:evil"));
    assert!(matches!(
        issuer().issue(&reserved, &mut rng(1)),
        Err(IdentityError::InvalidRequest { .. })
    ));
    let mut nowhere = request();
    nowhere.disclosable.push("/no/such".into());
    assert!(matches!(
        issuer().issue(&nowhere, &mut rng(1)),
        Err(IdentityError::InvalidRequest { .. })
    ));
    let held = SdJwt::parse(&issue().sd_jwt).unwrap();
    assert!(matches!(
        held.select(&["resident_in_euro_area"]),
        Err(IdentityError::NoSuchDisclosure { .. })
    ));
}

#[test]
fn revoked_and_suspended_through_the_status_list() {
    let verified = verify(&present(&["age_over_18"])).unwrap();
    let status = verified.status.unwrap();
    let mut list = StatusList::new(2, 1024).unwrap();
    let mut token = StatusListToken::new(list.clone(), STATUS_URI, at(ISSUED_SECS));
    token.ttl = Some(300);
    let key_lookup = |_: &identity::IssuerKeyQuery<'_>| Ok(issuer_key().verifying_key());
    let check = |token: &StatusListToken| {
        let text = token.sign(KID, &issuer_key());
        let fetched = StatusListToken::verify(&text, key_lookup, &status.uri, now(), 60).unwrap();
        assert_eq!(fetched.ttl, Some(300));
        fetched.list.get(status.idx).unwrap().require_valid(status.idx)
    };
    assert_eq!(check(&token), Ok(()));
    list.set(status.idx, Status::Suspended).unwrap();
    token.list = list.clone();
    assert_eq!(check(&token), Err(IdentityError::Suspended { idx: 5 }));
    list.set(status.idx, Status::Invalid).unwrap();
    token.list = list;
    assert_eq!(check(&token), Err(IdentityError::Revoked { idx: 5 }));
    // A token for another list, or signed by another key.
    let text = token.sign(KID, &issuer_key());
    assert!(matches!(
        StatusListToken::verify(&text, key_lookup, "https://isp.example/status/2", now(), 60),
        Err(IdentityError::StatusListMismatch { .. })
    ));
    let forged = token.sign(KID, &holder_key());
    assert!(matches!(
        StatusListToken::verify(&forged, key_lookup, STATUS_URI, now(), 60),
        Err(IdentityError::BadSignature { .. })
    ));
}

#[test]
fn registered_claims_are_never_selectively_disclosable() {
    // Another issuer's credential that hides `exp` (or a second `iss`) behind a disclosure.
    let forged = |name: &str, value: serde_json::Value| {
        let disclosure = identity::Disclosure::with_salt("c2FsdA".into(), Some(name), value);
        let payload = json!({
            "iss": ISS, "iat": ISSUED_SECS, "vct": "urn:x", "_sd_alg": "sha-256",
            "cnf": identity::sdjwt::cnf_json(&holder_key().verifying_key()),
            "_sd": [disclosure.digest()],
        });
        let jwt = jws::sign_jwt(
            jws::TYP_DC_SD_JWT,
            Some(KID),
            payload.as_object().unwrap(),
            &issuer_key(),
        );
        format!("{jwt}~{}~", disclosure.encoded())
    };
    let held = SdJwt::parse(&forged("exp", json!(ISSUED_SECS + 10))).unwrap();
    let presentation = held.present(&["exp"], AUD, NONCE, now(), &holder_key()).unwrap();
    assert_eq!(
        verify(&presentation).unwrap_err(),
        IdentityError::ClaimCollision { name: "exp".into() }
    );
    // A second `iss` collides with the first already in the holder's hands.
    assert_eq!(
        SdJwt::parse(&forged("iss", json!("did:example:other"))).unwrap_err(),
        IdentityError::ClaimCollision { name: "iss".into() }
    );
    // Ours never issues such a thing, nor a nested `_sd` or `...` member.
    let mut nested = request();
    nested.claims.insert("address".into(), json!({"_sd": ["x"]}));
    assert!(matches!(
        issuer().issue(&nested, &mut rng(1)),
        Err(IdentityError::InvalidRequest { .. })
    ));
}
