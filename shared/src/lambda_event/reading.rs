//! Reading an invocation's bytes into [`InvocationEvent`] in one pass: hand-written serde
//! visitors keep the fields a delivery needs, skip everything else unread, and turn a value of
//! the wrong type into an unusable field rather than an error of the runtime.

use super::{Field, InvocationEvent, Unusable};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::collections::HashMap;
use std::fmt;

/// The event's top-level names this crate reads, in [`InvocationEvent`]'s order.
const EVENT_FIELDS: [&str; 8] = [
    "version",
    "httpMethod",
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "requestContext",
    "body",
    "isBase64Encoded",
];

impl<'de> serde::Deserialize<'de> for InvocationEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(EventVisitor)
    }
}

/// A seed that is its own visitor: it reads whatever JSON value stands there.
macro_rules! any_seed {
    ($seed:ty, $value:ty) => {
        impl<'de> DeserializeSeed<'de> for $seed {
            type Value = $value;

            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
        }
    };
}

/// What a visitor gives for the JSON flags and numbers it has no reading for: `$value`.
macro_rules! other_scalars {
    ($value:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($value)
        }
    };
}

/// The same for every value but lists and objects (strings and null too).
macro_rules! other_values {
    ($value:expr) => {
        other_scalars!($value);
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($value)
        }
    };
}

/// The top level: an object whose known names are read, the rest skipped. Anything but an
/// object is an event with none of our fields (refused as no known shape).
struct EventVisitor;

impl<'de> Visitor<'de> for EventVisitor {
    type Value = InvocationEvent;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an invocation event")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut event = InvocationEvent::default();
        // A name given twice: the last value counts, as in a JSON value.
        while let Some(name) = map.next_key_seed(NameOf(&EVENT_FIELDS))? {
            match name {
                Some(0) => event.version = map.next_value_seed(Scalar).map(Some)?,
                Some(1) => event.http_method = map.next_value_seed(Scalar).map(Some)?,
                Some(2) => event.headers = map.next_value_seed(HeadersField).map(Some)?,
                Some(3) => {
                    event.multi_value_headers = map.next_value_seed(HeadersField).map(Some)?
                }
                Some(4) => {
                    event.query_string_parameters =
                        map.next_value_seed(ParametersField).map(Some)?
                }
                Some(5) => {
                    event.context_method = map.next_value_seed(Within(&["http", "method"]))?
                }
                Some(6) => event.body = map.next_value_seed(Scalar).map(Some)?,
                Some(7) => event.is_base64_encoded = map.next_value_seed(Scalar).map(Some)?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(event)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(InvocationEvent::default())
    }

    other_values!(InvocationEvent::default());
}

/// A map key, read as bytes and handed to the function. Asked for as a string, a key would be
/// copied into a `String` by the runtime's reader (`serde_path_to_error` keeps each one to name
/// the path of an error), for each of the event's dozens of names; as bytes it is not copied,
/// and is not checked as UTF-8, which the names compared and header names (ASCII) do not need.
struct Key<F>(F);

impl<'de, T, F: FnOnce(&[u8]) -> T> DeserializeSeed<'de> for Key<F> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_bytes(self)
    }
}

impl<'de, T, F: FnOnce(&[u8]) -> T> Visitor<'de> for Key<F> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_bytes<E: de::Error>(self, name: &[u8]) -> Result<Self::Value, E> {
        Ok((self.0)(name))
    }

    /// A JSON value's keys (fixtures, tests) come as strings.
    fn visit_str<E: de::Error>(self, name: &str) -> Result<Self::Value, E> {
        Ok((self.0)(name.as_bytes()))
    }
}

/// A map key: the index of the name among `self.0`, or `None` for any other name.
struct NameOf(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for NameOf {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        let known = self.0;
        Key(|name: &[u8]| known.iter().position(|k| k.as_bytes() == name)).deserialize(deserializer)
    }
}

/// The value at a path of object names inside the value read (`requestContext` → `http` →
/// `method`): `None` when a name is missing, `Other` when something on the way is no object.
struct Within(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for Within {
    type Value = Option<Field>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        match self.0 {
            [] => Scalar.deserialize(deserializer).map(Some),
            _ => deserializer.deserialize_any(self),
        }
    }
}

impl<'de> Visitor<'de> for Within {
    type Value = Option<Field>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (first, rest) = self.0.split_first().expect("a path, not the end of it");
        let mut found = None;
        while let Some(name) = map.next_key_seed(NameOf(std::slice::from_ref(first)))? {
            match name {
                Some(_) => found = map.next_value_seed(Within(rest))?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(found)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Some(Field::Other))
    }

    other_values!(Some(Field::Other));
}

/// Skips what is left of a map or a list: its values are not needed once one is unusable.
fn skip_entries<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

fn skip_elements<'de, A: SeqAccess<'de>>(seq: &mut A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

/// What a visitor of a map-valued field gives for a value that is not a map: null is an empty
/// field, anything else is `Other`, skipped.
macro_rules! not_a_map {
    () => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Field::Null)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Field::Null)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            skip_elements(&mut seq)?;
            Ok(Field::Other)
        }
        other_scalars!(Field::Other);
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Field::Other)
        }
    };
}

