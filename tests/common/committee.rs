//! A committee of four validators for the chain's process tests: keys, genesis, certificates
//! and one `cypherlink node` configuration each, written to a directory; and, for validators
//! on 127.0.0.1, their processes, each of which can be killed with SIGKILL and restarted on its
//! data directory.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use ledger_node::api::ChainClient;
use ledger_node::crypto::sha256;
use ledger_node::genesis::Genesis;
use ledger_node::node::GenesisFile;
use ledger_node::node::local::unused_ports_below_ephemeral;

use super::process::{Service, ServiceCommand};

/// Validators in the committee: one fault tolerated.
pub(crate) const N: usize = 4;

/// The validator leading `view` under the committee's round-robin rule.
pub(crate) fn leader(view: u64) -> usize {
    let n = u64::try_from(N).expect("a small committee");
    usize::try_from(view % n).expect("an index below N")
}

/// Where one validator listens.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Listen {
    /// Its links to the other validators (mutual TLS).
    pub p2p: SocketAddr,
    /// Its HTTP API (plain HTTP: the tests read it directly).
    pub api: SocketAddr,
}

/// Writes `keys/`, `genesis.toml`, `certs/` (the server certificate naming `cert_names` as well
/// as localhost) and `node{i}.toml` for validator i listening on `listen[i]`, with its data in
/// `data{i}`. `retain`: committed blocks each keeps in memory for peers (default 512); a
/// validator more than half of that behind catches up from its peers' storage instead.
pub(crate) fn write_committee(
    dir: &Path,
    listen: &[Listen; N],
    cert_names: &[String],
    base_timeout_ms: u64,
    retain: Option<usize>,
) {
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    let seeds: Vec<[u8; 32]> = (0..N)
        .map(|i| {
            let i = u8::try_from(i).expect("fewer than 256 validators");
            sha256(&[b"test committee validator", &[i]])
        })
        .collect();
    for (i, seed) in seeds.iter().enumerate() {
        std::fs::write(dir.join(format!("keys/v{i}.key")), hex::encode(seed)).unwrap();
    }
    let g = Genesis::for_test_keys(&seeds).unwrap();
    std::fs::write(
        dir.join("genesis.toml"),
        toml::to_string(&GenesisFile::from_genesis(&g)).unwrap(),
    )
    .unwrap();
    // The validators' links run on mutual TLS, as deployed.
    tls::dev::generate(&dir.join("certs"), cert_names).unwrap();
    for (i, me) in listen.iter().enumerate() {
        let mut c = format!(
            "genesis = \"genesis.toml\"\ndata_dir = \"data{i}\"\nlisten = \"{}\"\n\
             peer_tls = {{ cert = \"certs/server.pem\", key = \"certs/server-key.pem\", ca = \"certs/ca.pem\" }}\n\
             api = \"{}\"\napi_plain_http = true\n[validator]\nindex = {i}\nkey_file = \"keys/v{i}.key\"\n\
             [consensus]\nbase_timeout_ms = {base_timeout_ms}\n",
            me.p2p, me.api
        );
        if let Some(r) = retain {
            c.push_str(&format!("retain_committed_blocks = {r}\n"));
        }
        for (j, peer) in listen.iter().enumerate().filter(|&(j, _)| j != i) {
            c.push_str(&format!("[[peers]]\nindex = {j}\naddress = \"{}\"\n", peer.p2p));
        }
        std::fs::write(dir.join(format!("node{i}.toml")), c).unwrap();
    }
}

/// The signing key of the test account `name` (a central bank, a bank).
pub(crate) fn account_key(name: &str) -> SigningKey {
    SigningKey::from_bytes(&sha256(&[b"test committee account", name.as_bytes()]))
}

/// Waits (at most `within`) until every validator reports the same committed height and state
/// root (an idle chain stops: a leader with nothing to order proposes no block); that height.
pub(crate) async fn same_height(clients: &[ChainClient], within: Duration) -> u64 {
    let deadline = Instant::now() + within;
    loop {
        let mut all = Vec::new();
        for c in clients {
            // A validator cut off or down answers nothing; the others' answers still count.
            let status = tokio::time::timeout(Duration::from_secs(5), c.status()).await;
            all.push(
                status
                    .ok()
                    .and_then(Result::ok)
                    .map(|s| (s.committed_height, s.state_root)),
            );
        }
        if let Some(Some(first)) = all.first()
            && all.iter().all(|s| s.as_ref() == Some(first))
        {
            return first.0;
        }
        assert!(
            Instant::now() < deadline,
            "the validators did not settle on one height and state root within {within:?}: {all:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Four `cypherlink node` processes on 127.0.0.1, on free ports below the ephemeral range.
pub(crate) struct LocalCommittee {
    /// Where the keys, genesis, configurations and data directories are.
    pub dir: PathBuf,
    api: Vec<SocketAddr>,
    nodes: Vec<Option<Service>>,
}

impl LocalCommittee {
    /// Writes the committee to `dir` and starts every validator.
    pub(crate) async fn start(dir: &Path, base_timeout_ms: u64) -> Self {
        let ports = unused_ports_below_ephemeral(2 * N).expect("free ports");
        let on = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
        let listen: [Listen; N] = std::array::from_fn(|i| Listen {
            p2p: on(ports[i]),
            api: on(ports[N + i]),
        });
        write_committee(dir, &listen, &[], base_timeout_ms, None);
        let mut committee = LocalCommittee {
            dir: dir.to_owned(),
            api: listen.iter().map(|l| l.api).collect(),
            nodes: (0..N).map(|_| None).collect(),
        };
        for i in 0..N {
            committee.start_node(i).await;
        }
        committee
    }

    /// Starts validator `i` (again, after a kill: on the same data directory).
    pub(crate) async fn start_node(&mut self, i: usize) {
        let config = self.dir.join(format!("node{i}.toml"));
        let node = ServiceCommand::new(["node", "--config"], "running:")
            .arg(config)
            .start()
            .await;
        self.nodes[i] = Some(node);
    }

    /// SIGKILLs validator `i`.
    pub(crate) async fn kill(&mut self, i: usize) {
        self.nodes[i].take().expect("running").kill().await;
    }

    /// A client of validator `i`'s API.
    pub(crate) fn client(&self, i: usize) -> ChainClient {
        ChainClient::new(format!("http://{}", self.api[i]))
    }
}
