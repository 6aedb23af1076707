//! A small macro for the many closed vocabularies of the domain: each value has a stable
//! snake_case code (stored and sent on the wire). Their words are not here: the console's
//! catalogues hold them under each value's `key()` (`<vocabulary>-<code>`).

/// Returned when a code is not one of a vocabulary's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown value")]
pub struct UnknownCode;

/// A closed vocabulary's value: the key of its words in the catalogues.
pub trait Vocabulary: Copy {
    /// `<vocabulary>-<code>`, e.g. `case-status-in_progress`.
    fn key(self) -> &'static str;
}

/// Declares a closed vocabulary: `as_str`, `parse`, `key` and `ALL`.
#[macro_export]
macro_rules! labelled_enum {
    ($(#[$doc:meta])* $name:ident $kind:literal { $($(#[$vdoc:meta])* $variant:ident => $code:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stable code.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            /// Parses a stable code.
            pub fn parse(s: &str) -> Result<Self, $crate::labelled::UnknownCode> {
                match s {
                    $($code => Ok($name::$variant),)+
                    _ => Err($crate::labelled::UnknownCode),
                }
            }

            /// The vocabulary's name in the catalogues.
            pub const KIND: &'static str = $kind;

            /// The key of this value's words in the catalogues.
            pub fn key(self) -> &'static str {
                match self { $($name::$variant => concat!($kind, "-", $code),)+ }
            }
        }

        impl $crate::labelled::Vocabulary for $name {
            fn key(self) -> &'static str {
                $name::key(self)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
