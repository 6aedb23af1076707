//! French and English from Project Fluent catalogues (`i18n/*.ftl`), French by default.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::collections::HashMap;

/// Supported languages, default first.
pub const LANGS: &[&str] = &["fr", "en"];

/// A language asked for: none or empty is none; another than [`LANGS`] is refused.
pub fn known_lang(asked: Option<&str>) -> Result<Option<String>, rempart_app::AppError> {
    match asked.map(str::trim) {
        None | Some("") => Ok(None),
        Some(l) => LANGS
            .iter()
            .find(|x| **x == l)
            .map(|x| Some((*x).to_owned()))
            .ok_or_else(|| rempart_app::AppError::field("lang", "fr or en")),
    }
}

const SOURCES: &[(&str, &str)] = &[
    ("fr", include_str!("../i18n/fr.ftl")),
    ("en", include_str!("../i18n/en.ftl")),
    ("fr", include_str!("../i18n/vocab.fr.ftl")),
    ("en", include_str!("../i18n/vocab.en.ftl")),
];

/// The words of the domain's closed vocabularies (`vocab.*.ftl`: plain `key = words` lines),
/// looked up without a bundle so that a value's words are `&'static`.
fn vocab_words() -> &'static HashMap<(&'static str, &'static str), &'static str> {
    static WORDS: std::sync::OnceLock<HashMap<(&'static str, &'static str), &'static str>> =
        std::sync::OnceLock::new();
    WORDS.get_or_init(|| {
        let mut m = HashMap::new();
        for (lang, src) in [
            ("fr", include_str!("../i18n/vocab.fr.ftl")),
            ("en", include_str!("../i18n/vocab.en.ftl")),
        ] {
            for line in src.lines().filter(|l| !l.starts_with('#')) {
                if let Some((k, v)) = line.split_once(" = ") {
                    m.insert((lang, k.trim()), v.trim());
                }
            }
        }
        m
    })
}

/// A vocabulary value's words in `lang` (French by default); its key when the catalogue
/// lacks it (a test makes sure none does).
pub trait Said {
    /// The words.
    fn said(self, lang: &str) -> &'static str;
}

impl<V: rempart_domain::labelled::Vocabulary> Said for V {
    fn said(self, lang: &str) -> &'static str {
        let key = self.key();
        vocab_words()
            .get(&(I18n::lang(lang), key))
            .copied()
            .unwrap_or(key)
    }
}

/// The loaded catalogues.
pub struct I18n {
    bundles: HashMap<&'static str, FluentBundle<FluentResource>>,
}

