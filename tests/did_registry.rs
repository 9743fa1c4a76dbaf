//! The did:cypher registry end to end, on four `cypherlink node` processes: a holder registers a
//! DID, rotates its key and deactivates it; every version resolves over the node's REST API by
//! `versionId` and by `versionTime`, so a signature made with the old key verifies against the
//! version in force when it was made and not against the current one. Bad inputs (a squatted
//! identifier, a second creation, a stranger's update, a replayed or raced update, a malformed
//! and an oversized document, an unknown DID, an update after deactivation) each fail with their
//! reason and change nothing. The creation's inclusion proof verifies offline, resolution's
//! HTTP binding answers each error with its status, and the CLI creates and resolves DIDs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use did::resolution::ResolutionResult;
use did::{Did, Document, ErrorCode, Relation};
use ed25519_dalek::{Signer as _, SigningKey, Verifier};
use ledger_node::api::did::{VersionQuery, document_for_key};
use ledger_node::api::{ChainClient, Signer, TxState, TxStatus};
use ledger_node::state::{FailCode, Op};

mod common;
use common::committee::{LocalCommittee, account_key as key, same_height};

/// Far above what any step needs; only so that a bug fails the test instead of hanging it.
const PATIENCE: Duration = Duration::from_secs(90);

async fn submit(c: &ChainClient, tx: &[u8]) -> TxStatus {
    tokio::time::timeout(PATIENCE, c.submit_and_wait(tx, PATIENCE))
        .await
        .expect("in time")
        .expect("submitted")
}

async fn final_ok(c: &ChainClient, tx: &[u8]) -> TxStatus {
    let s = submit(c, tx).await;
    assert_eq!(s.status, TxState::Final, "transaction failed: {s:?}");
    s
}

async fn final_failed(c: &ChainClient, tx: &[u8], reason: FailCode) {
    let s = submit(c, tx).await;
    assert_eq!(s.status, TxState::Failed, "expected {reason}, got {s:?}");
    assert_eq!(s.reason, Some(reason), "{s:?}");
}

async fn resolve(c: &ChainClient, did: &Did, query: VersionQuery) -> (u16, ResolutionResult) {
    c.resolve_did(did.as_str(), query).await.expect("resolved")
}

/// The Ed25519 key of `document`'s capabilityInvocation method `#key-1`.
fn key_1(document: &Document) -> ed25519_dalek::VerifyingKey {
    let id = document.id.with_fragment("key-1").unwrap();
    *document
        .ed25519_key_for(Relation::AssertionMethod, &id)
        .expect("key-1")
}

