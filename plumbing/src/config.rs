//! TOML configuration files: read, parse, and say what is wrong with the file named.

use std::fmt::Display;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// Why a configuration cannot be used, with the file or value at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML for this schema (unknown or mistyped fields included).
    #[error("parsing {origin}: {message}")]
    Parse {
        /// Where the text came from: a file, or a built-in fixture.
        origin: String,
        /// The parser's explanation, with line and column.
        message: String,
    },
    /// Parsed, but a value is out of range or inconsistent with another.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl ConfigError {
    /// An [`ConfigError::Invalid`] with this explanation.
    pub fn invalid(message: impl Into<String>) -> Self {
        ConfigError::Invalid(message.into())
    }
}

/// The text of a configuration file.
pub fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Parses TOML text; `origin` names it in errors.
pub fn parse<T: DeserializeOwned>(text: &str, origin: impl Display) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::Parse {
        origin: origin.to_string(),
        message: e.to_string(),
    })
}

/// Reads and parses a configuration file.
pub fn load<T: DeserializeOwned>(path: &Path) -> Result<T, ConfigError> {
    parse(&read(path)?, path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        port: u16,
    }

    #[test]
    fn errors_name_the_file_and_the_fault() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.toml");
        let err = load::<Sample>(&missing).unwrap_err();
        assert!(
            matches!(&err, ConfigError::Read { path, .. } if *path == missing),
            "{err}"
        );

        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "port = 70000\n").unwrap();
        let err = load::<Sample>(&bad).unwrap_err();
        let ConfigError::Parse { origin, message } = &err else {
            panic!("{err}")
        };
        assert_eq!(origin, &bad.display().to_string());
        assert!(message.contains("line 1"), "{message}");
        assert!(err.to_string().starts_with(&format!("parsing {}", bad.display())));

        let unknown = parse::<Sample>("port = 1\nhost = \"x\"\n", "built-in sample").unwrap_err();
        assert!(unknown.to_string().contains("unknown field `host`"), "{unknown}");
        assert_eq!(parse::<Sample>("port = 7\n", "inline").unwrap().port, 7);
    }
}
