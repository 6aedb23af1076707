//! A small macro for the many closed vocabularies of the domain: each value has a
//! stable snake_case code (stored and sent on the wire) and a French and English label.

/// Returned when a code is not one of a vocabulary's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown value")]
pub struct UnknownCode;

/// Declares a closed vocabulary: `as_str`, `parse`, `label(lang)` and `ALL`.
#[macro_export]
macro_rules! labelled_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $code:literal, $fr:literal, $en:literal;)+ }) => {
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

            /// The label in `lang` ("fr" by default, "en").
            pub fn label(self, lang: &str) -> &'static str {
                if lang == "en" {
                    match self { $($name::$variant => $en,)+ }
                } else {
                    match self { $($name::$variant => $fr,)+ }
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
