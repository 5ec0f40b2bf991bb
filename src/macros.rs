//! Declarative macros shared by the ID and enum modules, and the builders' plain setters.

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

/// Chainable setters that store their argument in the field of the same name, for the options
/// of builders that do nothing but store them (a setter that checks or converts is written out
/// by hand). Each item is its doc comment, the name, and what it takes:
///
/// - `name: T;` stores `Some(value)`;
/// - `name: impl Into<T>;` stores `Some(value.into())`;
/// - `name = T;` stores the value itself, for a field that has a default instead of an `Option`.
macro_rules! setters {
    () => {};
    ($(#[$doc:meta])* $name:ident: impl Into<$ty:ty>; $($rest:tt)*) => {
        $(#[$doc])*
        pub fn $name(mut self, $name: impl Into<$ty>) -> Self {
            self.$name = Some($name.into());
            self
        }
        $crate::macros::setters!($($rest)*);
    };
    ($(#[$doc:meta])* $name:ident: $ty:ty; $($rest:tt)*) => {
        $(#[$doc])*
        pub fn $name(mut self, $name: $ty) -> Self {
            self.$name = Some($name);
            self
        }
        $crate::macros::setters!($($rest)*);
    };
    ($(#[$doc:meta])* $name:ident = $ty:ty; $($rest:tt)*) => {
        $(#[$doc])*
        pub fn $name(mut self, $name: $ty) -> Self {
            self.$name = $name;
            self
        }
        $crate::macros::setters!($($rest)*);
    };
}
pub(crate) use setters;

/// A kind's named shortcuts (`client.page(id)`, `owned_pages()`, …): each calls the generic
/// method that serves every kind, so a shortcut adds a name and nothing else. Each item is its
/// doc comment, its signature after `fn`, and `=> generic::<Kind>;` (or `=> generic;` where the
/// output names the kind); the arguments are passed on in order.
macro_rules! kind_shortcuts {
    () => {};
    (
        $(#[$doc:meta])*
        fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $out:ty => $target:ident $(::<$kind:ty>)?;
        $($rest:tt)*
    ) => {
        $(#[$doc])*
        pub fn $name(&self $(, $arg: $ty)*) -> $out {
            self.$target $(::<$kind>)? ($($arg),*)
        }
        $crate::macros::kind_shortcuts!($($rest)*);
    };
    (
        $(#[$doc:meta])*
        fn $name:ident(self $(, $arg:ident: $ty:ty)*) -> $out:ty => $target:ident $(::<$kind:ty>)?;
        $($rest:tt)*
    ) => {
        $(#[$doc])*
        pub fn $name(self $(, $arg: $ty)*) -> $out {
            self.$target $(::<$kind>)? ($($arg),*)
        }
        $crate::macros::kind_shortcuts!($($rest)*);
    };
}
pub(crate) use kind_shortcuts;
