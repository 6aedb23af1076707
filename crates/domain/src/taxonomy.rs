//! The category taxonomy (what kind of digital violence) and the content types of
//! reported items.
//!
//! Categories are data, not code: the defaults (France's 3018) are embedded from
//! `data/taxonomy.toml`, and another helpline loads its own with
//! [`Taxonomy::from_toml`]. Each category maps to a DSA Transparency Database statement
//! category and to default legal articles.

use crate::notice::vocab;
use serde::{Deserialize, Serialize};

/// The embedded default taxonomy.
const DEFAULT_TOML: &str = include_str!("../data/taxonomy.toml");

/// The statement categories of the DSA Transparency Database (API v2, 2025), the only
/// values accepted in `dsa_category`.
pub const DSA_STATEMENT_CATEGORIES: [&str; 20] = [
    "STATEMENT_CATEGORY_ANIMAL_WELFARE",
    "STATEMENT_CATEGORY_CONSUMER_INFORMATION",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR",
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
    "STATEMENT_CATEGORY_SELF_HARM",
    "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS",
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
    "STATEMENT_CATEGORY_VIOLENCE",
];

/// Whether `s` is a DSA statement category this crate knows.
pub fn is_known_dsa_category(s: &str) -> bool {
    DSA_STATEMENT_CATEGORIES.contains(&s)
}

/// Whether `s` is a stable code: 1–64 chars of `a-z`, `0-9`, `_`, starting with a
/// letter, no leading, trailing or doubled `_`.
pub(crate) fn is_snake_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && !s.ends_with('_')
        && !s.contains("__")
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// One category of digital violence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// Stable snake_case code.
    pub code: String,
    /// French label.
    pub fr: String,
    /// English label.
    pub en: String,
    /// DSA Transparency Database statement category (`STATEMENT_CATEGORY_…`).
    pub dsa_category: String,
    /// Default legal articles, each a full reference ("Code pénal, art. 222-33-2-2").
    #[serde(default)]
    pub articles: Vec<String>,
    /// Whether images of this category are blurred for staff (and for minors, never
    /// stored: hashes only).
    #[serde(default)]
    pub sensitive_images: bool,
}

impl Category {
    /// The label in `lang` (`"en"`, otherwise French).
    pub fn label(&self, lang: &str) -> &str {
        if crate::notice::is_en(lang) {
            &self.en
        } else {
            &self.fr
        }
    }
}

/// Why a taxonomy could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TaxonomyError {
    /// The TOML did not parse or did not have the expected shape.
    #[error("taxonomy: {0}")]
    Toml(#[from] toml::de::Error),
    /// No category at all.
    #[error("taxonomy: no category")]
    Empty,
    /// A code that is not snake_case.
    #[error("taxonomy: invalid code {0:?}")]
    InvalidCode(String),
    /// Two categories with the same code.
    #[error("taxonomy: duplicate code {0:?}")]
    DuplicateCode(String),
    /// A blank label.
    #[error("taxonomy: category {0:?} has a blank label")]
    BlankLabel(String),
    /// A DSA category that is not a known statement category.
    #[error("taxonomy: category {code:?} has unknown DSA category {dsa_category:?}")]
    UnknownDsaCategory {
        /// The category's code.
        code: String,
        /// The rejected value.
        dsa_category: String,
    },
    /// A blank legal article.
    #[error("taxonomy: category {0:?} has a blank article")]
    BlankArticle(String),
}

/// The file's shape.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaxonomyFile {
    #[serde(default)]
    category: Vec<Category>,
}

/// The helpline's categories, validated, in display order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taxonomy {
    categories: Vec<Category>,
}

impl Taxonomy {
    /// The embedded defaults (`data/taxonomy.toml`).
    pub fn defaults() -> Result<Taxonomy, TaxonomyError> {
        Self::from_toml(DEFAULT_TOML)
    }

    /// Parses and validates a taxonomy: `[[category]]` tables with unique snake_case
    /// codes, non-blank labels and known DSA statement categories.
    pub fn from_toml(s: &str) -> Result<Taxonomy, TaxonomyError> {
        let file: TaxonomyFile = toml::from_str(s)?;
        Self::new(file.category)
    }

