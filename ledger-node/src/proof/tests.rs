//! Certificates of a real (in-memory) chain verify; each field altered in turn fails with its
//! own error, with a warm cache as with none; a certificate of another chain fails.

use std::sync::OnceLock;

use super::fixture::{FixtureChain, NAMESPACE, anchor_chain, certify, digests};
use super::*;
use crate::codec::{decode_exact, encode_to_vec};
use crate::types::BlockHeader;

fn chain() -> &'static FixtureChain {
    static CHAIN: OnceLock<FixtureChain> = OnceLock::new();
    CHAIN.get_or_init(|| anchor_chain(7, 3, 5))
}

fn flip_hex(s: &str, at: usize) -> String {
    let mut b = hex::decode(s).unwrap();
    let i = at % b.len();
    b[i] ^= 1;
    hex::encode(b)
}

fn header_of(s: &str) -> BlockHeader {
    decode_exact(&hex::decode(s).unwrap()).unwrap()
}

#[test]
fn every_certificate_verifies_with_its_place_and_times() {
    let c = chain();
    let v = CertificateVerifier::new(&c.genesis).unwrap();
    assert_eq!(c.certificates.len(), 15);
    for (k, cert) in c.certificates.iter().enumerate() {
        let p = v.verify(cert).unwrap();
        let (batch, i) = (k / 5, k % 5);
        let a = p.anchor.unwrap();
        assert_eq!(a.item, Some(digests(7, batch, 5)[i]));
        assert_eq!((a.namespace.as_str(), a.sequence), (NAMESPACE, batch as u64 + 1));
        assert_eq!(p.height, batch as u64 + 1);
        assert_eq!(p.final_height, p.height + 1);
        assert_eq!(p.final_by_ms, p.included_at_ms + 1_000);
        if batch > 0 {
            let prev = v.verify(&c.certificates[k - 5]).unwrap().anchor.unwrap();
            assert_eq!(a.previous, prev.batch, "the batches form one hash chain");
        }
    }
    assert_eq!(v.cached_blocks(), 3, "one finality check per block");
    // The one-shot entry point agrees.
    assert!(c.certificates[0].verify(&c.genesis).is_ok());
}

