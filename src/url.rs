//! Target URLs as text: `scheme://rest?key=value&…` split without knowing
//! any target, and shown without passwords. Which schemes exist and what
//! their rest means is up to the targets ([`crate::sink::registry`]).

use std::path::PathBuf;

/// A target URL split at `://`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Url<'a> {
    /// Before `://`.
    pub scheme: &'a str,
    /// After `://`.
    pub rest: &'a str,
    /// The whole URL as given (it may hold a password: never show it,
    /// show [`redact`]ed).
    pub text: &'a str,
}

/// `key=value` options after `?`.
pub type Options<'a> = Vec<(&'a str, &'a str)>;

/// A target URL that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// No `scheme://`.
    #[error("target `{0}` is not a URL")]
    NotAUrl(String),
    /// A scheme datagen does not write to. Only the scheme is shown: the
    /// rest may hold a password.
    #[error("target scheme `{0}://` is not one datagen writes to")]
    Unsupported(String),
    /// A file target without a path.
    #[error("target `{0}://` needs a path")]
    MissingPath(String),
    /// A bad `?key=value` option.
    #[error("target option `{0}` is not valid here")]
    BadOption(String),
    /// The rest does not parse as the target needs it.
    #[error("invalid {what}: {message}")]
    Invalid {
        /// What it should be, e.g. "PostgreSQL connection string".
        what: &'static str,
        /// Why it is not (without the password).
        message: String,
    },
}

impl<'a> Url<'a> {
    /// Splits `url` at `://`.
    pub fn parse(url: &'a str) -> Result<Url<'a>, UrlError> {
        match url.split_once("://") {
            Some((scheme, rest)) => Ok(Url {
                scheme,
                rest,
                text: url,
            }),
            None => Err(UrlError::NotAUrl(redact(url))),
        }
    }

    /// The part before `?` and its `key=value` options.
    pub fn options(&self) -> (&'a str, Options<'a>) {
        match self.rest.split_once('?') {
            None => (self.rest, Vec::new()),
            Some((path, query)) => (
                path,
                query
                    .split('&')
                    .filter(|kv| !kv.is_empty())
                    .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
                    .collect(),
            ),
        }
    }

    /// The path of a file target and its options.
    pub fn path(&self) -> Result<(PathBuf, Options<'a>), UrlError> {
        let (path, options) = self.options();
        if path.is_empty() {
            return Err(UrlError::MissingPath(self.scheme.to_owned()));
        }
        Ok((PathBuf::from(path), options))
    }
}

/// `text` with its `%XX` escapes decoded (`%7Bid%7D` is `{id}`, `%26` is
/// `&`); an escape that is not one, or bytes that are not UTF-8, stay as
/// written.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

/// Refuses any option: for targets that take none.
pub fn no_options(options: &[(&str, &str)]) -> Result<(), UrlError> {
    match options.first() {
        Some((k, v)) => Err(UrlError::BadOption(format!("{k}={v}"))),
        None => Ok(()),
    }
}

/// `url` with the password of `user:password@` and any `password=` option
/// replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    // The user information ends at the last `@`: a password written by
    // hand may hold `/`, `?` or `#`, which would otherwise look like the
    // start of the path or the query. (An `@` further on hides more than
    // the password, never less.)
    let rest = match rest.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => rest.to_owned(),
        },
        None => rest.to_owned(),
    };
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest.as_str(), None),
    };
    let mut out = format!("{scheme}://{path}");
    if let Some(query) = query {
        let query: Vec<String> = query
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => kv.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&query.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_decode() {
        assert_eq!(
            percent_decode("%7Bconsumer_id%7D%20%7Bkwh%7D"),
            "{consumer_id} {kwh}"
        );
        assert_eq!(percent_decode("a%26b%3dc"), "a&b=c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%ff"), "%zz%ff");
    }

    #[test]
    fn urls_split_and_passwords_hide() {
        let url = Url::parse("csv://out/shop?x=1&y").unwrap();
        assert_eq!((url.scheme, url.rest), ("csv", "out/shop?x=1&y"));
        assert_eq!(url.options(), ("out/shop", vec![("x", "1"), ("y", "")]));
        assert_eq!(
            Url::parse("sqlite://").unwrap().path(),
            Err(UrlError::MissingPath("sqlite".into()))
        );
        assert_eq!(
            Url::parse("out.db"),
            Err(UrlError::NotAUrl("out.db".into()))
        );
        assert_eq!(
            redact("postgresql://u:pw@h/d?password=p&x=1"),
            "postgresql://u:***@h/d?password=***&x=1"
        );
        assert_eq!(redact("postgres://u@h/d"), "postgres://u@h/d");
        // Passwords written with the characters that end an authority.
        for (url, shown) in [
            ("postgres://u:se/cret@h/d", "postgres://u:***@h/d"),
            ("postgres://u:se?cret@h:5/d", "postgres://u:***@h:5/d"),
            ("postgres://u:a@b#c@h/d?x=1", "postgres://u:***@h/d?x=1"),
        ] {
            assert_eq!(redact(url), shown);
        }
    }
}