    /// Validates a list of categories.
    pub fn new(categories: Vec<Category>) -> Result<Taxonomy, TaxonomyError> {
        if categories.is_empty() {
            return Err(TaxonomyError::Empty);
        }
        for (i, c) in categories.iter().enumerate() {
            if !is_snake_code(&c.code) {
                return Err(TaxonomyError::InvalidCode(c.code.clone()));
            }
            if categories[..i].iter().any(|o| o.code == c.code) {
                return Err(TaxonomyError::DuplicateCode(c.code.clone()));
            }
            if c.fr.trim().is_empty() || c.en.trim().is_empty() {
                return Err(TaxonomyError::BlankLabel(c.code.clone()));
            }
            if !is_known_dsa_category(&c.dsa_category) {
                return Err(TaxonomyError::UnknownDsaCategory {
                    code: c.code.clone(),
                    dsa_category: c.dsa_category.clone(),
                });
            }
            if c.articles.iter().any(|a| a.trim().is_empty()) {
                return Err(TaxonomyError::BlankArticle(c.code.clone()));
            }
        }
        Ok(Taxonomy { categories })
    }

    /// The category with this code.
    pub fn get(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.code == code)
    }

    /// All categories, in display order.
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    /// Whether a category has this code.
    pub fn contains(&self, code: &str) -> bool {
        self.get(code).is_some()
    }
}

vocab!(
    /// What kind of object a reported item is on its platform.
    ContentType "content-type" {
        /// A public post or publication.
        Post => "post";
        /// A comment under a post.
        Comment => "comment";
        /// A whole account or profile.
        Account => "account";
        /// A private or group message.
        Message => "message";
        /// A picture.
        Image => "image";
        /// A video.
        Video => "video";
        /// An ephemeral story.
        Story => "story";
        /// A live stream.
        Live => "live";
        /// A group, server, channel or community.
        Group => "group";
        /// Anything else.
        Other => "other";
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_defaults_parse() {
        let t = Taxonomy::defaults().unwrap();
        assert_eq!(t.categories().len(), 11);
        let codes: Vec<&str> = t.categories().iter().map(|c| c.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "cyber_harassment",
                "intimate_images",
                "sextortion",
                "account_hacking",
                "identity_theft",
                "grooming",
                "shocking_content",
                "scam",
                "data_protection",
                "hate_speech",
                "other"
            ]
        );
        let h = t.get("cyber_harassment").unwrap();
        assert_eq!(h.label("fr"), "Cyberharcèlement");
        assert_eq!(h.label("en"), "Cyber-harassment");
        assert_eq!(h.dsa_category, "STATEMENT_CATEGORY_CYBER_VIOLENCE");
        assert_eq!(h.articles, ["Code pénal, art. 222-33-2-2"]);
        let sensitive: Vec<&str> = t
            .categories()
            .iter()
            .filter(|c| c.sensitive_images)
            .map(|c| c.code.as_str())
            .collect();
        assert_eq!(sensitive, ["intimate_images", "sextortion"]);
        assert!(t.contains("other") && !t.contains("nope"));
        assert!(
            t.get("sextortion")
                .unwrap()
                .articles
                .contains(&"Code pénal, art. 227-23-1".to_string())
        );
    }

    fn one(code: &str, fr: &str, dsa: &str) -> String {
        format!(
            "[[category]]\ncode = \"{code}\"\nfr = \"{fr}\"\nen = \"E\"\ndsa_category = \"{dsa}\"\n"
        )
    }

    #[test]
    fn validation() {
        let ok = "STATEMENT_CATEGORY_VIOLENCE";
        assert!(Taxonomy::from_toml(&one("a_b1", "F", ok)).is_ok());
        assert!(matches!(Taxonomy::from_toml(""), Err(TaxonomyError::Empty)));
        for bad in ["A", "a-b", "_a", "a_", "a__b", "1a", ""] {
            assert!(
                matches!(
                    Taxonomy::from_toml(&one(bad, "F", ok)),
                    Err(TaxonomyError::InvalidCode(_))
                ),
                "{bad}"
            );
        }
        let dup = one("x", "F", ok) + &one("x", "G", ok);
        assert!(matches!(
            Taxonomy::from_toml(&dup),
            Err(TaxonomyError::DuplicateCode(_))
        ));
        assert!(matches!(
            Taxonomy::from_toml(&one("x", " ", ok)),
            Err(TaxonomyError::BlankLabel(_))
        ));
        assert!(matches!(
            Taxonomy::from_toml(&one("x", "F", "STATEMENT_CATEGORY_NOPE")),
            Err(TaxonomyError::UnknownDsaCategory { .. })
        ));
        assert!(matches!(
            Taxonomy::from_toml(&(one("x", "F", ok) + "colour = \"red\"\n")),
            Err(TaxonomyError::Toml(_))
        ));
    }

    #[test]
    fn content_types() {
        assert_eq!(ContentType::ALL.len(), 10);
        for c in ContentType::ALL {
            assert_eq!(ContentType::parse(c.as_str()).unwrap(), c);
            assert_eq!(c.key(), format!("content-type-{}", c.as_str()));
        }
        assert_eq!(ContentType::Live.key(), "content-type-live");
        assert!(ContentType::parse("reel").is_err());
    }
}
