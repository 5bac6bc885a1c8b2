//! Where rows go: target URLs and the sinks behind them.
//!
//! * [`ddl`]: CREATE TABLE statements per SQL dialect.
//! * [`sqlite`]: the embedded default, one SQLite database file.

pub mod ddl;
pub mod sqlite;

use std::path::PathBuf;

/// A parsed `[target] url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetUrl {
    /// `sqlite://PATH`.
    Sqlite(PathBuf),
}

/// A target URL that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetUrlError {
    /// No `scheme://`.
    #[error("target `{0}` is not a URL")]
    NotAUrl(String),
    /// A scheme this version does not write to. Only the scheme is shown:
    /// the rest may hold a password.
    #[error("target scheme `{0}://` is not supported by this version of datagen")]
    Unsupported(String),
    /// `sqlite://` without a path.
    #[error("target `sqlite://` needs a file path")]
    MissingPath,
}

impl TargetUrl {
    /// What a valid target looks like.
    pub const HELP: &'static str = "use sqlite://PATH, e.g. sqlite://out/shop.db";

    /// Parses a target URL.
    pub fn parse(url: &str) -> Result<TargetUrl, TargetUrlError> {
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(TargetUrlError::NotAUrl(url.to_owned()));
        };
        match scheme {
            "sqlite" if rest.is_empty() => Err(TargetUrlError::MissingPath),
            "sqlite" => Ok(TargetUrl::Sqlite(PathBuf::from(rest))),
            other => Err(TargetUrlError::Unsupported(other.to_owned())),
        }
    }
}

impl std::fmt::Display for TargetUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TargetUrl::Sqlite(p) => write!(f, "sqlite://{}", p.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            TargetUrl::parse("sqlite://out/a.db"),
            Ok(TargetUrl::Sqlite("out/a.db".into()))
        );
        assert_eq!(
            TargetUrl::parse("sqlite:///tmp/a.db"),
            Ok(TargetUrl::Sqlite("/tmp/a.db".into()))
        );
        assert_eq!(
            TargetUrl::parse("sqlite://"),
            Err(TargetUrlError::MissingPath)
        );
        let err = TargetUrl::parse("mysql://root:secret@db/x").unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(TargetUrl::parse("out.db").is_err());
    }
}