/// An altered certificate: what was altered, the certificate, and which error it must get.
type Tampered = (&'static str, InclusionProof, fn(&ProofError) -> bool);

/// Every way to alter a certificate, with the error it must get.
fn tampered(cert: &InclusionProof) -> Vec<Tampered> {
    let c = chain();
    let mut out: Vec<Tampered> = Vec::new();
    let mut t = |what, f: &dyn Fn(&mut InclusionProof), ok: fn(&ProofError) -> bool| {
        let mut x = cert.clone();
        f(&mut x);
        out.push((what, x, ok));
    };
    t("chain id", &|x| x.chain_id = flip_hex(&x.chain_id, 3), |e| {
        matches!(e, ProofError::WrongChain { .. })
    });
    t("committee epoch", &|x| x.committee.epoch += 1, |e| {
        matches!(e, ProofError::WrongCommittee { .. })
    });
    t(
        "committee digest",
        &|x| x.committee.digest = flip_hex(&x.committee.digest, 0),
        |e| matches!(e, ProofError::WrongCommittee { .. }),
    );
    t("header bytes", &|x| x.header = flip_hex(&x.header, 40), |e| {
        matches!(e, ProofError::BrokenHashChain { at: 0 })
    });
    t("header undecodable", &|x| x.header.push_str("00"), |e| {
        matches!(e, ProofError::Malformed { field: "header" })
    });
    t("qc", &|x| x.qc = flip_hex(&x.qc, 20), |e| {
        matches!(e, ProofError::WrongBlock { which: "qc" })
    });
    t("tx", &|x| x.tx = flip_hex(&x.tx, 80), |e| {
        matches!(e, ProofError::PathMismatch { which: "tx_path" })
    });
    t(
        "tx path",
        &|x| {
            x.tx_path.push(Step {
                sibling: "11".repeat(32),
                left: true,
            })
        },
        |e| matches!(e, ProofError::PathMismatch { which: "tx_path" }),
    );
    t("receipt", &|x| x.receipt = flip_hex(&x.receipt, 0), |e| {
        matches!(
            e,
            ProofError::PathMismatch {
                which: "receipt_path"
            }
        )
    });
    t(
        "receipt path",
        &|x| {
            x.receipt_path.push(Step {
                sibling: "22".repeat(32),
                left: false,
            })
        },
        |e| {
            matches!(
                e,
                ProofError::PathMismatch {
                    which: "receipt_path"
                }
            )
        },
    );
    t(
        "commitment",
        &|x| x.commitment.changes_digest = flip_hex(&x.commitment.changes_digest, 5),
        |e| matches!(e, ProofError::CommitmentMismatch),
    );
    t("commitment height", &|x| x.commitment.height += 1, |e| {
        matches!(e, ProofError::CommitmentMismatch)
    });
    t(
        "item",
        &|x| x.item.as_mut().unwrap().item = flip_hex(&x.item.as_ref().unwrap().item, 9),
        |e| matches!(e, ProofError::PathMismatch { which: "item.path" }),
    );
    t(
        "item length",
        &|x| x.item.as_mut().unwrap().item.push_str("00"),
        |e| matches!(e, ProofError::Malformed { field: "item.item" }),
    );
    t(
        "item path",
        &|x| x.item.as_mut().unwrap().path[0].left ^= true,
        |e| matches!(e, ProofError::PathMismatch { which: "item.path" }),
    );
    t(
        "finality header",
        &|x| x.finality.headers[0] = flip_hex(&x.finality.headers[0], 30),
        |e| matches!(e, ProofError::WrongBlock { which: "finality.qc" }),
    );
    t("finality headers missing", &|x| x.finality.headers.clear(), |e| {
        matches!(
            e,
            ProofError::Malformed {
                field: "finality.headers"
            }
        )
    });
    // A flipped signature bit: an invalid point, or a valid one that does not verify.
    t(
        "finality qc",
        &|x| x.finality.qc = flip_hex(&x.finality.qc, 70),
        |e| {
            matches!(
                e,
                ProofError::BadSignature {
                    which: "finality.qc",
                    ..
                } | ProofError::Malformed { field: "finality.qc" }
            )
        },
    );
    t(
        "finality qc signers",
        &|x| {
            let mut qc: QuorumCert = decode_exact(&hex::decode(&x.finality.qc).unwrap()).unwrap();
            let mut bits = crate::types::SignerBitmap::new(4);
            for i in [0, 1, 3] {
                bits.set(i);
            }
            qc.signers = bits;
            x.finality.qc = hex::encode(encode_to_vec(&qc));
        },
        |e| {
            matches!(
                e,
                ProofError::BadSignature {
                    which: "finality.qc",
                    ..
                }
            )
        },
    );
    // C' replaced by a block two views later (a timeout in between): certified, not final.
    t(
        "finality not consecutive",
        &|x| {
            let mut h = header_of(&x.finality.headers[0]);
            h.view += 1;
            let qc = certify(&c.genesis.committee().unwrap(), &c.keys, &h);
            x.finality.headers[0] = hex::encode(encode_to_vec(&h));
            x.finality.qc = hex::encode(encode_to_vec(&qc));
        },
        |e| matches!(e, ProofError::NotConsecutive { .. }),
    );
    // A validly signed C' whose embedded certificate of C is forged.
    t(
        "finality embedded qc",
        &|x| {
            let mut h = header_of(&x.finality.headers[0]);
            h.qc.signature = certify(
                &c.genesis.committee().unwrap(),
                &c.keys,
                &header_of(&x.finality.headers[0]),
            )
            .signature;
            let qc = certify(&c.genesis.committee().unwrap(), &c.keys, &h);
            x.finality.headers[0] = hex::encode(encode_to_vec(&h));
            x.finality.qc = hex::encode(encode_to_vec(&qc));
            x.qc = hex::encode(encode_to_vec(&h.qc));
        },
        |e| matches!(e, ProofError::BadSignature { which, .. } if which.starts_with("finality.headers")),
    );
    out
}

#[test]
fn each_altered_field_gets_its_own_error_with_a_warm_cache_as_with_none() {
    let c = chain();
    let cert = &c.certificates[6];
    let warm = CertificateVerifier::new(&c.genesis).unwrap();
    let cold = CertificateVerifier::with_cache(&c.genesis, 0).unwrap();
    warm.verify(cert).unwrap();
    for (what, bad, expected) in tampered(cert) {
        for v in [&warm, &cold] {
            let err = v.verify(&bad).expect_err(what);
            assert!(expected(&err), "{what}: got {err:?}");
        }
        assert!(bad.verify(&c.genesis).is_err(), "{what}");
    }
    // Nothing tampered was remembered; the genuine certificate still verifies.
    assert_eq!(warm.cached_blocks(), 1);
    assert!(warm.verify(cert).is_ok() && cold.verify(cert).is_ok());
}

#[test]
fn a_certificate_of_another_chain_fails() {
    let c = chain();
    let other = anchor_chain(8, 1, 2);
    let v = CertificateVerifier::new(&c.genesis).unwrap();
    assert!(matches!(
        v.verify(&other.certificates[0]),
        Err(ProofError::WrongChain { .. })
    ));
    // Even relabelled with this chain's id and committee, its signatures are not this
    // committee's.
    let mut relabelled = other.certificates[0].clone();
    relabelled.chain_id = c.certificates[0].chain_id.clone();
    relabelled.committee = c.certificates[0].committee.clone();
    assert!(matches!(
        v.verify(&relabelled),
        Err(ProofError::BadSignature { .. })
    ));
}

#[test]
fn the_json_round_trips_and_finality_is_required() {
    let c = chain();
    let cert = &c.certificates[0];
    let json = serde_json::to_string(cert).unwrap();
    assert_eq!(&serde_json::from_str::<InclusionProof>(&json).unwrap(), cert);
    assert!(json.contains("\"committee\":{\"epoch\":1,\"digest\":\""));
    let without: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut without = without.as_object().unwrap().clone();
    without.remove("finality");
    assert!(
        serde_json::from_value::<InclusionProof>(without.into()).is_err(),
        "finality is required"
    );
}
