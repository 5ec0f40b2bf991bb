//! Declarative macros shared by the ID and enum modules.

/// Defines a string-backed enum whose unknown values are kept, not lost.
///
/// The last variant carries the raw string: when a value comes from the server it holds what
/// was sent; when the caller builds it, it is an explicit escape for a value this crate does
/// not list yet (validated before it is sent).
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal, )+
        }
        $(#[$emeta:meta])*
        escape $escape:ident;
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        $vis enum $name {
            $( $(#[$vmeta])* #[doc = concat!("`", $wire, "`")] $variant, )+
            $(#[$emeta])*
            $escape(String),
        }

        impl $name {
            /// Every value this crate knows, in wire order.
            pub const KNOWN: &'static [$name] = &[ $( $name::$variant, )+ ];

            /// The value exactly as the Graph API spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )+
                    $name::$escape(raw) => raw.as_str(),
                }
            }

            /// Whether this value is one this crate does not list.
            pub fn is_unlisted(&self) -> bool {
                matches!(self, $name::$escape(_))
            }

            fn from_wire(raw: &str) -> Self {
                match raw {
                    $( $wire => $name::$variant, )+
                    other => $name::$escape(other.to_owned()),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from_wire(s))
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self::from_wire(s)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                let raw = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                let value = Self::from_wire(&raw);
                if value.is_unlisted() {
                    ::tracing::debug!(value = %raw, kind = stringify!($name), "unlisted enum value kept as-is");
                }
                Ok(value)
            }
        }
    };
}

pub(crate) use string_enum;
