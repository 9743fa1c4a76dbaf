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

/// A configuration whose values are checked once parsed: ranges and references between sections
/// that the schema alone cannot express. [`load_checked`] and [`parse_checked`] never return
/// one that fails its check.
pub trait Checked: DeserializeOwned {
    /// What is wrong with the parsed values, if anything.
    fn check(&self) -> Result<(), ConfigError>;

    /// Makes the relative file names of a configuration read from a file in `dir` relative to
    /// that directory (see [`resolve`]), so it means the same whatever the working directory.
    /// None by default.
    fn relative_to(&mut self, dir: &Path) {
        let _ = dir;
    }
}

/// Reads, parses and checks a configuration file; relative file names in it become relative
/// to its directory.
pub fn load_checked<T: Checked>(path: &Path) -> Result<T, ConfigError> {
    let mut config: T = load(path)?;
    config.check()?;
    if let Some(dir) = path.parent() {
        config.relative_to(dir);
    }
    Ok(config)
}

/// Parses and checks TOML text; `origin` names it in errors.
pub fn parse_checked<T: Checked>(text: &str, origin: impl Display) -> Result<T, ConfigError> {
    let config: T = parse(text, origin)?;
    config.check()?;
    Ok(config)
}

/// `file` made relative to `dir` if it is relative.
pub fn resolve(dir: &Path, file: &mut PathBuf) {
    if file.is_relative() {
        *file = dir.join(&*file);
    }
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

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Service {
        port: u16,
        database: PathBuf,
    }

    impl Checked for Service {
        fn check(&self) -> Result<(), ConfigError> {
            if self.port == 0 {
                return Err(ConfigError::invalid("port must not be 0"));
            }
            Ok(())
        }

        fn relative_to(&mut self, dir: &Path) {
            resolve(dir, &mut self.database);
        }
    }

    #[test]
    fn checked_configurations_fail_their_check_and_resolve_files_beside_them() {
        let refused = parse_checked::<Service>("port = 0\ndatabase = \"a.db\"\n", "inline").unwrap_err();
        assert!(
            matches!(&refused, ConfigError::Invalid(m) if m == "port must not be 0"),
            "{refused}"
        );
        let text = parse_checked::<Service>("port = 1\ndatabase = \"a.db\"\n", "inline").unwrap();
        assert_eq!(
            text.database,
            Path::new("a.db"),
            "text has no directory to resolve against"
        );

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("service.toml");
        std::fs::write(&file, "port = 0\ndatabase = \"a.db\"\n").unwrap();
        assert!(matches!(
            load_checked::<Service>(&file),
            Err(ConfigError::Invalid(_))
        ));
        std::fs::write(&file, "port = 8\ndatabase = \"a.db\"\n").unwrap();
        assert_eq!(
            load_checked::<Service>(&file).unwrap().database,
            dir.path().join("a.db")
        );
        std::fs::write(&file, "port = 8\ndatabase = \"/srv/a.db\"\n").unwrap();
        assert_eq!(
            load_checked::<Service>(&file).unwrap().database,
            Path::new("/srv/a.db")
        );
    }
}
