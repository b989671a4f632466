//! A strict query-string reader.
//!
//! `form_urlencoded` and friends decode invalid UTF-8 lossily and keep the
//! last of duplicated keys. A hostname whose bytes changed in decoding would
//! then be hashed differently from what the client hashed, and `mode=get&
//! mode=set` would mean whichever came last, so this reader refuses both.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

/// Why a query string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// A parameter's name or value is not UTF-8 once decoded.
    #[error("the query string is not valid UTF-8")]
    NotUtf8,
    /// The same parameter appears twice.
    #[error("the parameter '{0}' is given more than once")]
    Duplicate(String),
}

/// Decoded query parameters, in request order.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Decodes `application/x-www-form-urlencoded` pairs (`+` is a space).
    pub fn parse(raw: Option<&str>) -> Result<Self, QueryError> {
        let mut pairs = Vec::new();
        for part in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((decode(name)?, decode(value)?));
        }
        Ok(Self { pairs })
    }

    /// The value of `name`, if given once; an error if given more than once.
    pub fn get(&self, name: &str) -> Result<Option<&str>, QueryError> {
        let mut found = self.pairs.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str());
        let first = found.next();
        if found.next().is_some() {
            return Err(QueryError::Duplicate(name.to_owned()));
        }
        Ok(first)
    }
}

fn decode(part: &str) -> Result<String, QueryError> {
    let spaced: Cow<'_, str> = if part.contains('+') {
        Cow::Owned(part.replace('+', " "))
    } else {
        Cow::Borrowed(part)
    };
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(Cow::into_owned)
        .map_err(|_| QueryError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_pairs() {
        let q = Query::parse(Some("mode=set&hostname=h.example.com.&hash=AB&flag&x=a+b%2Bc")).unwrap();
        assert_eq!(q.get("mode"), Ok(Some("set")));
        assert_eq!(q.get("hostname"), Ok(Some("h.example.com.")));
        assert_eq!(q.get("flag"), Ok(Some("")));
        assert_eq!(q.get("x"), Ok(Some("a b+c")));
        assert_eq!(q.get("missing"), Ok(None));
        assert_eq!(Query::parse(None).unwrap().get("mode"), Ok(None));
    }

    #[test]
    fn refuses_duplicates_and_bad_bytes() {
        let q = Query::parse(Some("mode=get&mode=set")).unwrap();
        assert_eq!(q.get("mode"), Err(QueryError::Duplicate("mode".into())));
        assert_eq!(
            Query::parse(Some("hostname=%FF.example.com")).unwrap_err(),
            QueryError::NotUtf8
        );
        assert_eq!(Query::parse(Some("%C3=1")).unwrap_err(), QueryError::NotUtf8);
    }
}