/// A catalogue failed to load (a build defect, caught by tests).
#[derive(Debug, thiserror::Error)]
#[error("catalogue {0}: {1}")]
pub struct I18nError(pub &'static str, pub String);

impl I18n {
    /// Loads the embedded catalogues.
    pub fn load() -> Result<I18n, I18nError> {
        let mut bundles: HashMap<&'static str, FluentBundle<FluentResource>> = HashMap::new();
        for (lang, src) in SOURCES {
            let res = FluentResource::try_new((*src).to_owned())
                .map_err(|(_, errs)| I18nError(lang, format!("{errs:?}")))?;
            let b = match bundles.entry(*lang) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    let id: unic_langid::LanguageIdentifier = lang
                        .parse()
                        .map_err(|_| I18nError(lang, "bad language id".into()))?;
                    let mut b = FluentBundle::new_concurrent(vec![id]);
                    b.set_use_isolating(false);
                    e.insert(b)
                }
            };
            b.add_resource(res)
                .map_err(|errs| I18nError(lang, format!("{errs:?}")))?;
        }
        Ok(I18n { bundles })
    }

    /// Normalises a requested language to a supported one.
    pub fn lang(requested: &str) -> &'static str {
        let r = requested.trim().to_ascii_lowercase();
        LANGS
            .iter()
            .copied()
            .find(|l| r == *l || r.starts_with(&format!("{l}-")))
            .unwrap_or("fr")
    }

    /// The message `key` in `lang`, with `args`; the key itself when missing (and a
    /// test makes sure none is).
    pub fn t(&self, lang: &str, key: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        let Some(b) = self.bundles.get(I18n::lang(lang)) else {
            return key.to_owned();
        };
        let Some(msg) = b.get_message(key) else {
            return key.to_owned();
        };
        let Some(pattern) = msg.value() else {
            return key.to_owned();
        };
        let mut fa = FluentArgs::new();
        for (k, v) in args {
            fa.set(*k, v.clone());
        }
        let mut errs = vec![];
        b.format_pattern(
            pattern,
            if args.is_empty() { None } else { Some(&fa) },
            &mut errs,
        )
        .into_owned()
    }

    /// Whether `key` exists in `lang`.
    pub fn has(&self, lang: &str, key: &str) -> bool {
        self.bundles.get(lang).is_some_and(|b| b.has_message(key))
    }

    /// Keys of a catalogue (for the completeness test).
    pub fn keys(lang: &str) -> Vec<String> {
        SOURCES
            .iter()
            .filter(|(l, _)| *l == lang)
            .flat_map(|(_, src)| src.lines())
            .filter_map(|l| {
                let (k, _) = l.split_once('=')?;
                let k = k.trim();
                (!k.is_empty()
                    && !l.starts_with(' ')
                    && !l.starts_with('#')
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                .then(|| k.to_owned())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogues_load_and_have_the_same_keys() {
        let i = I18n::load().unwrap();
        let fr = I18n::keys("fr");
        let en = I18n::keys("en");
        assert!(fr.len() > 50);
        for k in &fr {
            assert!(i.has("en", k), "missing in en: {k}");
        }
        for k in &en {
            assert!(i.has("fr", k), "missing in fr: {k}");
        }
        assert_eq!(i.t("fr", "nav-cases", &[]), "Dossiers");
        // every value of every closed vocabulary has its words in both languages, and they
        // are not its code
        macro_rules! said {
            ($($t:ty),+) => {$(
                for v in <$t>::ALL {
                    for lang in ["fr", "en"] {
                        let w = v.said(lang);
                        assert!(w != v.key() && !w.is_empty(), "no {lang} words for {}", v.key());
                        assert!(i.has(lang, v.key()), "{} not in the {lang} catalogue", v.key());
                    }
                }
            )+};
        }
        use rempart_domain::{
            case::*, chat::*, contact::*, directory::*, document::*, evidence::*, notice::*,
            policy::*, referral::*, taxonomy::*, values::*,
        };
        said!(
            ComplaintAudience,
            ReferralMailState,
            CaseStatus,
            CaseOutcome,
            NoteVisibility,
            ConsentScope,
            EvidenceKind,
            EvidenceSource,
            EvidenceCopy,
            ConversationStatus,
            Sender,
            RiskKind,
            ItemStatus,
            Role,
            Channel,
            CallerType,
            AgeBand,
            ContactOutcome,
            NoticeChannel,
            ServiceKind,
            NoticeState,
            Decision,
            DecisionKind,
            MissingElement,
            ReferralState,
            ConsentBasis,
            ContentType
        );
        assert_eq!(CaseStatus::InProgress.said("fr"), "en cours");
        assert_eq!(CaseStatus::InProgress.said("en-GB"), "in progress");
        // every audit action has its words in both languages
        for a in rempart_domain::audit::event::ACTIONS {
            let k = rempart_domain::audit::event::action_key(a);
            assert!(i.has("fr", &k) && i.has("en", &k), "no words for {a}");
        }
        assert_eq!(i.t("en", "nav-cases", &[]), "Cases");
        assert_eq!(I18n::lang("en-GB"), "en");
        assert_eq!(I18n::lang("de"), "fr");
    }
}
