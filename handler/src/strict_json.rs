//! A JSON reader that refuses duplicate object keys.
//!
//! serde_json keeps the last of two equal keys, so a config that names a host
//! twice would quietly mean whichever entry came second: an edit meant to
//! replace a secret could leave the old one working, or the reverse. This
//! reader builds the same [`Value`] but stops at the first duplicate and says
//! where it was.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// A key that appears twice in the same object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Duplicate {
    /// Two top-level keys are the same.
    Top(String),
    /// Inside the value of the top-level key `top`, an object has `key`
    /// twice (a field of a host entry, or a key deeper down).
    Inside {
        /// The top-level key whose value holds the duplicate.
        top: String,
        /// The repeated key.
        key: String,
    },
}

/// Why a document could not be read.
#[derive(Debug)]
pub(crate) enum StrictError {
    /// Not JSON, or not an object at the top.
    Json(serde_json::Error),
    /// A key appears twice in one object.
    Duplicate(Duplicate),
}

/// Reads a JSON object, refusing a duplicate key at any depth.
pub(crate) fn object_from_slice(bytes: &[u8]) -> Result<Map<String, Value>, StrictError> {
    let found = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = TopLevel { found: &found }
        .deserialize(&mut de)
        .and_then(|map| de.end().map(|()| map));
    match (parsed, found.into_inner()) {
        (_, Some(duplicate)) => Err(StrictError::Duplicate(duplicate)),
        (Ok(map), None) => Ok(map),
        (Err(err), None) => Err(StrictError::Json(err)),
    }
}

/// The top-level object. Duplicates are reported through `found` rather than
/// in the serde error, whose text is only a string.
struct TopLevel<'a> {
    found: &'a RefCell<Option<Duplicate>>,
}

impl<'de> DeserializeSeed<'de> for TopLevel<'_> {
    type Value = Map<String, Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TopLevel<'_> {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                *self.found.borrow_mut() = Some(Duplicate::Top(key));
                return Err(A::Error::custom("duplicate key"));
            }
            let value = map.next_value_seed(Nested {
                top: &key,
                found: self.found,
            })?;
            out.insert(key, value);
        }
        Ok(out)
    }
}

/// Any value below a top-level key.
#[derive(Clone, Copy)]
struct Nested<'a> {
    top: &'a str,
    found: &'a RefCell<Option<Duplicate>>,
}

impl<'de> DeserializeSeed<'de> for Nested<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Nested<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // JSON has no NaN or infinity, so a parsed float always converts.
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(value) = seq.next_element_seed(self)? {
            out.push(value);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                *self.found.borrow_mut() = Some(Duplicate::Inside {
                    top: self.top.to_owned(),
                    key,
                });
                return Err(A::Error::custom("duplicate key"));
            }
            let value = map.next_value_seed(self)?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Map<String, Value>, StrictError> {
        object_from_slice(text.as_bytes())
    }

    #[test]
    fn reads_what_serde_json_reads() {
        let text = r#"{"b": {"x": [1, -2, 3.5, "s", null, true, {"y": {}}]}, "a": 1}"#;
        let strict = read(text).unwrap();
        let loose: Map<String, Value> = serde_json::from_str(text).unwrap();
        assert_eq!(strict, loose);
        // Key order is kept, as the config's round trip needs.
        assert_eq!(strict.keys().collect::<Vec<_>>(), ["b", "a"]);
    }

    #[test]
    fn names_the_first_duplicate() {
        let dup = |text: &str| match read(text) {
            Err(StrictError::Duplicate(d)) => d,
            other => panic!("{other:?}"),
        };
        assert_eq!(dup(r#"{"h": {}, "h": {}}"#), Duplicate::Top("h".into()));
        assert_eq!(
            dup(r#"{"h": {"secret": "a", "secret": "b"}}"#),
            Duplicate::Inside {
                top: "h".into(),
                key: "secret".into()
            }
        );
        assert_eq!(
            dup(r#"{"h": {"note": [{"k": 1, "k": 2}]}}"#),
            Duplicate::Inside {
                top: "h".into(),
                key: "k".into()
            }
        );
        // The same key in different objects is no duplicate.
        assert!(read(r#"{"h": {"k": {"k": 1}}, "i": {"k": 2}}"#).is_ok());
    }

    #[test]
    fn other_faults_are_json_errors() {
        for text in ["", "[1]", "\"s\"", "{", r#"{"a": 1} x"#, r#"{"a" 1}"#] {
            assert!(matches!(read(text), Err(StrictError::Json(_))), "{text:?}");
        }
    }
}
