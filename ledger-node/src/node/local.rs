//! A committee run inside one process on 127.0.0.1: every validator a full node (its own
//! SQLite files, mutual-TLS links to the others, an HTTPS API, with throwaway certificates made in its
//! directory) on free ports. The demo network and tests use it; a real deployment runs one
//! `cypherlink node` process per validator.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::genesis::Genesis;
use crate::node::config::{
    AdmissionLimits, ConsensusTuning, GenesisFile, NodeConfig, PeerSection, ValidatorSection,
};
use crate::node::{StartError, start_with_clock};

/// A running in-process committee.
#[derive(Debug, Clone)]
pub struct LocalCommittee {
    /// Each validator's HTTPS API, in committee index order.
    pub apis: Vec<SocketAddr>,
    /// Where the genesis, keys, certificates and databases are.
    pub dir: PathBuf,
    /// The certificates the APIs serve with (clients trust `certs.ca`).
    pub certs: tls::dev::DevCerts,
}

impl LocalCommittee {
    /// `https://localhost:<port>` URL of validator `index`'s API.
    pub fn api_url(&self, index: usize) -> String {
        format!("https://localhost:{}", self.apis[index].port())
    }

    /// What a client needs to trust the APIs.
    pub fn client_tls(&self) -> tls::ClientTls {
        self.certs.client()
    }

    /// A client of validator `index`'s API.
    pub fn client(&self, index: usize) -> Result<crate::api::ChainClient, crate::api::ClientError> {
        crate::api::ChainClient::new(self.api_url(index)).with_tls(&self.client_tls())
    }

    /// A plain HTTP client trusting the APIs' certificates, for raw requests.
    pub fn http_client(&self) -> Result<reqwest::Client, crate::api::ClientError> {
        let config = self.client_tls().client_config()?;
        Ok(reqwest::Client::builder()
            .tls_backend_preconfigured(config)
            .build()?)
    }
}

/// Starts a committee of the validators with these BLS key seeds ([`Genesis::for_test_keys`]),
/// all reading `clock`, with files under `dir`, with the default admission limits. Returns
/// once every node runs; the nodes stop with the tokio runtime.
pub async fn start_local_committee(
    dir: &Path,
    seeds: &[[u8; 32]],
    clock: Arc<dyn htlc::Clock>,
) -> Result<LocalCommittee, StartError> {
    start_local_committee_with(dir, seeds, clock, &AdmissionLimits::default()).await
}

/// [`start_local_committee`] with these admission limits on every node.
pub async fn start_local_committee_with(
    dir: &Path,
    seeds: &[[u8; 32]],
    clock: Arc<dyn htlc::Clock>,
    limits: &AdmissionLimits,
) -> Result<LocalCommittee, StartError> {
    let write = |path: PathBuf, text: String| {
        std::fs::write(&path, text).map_err(|source| {
            StartError::Config(crate::node::ConfigError::Read {
                path: path.clone(),
                source,
            })
        })
    };
    let _ = std::fs::create_dir_all(dir);
    let certs = tls::dev::generate(&dir.join("certs"), &[])?;
    let genesis = Genesis::for_test_keys(seeds)?;
    let genesis_path = dir.join("genesis.toml");
    let genesis_text = toml::to_string(&GenesisFile::from_genesis(&genesis))
        .map_err(|e| crate::node::ConfigError::Invalid(format!("genesis: {e}")))?;
    write(genesis_path.clone(), genesis_text)?;
    // Lower indexes dial higher ones: start from the top, handing each the ports already bound.
    let mut peers = Vec::new();
    let mut apis = Vec::new();
    for (index, seed) in seeds.iter().enumerate().rev() {
        let index = u16::try_from(index).unwrap_or(u16::MAX);
        let key_file = dir.join(format!("validator-{index}.key"));
        write(key_file.clone(), hex::encode(seed))?;
        let config = NodeConfig {
            genesis: genesis_path.clone(),
            data_dir: dir.join(format!("validator-{index}")),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            peer_tls: Some(certs.peer()),
            peer_plain_tcp: false,
            api: SocketAddr::from(([127, 0, 0, 1], 0)),
            api_tls: Some(certs.server()),
            api_plain_http: false,
            validator: Some(ValidatorSection { index, key_file }),
            peers: peers.clone(),
            consensus: ConsensusTuning::default(),
            limits: limits.clone(),
        };
        let node = start_with_clock(config, Arc::clone(&clock)).await?;
        peers.push(PeerSection {
            index,
            address: node.p2p_addr,
        });
        apis.push(node.api_addr);
        // The API serves only while its server future is polled.
        tokio::spawn(node.server);
    }
    apis.reverse();
    Ok(LocalCommittee {
        apis,
        dir: dir.to_owned(),
        certs,
    })
}

/// `count` distinct ports free on 127.0.0.1 right now, chosen below the kernel's ephemeral
/// range, for networks of separate processes whose configs must name every peer's port before
/// any of them starts (tests, benches).
///
/// A port the OS hands out for port 0 comes from the ephemeral range, and so does the local end
/// of every outgoing connection: a validator that keeps redialling a peer which is not up yet
/// (or was just killed) can take that peer's port before it binds. Below the range only an
/// explicit bind can take a port. The search starts at a random offset so that two networks
/// started at once are unlikely to probe the same ports.
pub fn unused_ports_below_ephemeral(count: usize) -> std::io::Result<Vec<u16>> {
    let ephemeral_start = ephemeral_range_start();
    let span = ephemeral_start - LOWEST;
    let offset = rand::random::<u16>() % span;
    let mut ports = Vec::with_capacity(count);
    for step in 0..span {
        if ports.len() == count {
            break;
        }
        let port = LOWEST + (offset + step) % span;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            ports.push(port);
        }
    }
    if ports.len() < count {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            format!("only {} free ports in {LOWEST}..{ephemeral_start}", ports.len()),
        ));
    }
    Ok(ports)
}

/// The lowest port [`unused_ports_below_ephemeral`] hands out.
const LOWEST: u16 = 10_000;

/// Where the kernel's ephemeral ports start (Linux's setting; the usual 32768 elsewhere),
/// never less than 1,000 ports above [`LOWEST`].
fn ephemeral_range_start() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32_768)
        .max(LOWEST + 1_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unused_ports_are_distinct_bindable_and_outside_the_ephemeral_range() {
        let ports = unused_ports_below_ephemeral(8).unwrap();
        let mut sorted = ports.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 8, "{ports:?}");
        for p in ports {
            assert!((LOWEST..ephemeral_range_start()).contains(&p), "{p}");
            std::net::TcpListener::bind(("127.0.0.1", p)).expect("still free");
        }
    }
}
