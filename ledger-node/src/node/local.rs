//! A committee run inside one process on 127.0.0.1: every validator a full node (its own
//! SQLite files, TCP links to the others, HTTP API) on free ports. The demo network and tests
//! use it; a real deployment runs one `cypherlink node` process per validator.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::genesis::Genesis;
use crate::node::config::{ConsensusTuning, GenesisFile, NodeConfig, PeerSection, ValidatorSection};
use crate::node::{StartError, start_with_clock};

/// A running in-process committee.
#[derive(Debug, Clone)]
pub struct LocalCommittee {
    /// Each validator's HTTP API, in committee index order.
    pub apis: Vec<SocketAddr>,
    /// Where the genesis, keys and databases are.
    pub dir: PathBuf,
}

impl LocalCommittee {
    /// `http://` URL of validator `index`'s API.
    pub fn api_url(&self, index: usize) -> String {
        format!("http://{}", self.apis[index])
    }
}

/// Starts a committee of the validators with these BLS key seeds ([`Genesis::for_test_keys`]),
/// all reading `clock`, with files under `dir`. Returns once every node runs; the nodes stop
/// with the tokio runtime.
pub async fn start_local_committee(
    dir: &Path,
    seeds: &[[u8; 32]],
    clock: Arc<dyn htlc::Clock>,
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
            api: SocketAddr::from(([127, 0, 0, 1], 0)),
            validator: Some(ValidatorSection { index, key_file }),
            peers: peers.clone(),
            consensus: ConsensusTuning::default(),
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
    })
}