/// Waits until the wall clock (the leaders' clock) is past the whole second of `time`: DID
/// metadata has whole seconds, so two versions are told apart by versionTime only if they are
/// made in different seconds. Time itself is what is awaited here (at most a second).
async fn next_second_after(time: htlc::Timestamp) {
    let target = u128::try_from(time.unix_millis() / 1000 + 1).unwrap() * 1000 + 20;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis();
    if now < target {
        tokio::time::sleep(Duration::from_millis(u64::try_from(target - now).unwrap())).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_did_is_registered_rotated_deactivated_and_resolved_at_each_version() {
    let tmp = tempfile::tempdir().unwrap();
    let net = LocalCommittee::start(tmp.path(), 400).await;
    let clients: Vec<ChainClient> = (0..common::committee::N).map(|i| net.client(i)).collect();
    let (c0, c1) = (&clients[0], &clients[1]);
    let chain_id = c0.chain_id().await.unwrap();
    let (old_key, new_key) = (key("did holder, first key"), key("did holder, second key"));
    let mut holder = Signer::new(old_key.clone(), chain_id, 0);
    let mut rotated = Signer::new(new_key.clone(), chain_id, 0);
    let stranger_key = key("stranger");
    let mut stranger = Signer::new(stranger_key.clone(), chain_id, 0);
    let subject = did::cypher::did_cypher(&old_key.verifying_key(), 0);

    // Register. The stranger and the holder's second key register DIDs of their own, so they
    // have accounts and their bad transactions reach the chain (a key with no account is
    // refused at the door when its transaction would fail).
    let doc1 = document_for_key(&subject, &old_key.verifying_key());
    let created = final_ok(c0, &holder.did_create(0, &doc1)).await;
    let stranger_did = did::cypher::did_cypher(&stranger_key.verifying_key(), 0);
    let stranger_doc = document_for_key(&stranger_did, &stranger_key.verifying_key());
    final_ok(c0, &stranger.did_create(0, &stranger_doc)).await;
    let own = did::cypher::did_cypher(&new_key.verifying_key(), 0);
    final_ok(
        c0,
        &rotated.did_create(0, &document_for_key(&own, &new_key.verifying_key())),
    )
    .await;
    // Read on another node than the one that confirmed: wait until it has the block too.
    same_height(&clients, PATIENCE).await;
    let (status, v1) = resolve(c1, &subject, VersionQuery::Latest).await;
    assert_eq!(status, 200, "{v1:?}");
    assert_eq!(v1.did_document.as_ref(), Some(&doc1));
    let created_at = v1.did_document_metadata.created.expect("created");
    assert_eq!(v1.did_document_metadata.version_id.as_deref(), Some("1"));
    let signed = b"order 42, signed before the rotation";
    let signature = old_key.sign(signed);

    // Rotate to the new key, in a later second than the creation.
    next_second_after(created_at).await;
    let doc2 = document_for_key(&subject, &new_key.verifying_key());
    let rotation = holder.did_update(1, &doc2);
    let rotation_status = final_ok(c1, &rotation).await;
    // Read on another node than the one that confirmed: wait until it has the block too.
    same_height(&clients, PATIENCE).await;
    let (_, v2) = resolve(c0, &subject, VersionQuery::Latest).await;
    assert_eq!(v2.did_document.as_ref(), Some(&doc2));
    assert_eq!(v2.did_document_metadata.version_id.as_deref(), Some("2"));
    let updated_at = v2.did_document_metadata.updated.expect("updated");
    assert!(updated_at > created_at);

    // Bad inputs: each fails with its reason, and the DID stays at version 2 on every node.
    let squat = document_for_key(&subject, &stranger_key.verifying_key());
    final_failed(
        c0,
        &stranger.sign(Op::DidCreate {
            nonce: 0,
            document: squat.to_json(),
        }),
        FailCode::DidNotDerived,
    )
    .await;
    final_failed(c0, &holder.did_create(0, &doc1), FailCode::DidExists).await;
    final_failed(c0, &stranger.did_update(2, &doc1), FailCode::DidNotController).await;
    // The old key lost control; the new key must name the current version.
    final_failed(c0, &holder.did_update(2, &doc1), FailCode::DidNotController).await;
    final_failed(c0, &rotated.did_update(1, &doc2), FailCode::DidStaleVersion).await;
    let malformed = Op::DidUpdate {
        did: subject.to_string(),
        version: 2,
        document: b"{\"id\": 7}".to_vec(),
    };
    final_failed(c0, &rotated.sign(malformed), FailCode::DidInvalidDocument).await;
    let mut big = doc2.to_json();
    big.extend(std::iter::repeat_n(b' ', did::MAX_DOCUMENT_BYTES));
    let oversized = Op::DidUpdate {
        did: subject.to_string(),
        version: 2,
        document: big,
    };
    final_failed(c0, &rotated.sign(oversized), FailCode::DidTooLarge).await;
    let unknown = did::cypher::did_cypher(&key("nobody").verifying_key(), 0);
    final_failed(c0, &rotated.did_deactivate(&unknown, 1), FailCode::DidNotFound).await;
    // The rotation's signed bytes again: answered with the committed status, nothing more.
    let again = submit(c0, &rotation).await;
    assert_eq!(
        (again.id, again.status, again.height),
        (rotation_status.id, TxState::Final, rotation_status.height)
    );
    same_height(&clients, PATIENCE).await;
    for c in &clients {
        let (_, now) = resolve(c, &subject, VersionQuery::Latest).await;
        assert_eq!(now.did_document_metadata.version_id.as_deref(), Some("2"));
        assert_eq!(now.did_document.as_ref(), Some(&doc2));
    }

    // Deactivate with the new key; afterwards nothing changes it.
    next_second_after(updated_at).await;
    final_ok(c0, &rotated.did_deactivate(&subject, 2)).await;
    final_failed(c0, &rotated.did_update(3, &doc2), FailCode::DidDeactivated).await;
    // Read on another node than the one that confirmed: wait until it has the block too.
    same_height(&clients, PATIENCE).await;
    let (status, v3) = resolve(c1, &subject, VersionQuery::Latest).await;
    assert_eq!(status, 410);
    assert!(v3.did_document_metadata.deactivated);
    assert_eq!(v3.did_document_metadata.version_id.as_deref(), Some("3"));

    // Every version by id and by time; the old signature holds against the version in force
    // when it was made, not against the current one.
    let (status, by_id) = resolve(c0, &subject, VersionQuery::Id(1)).await;
    assert_eq!((status, by_id.did_document.as_ref()), (200, Some(&doc1)));
    assert_eq!(by_id.did_document_metadata.next_version_id.as_deref(), Some("2"));
    assert_eq!(by_id.did_document_metadata.next_update, Some(updated_at));
    let (_, by_id) = resolve(c0, &subject, VersionQuery::Id(2)).await;
    assert_eq!(by_id.did_document.as_ref(), Some(&doc2));
    assert_eq!(by_id.did_document_metadata.next_version_id.as_deref(), Some("3"));
    let (_, then) = resolve(c0, &subject, VersionQuery::Time(created_at)).await;
    assert_eq!(then.did_document_metadata.version_id.as_deref(), Some("1"));
    let old = key_1(then.did_document.as_ref().unwrap());
    assert!(old.verify(signed, &signature).is_ok());
    let (_, later) = resolve(c0, &subject, VersionQuery::Time(updated_at)).await;
    assert_eq!(later.did_document_metadata.version_id.as_deref(), Some("2"));
    let current = key_1(v3.did_document.as_ref().unwrap());
    assert!(current.verify(signed, &signature).is_err());
    let before = htlc::Timestamp::from_unix_millis(created_at.unix_millis() - 1000).unwrap();
    assert_eq!(resolve(c0, &subject, VersionQuery::Time(before)).await.0, 404);
    assert_eq!(resolve(c0, &subject, VersionQuery::Id(4)).await.0, 404);

    // The creation's inclusion proof holds offline against the genesis committee.
    let proof = c0.proof(&created.id).await.unwrap().expect("a proof");
    let genesis = ledger_node::node::GenesisFile::load(&net.dir.join("genesis.toml")).unwrap();
    let proven = proof.verify(&genesis).expect("the inclusion proof holds offline");
    assert_eq!(proven.tx.body.op.kind(), "did_create");

    http_binding(c0, &stranger_did).await;
    cli(c0, &net.dir).await;
}

/// Resolution's HTTP binding: representations and the status of each error.
async fn http_binding(c: &ChainClient, registered: &Did) {
    let http = reqwest::Client::new();
    let get = |path: String, accept: Option<&'static str>| {
        let mut request = http.get(format!("{}/1.0/identifiers/{path}", c.base_url()));
        if let Some(accept) = accept {
            request = request.header("Accept", accept);
        }
        async move {
            let r = request.send().await.unwrap();
            let status = r.status().as_u16();
            let media = r.headers()["content-type"].to_str().unwrap().to_owned();
            (status, media, r.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (status, media, body) = get(registered.to_string(), None).await;
    assert_eq!((status, media.as_str()), (200, "application/did-resolution"));
    assert_eq!(body["didDocument"]["id"], registered.as_str());
    let (_, media, body) = get(registered.to_string(), Some("application/did+json")).await;
    assert_eq!(media, "application/did+json");
    assert_eq!(body["id"], registered.as_str());
    assert!(body.get("@context").is_none(), "plain JSON: {body}");
    let (_, media, body) = get(registered.to_string(), Some("application/did+ld+json")).await;
    assert_eq!(media, "application/did+ld+json");
    assert_eq!(body["@context"][0], "https://www.w3.org/ns/did/v1");
    let profile = "application/ld+json;profile=\"https://w3id.org/did-resolution\"";
    let (_, media, body) = get(registered.to_string(), Some(profile)).await;
    assert_eq!(media, profile);
    assert!(body["didDocumentMetadata"]["versionId"].is_string());
    let did_key = did::key::did_key_from_ed25519(&key("wallet").verifying_key());
    assert_eq!(get(did_key.to_string(), None).await.0, 200);
    let unknown = did::cypher::did_cypher(&key("nobody").verifying_key(), 0);
    for (path, accept, status, error) in [
        ("not-a-did".to_owned(), None, 400, ErrorCode::InvalidDid),
        ("did:cypher:0OIl".to_owned(), None, 400, ErrorCode::InvalidDid),
        (
            format!("{registered}?versionTime=yesterday"),
            None,
            400,
            ErrorCode::InvalidDidUrl,
        ),
        (unknown.to_string(), None, 404, ErrorCode::NotFound),
        (
            registered.to_string(),
            Some("text/html"),
            406,
            ErrorCode::RepresentationNotSupported,
        ),
        (
            "did:web:example.com".to_owned(),
            None,
            501,
            ErrorCode::MethodNotSupported,
        ),
    ] {
        let (got, media, body) = get(path.clone(), accept).await;
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(media, "application/did-resolution", "{path}");
        assert_eq!(body["didResolutionMetadata"]["error"], error.as_str(), "{path}");
        assert!(body["didDocument"].is_null(), "{path}");
    }
}

/// `cypherlink did create` with a test key against the node, and `did resolve` of it through
/// the node and of a did:key with no node.
async fn cli(c: &ChainClient, dir: &std::path::Path) {
    let run = |args: Vec<String>| async move {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_cypherlink"))
            .args(&args)
            .current_dir(dir)
            .output()
            .await
            .unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let node = c.base_url().to_owned();
    let (code, out, err) = run(vec![
        "did".into(),
        "create".into(),
        "--node".into(),
        node.clone(),
        "--test-seed".into(),
        "cli holder".into(),
    ])
    .await;
    assert_eq!(code, Some(0), "{out}{err}");
    let line: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let created = line["did"].as_str().unwrap().to_owned();
    let key = SigningKey::from_bytes(&ledger_node::crypto::sha256(&[b"cli holder"]));
    assert_eq!(created, did::cypher::did_cypher(&key.verifying_key(), 0).as_str());
    let (code, out, err) = run(vec![
        "did".into(),
        "resolve".into(),
        created.clone(),
        "--node".into(),
        node,
    ])
    .await;
    assert_eq!(code, Some(0), "{out}{err}");
    let result: ResolutionResult = serde_json::from_str(&out).unwrap();
    assert_eq!(result.did_document.unwrap().id.as_str(), created);
    let did_key = did::key::did_key_from_ed25519(&key.verifying_key()).to_string();
    let (code, out, err) = run(vec!["did".into(), "resolve".into(), did_key.clone()]).await;
    assert_eq!(code, Some(0), "{out}{err}");
    let result: ResolutionResult = serde_json::from_str(&out).unwrap();
    assert_eq!(result.did_document.unwrap().id.as_str(), did_key);
    let (code, _, _) = run(vec![
        "did".into(),
        "resolve".into(),
        "did:cypher:SanM6HZNLWJLUCcGZpBczR".into(),
    ])
    .await;
    assert_eq!(code, Some(2), "a did:cypher needs --node");
}