/// A field that holds one value: a string, a flag or null; anything else is `Other`.
#[derive(Clone, Copy)]
struct Scalar;

any_seed!(Scalar, Field);

impl<'de> Visitor<'de> for Scalar {
    type Value = Field;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, a flag or null")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Field::Text(text.to_owned()))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
        Ok(Field::Text(text))
    }

    fn visit_bool<E: de::Error>(self, flag: bool) -> Result<Self::Value, E> {
        Ok(Field::Flag(flag))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Field::Other)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Field::Other)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Field::Other)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Field::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Field::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        skip_elements(&mut seq)?;
        Ok(Field::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        skip_entries(&mut map)?;
        Ok(Field::Other)
    }
}

/// `headers` or `multiValueHeaders`, read straight into a `HeaderMap`: each name with a string
/// or a list of strings. One name or value that HTTP cannot carry makes the field `Other`.
struct HeadersField;

any_seed!(HeadersField, Field);

impl<'de> Visitor<'de> for HeadersField {
    type Value = Field;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of strings or lists of strings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut headers = HeaderMap::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(name) = map.next_key_seed(Key(|name: &[u8]| HeaderName::from_bytes(name)))? {
            let appended = match name {
                Ok(name) => map.next_value_seed(HeaderValues {
                    headers: &mut headers,
                    name,
                })?,
                Err(_) => map.next_value::<IgnoredAny>().map(|_| Err(Unusable))?,
            };
            if appended.is_err() {
                skip_entries(&mut map)?;
                return Ok(Field::Other);
            }
        }
        Ok(Field::Headers(headers))
    }

    not_a_map!();
}

/// One header's value or list of values, appended to the map under `name`.
struct HeaderValues<'m> {
    headers: &'m mut HeaderMap,
    name: HeaderName,
}

any_seed!(HeaderValues<'_>, Result<(), Unusable>);

impl<'de> Visitor<'de> for HeaderValues<'_> {
    type Value = Result<(), Unusable>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a list of strings")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(HeaderText.visit_str::<E>(text)?.map(|value| {
            self.headers.append(self.name, value);
        }))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while let Some(value) = seq.next_element_seed(HeaderText)? {
            match value {
                Ok(value) => {
                    self.headers.append(&self.name, value);
                }
                Err(Unusable) => {
                    skip_elements(&mut seq)?;
                    return Ok(Err(Unusable));
                }
            }
        }
        Ok(Ok(()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        skip_entries(&mut map)?;
        Ok(Err(Unusable))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Err(Unusable))
    }

    other_scalars!(Err(Unusable));
}

/// One string of a header's list of values.
struct HeaderText;

any_seed!(HeaderText, Result<HeaderValue, Unusable>);

impl<'de> Visitor<'de> for HeaderText {
    type Value = Result<HeaderValue, Unusable>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(HeaderValue::from_str(text).map_err(|_| Unusable))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        skip_elements(&mut seq)?;
        Ok(Err(Unusable))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        skip_entries(&mut map)?;
        Ok(Err(Unusable))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Err(Unusable))
    }

    other_scalars!(Err(Unusable));
}

/// `queryStringParameters`: each name's first value, a string or the first of a list of
/// strings (an empty list gives none); the first time a name is given counts.
struct ParametersField;

any_seed!(ParametersField, Field);

impl<'de> Visitor<'de> for ParametersField {
    type Value = Field;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of strings or lists of strings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut first = HashMap::with_capacity(map.size_hint().unwrap_or(0));
        let name_of = |name: &[u8]| std::str::from_utf8(name).map(str::to_owned);
        while let Some(name) = map.next_key_seed(Key(name_of))? {
            let value = match name {
                Ok(name) => map.next_value_seed(FirstText)?.map(|value| (name, value)),
                Err(_) => map.next_value::<IgnoredAny>().map(|_| Err(Unusable))?,
            };
            match value {
                Ok((name, Some(value))) => {
                    first.entry(name).or_insert(value);
                }
                Ok((_, None)) => {}
                Err(Unusable) => {
                    skip_entries(&mut map)?;
                    return Ok(Field::Other);
                }
            }
        }
        Ok(Field::Parameters(first))
    }

    not_a_map!();
}

/// A parameter's value: a string, or the first of a list of strings.
struct FirstText;

any_seed!(FirstText, Result<Option<String>, Unusable>);

impl<'de> Visitor<'de> for FirstText {
    type Value = Result<Option<String>, Unusable>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a list of strings")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Ok(Some(text.to_owned())))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
        Ok(Ok(Some(text)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut first = None;
        while let Some(item) = seq.next_element_seed(Scalar)? {
            match item {
                Field::Text(text) => {
                    first.get_or_insert(text);
                }
                _ => {
                    skip_elements(&mut seq)?;
                    return Ok(Err(Unusable));
                }
            }
        }
        Ok(Ok(first))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        skip_entries(&mut map)?;
        Ok(Err(Unusable))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Err(Unusable))
    }

    other_scalars!(Err(Unusable));
}
