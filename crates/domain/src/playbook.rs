//! Playbooks: what to do, per category of case — a checklist the counsellor ticks on the
//! case, advice texts the counsellor can send in the chat in one click, steps that apply
//! only to some platforms (each platform's account recovery path), and the services a step
//! suggests.
//!
//! Data: the defaults are embedded from `data/playbooks.toml` (written for French law and
//! services); supervisors edit their helpline's document in the console. A document is
//! parsed and checked on its own ([`Playbooks::parse`]: codes, duplicates, blank texts,
//! lengths) and against the reference data ([`Playbooks::check_references`]: every
//! category, platform and service it names exists). A stored document is used as long as
//! it parses; a reference that disappeared since (a platform removed from the directory)
//! only hides what names it.

use crate::directory::Directory;
use crate::taxonomy::{Taxonomy, is_snake_code};
use serde::{Deserialize, Serialize};

/// The embedded default playbooks.
pub const DEFAULT_PLAYBOOKS: &str = include_str!("../data/playbooks.toml");

/// The longest step text, in characters.
pub const MAX_STEP_CHARS: usize = 1000;
/// The longest advice text (it becomes a chat message), in characters.
pub const MAX_ADVICE_CHARS: usize = 4000;
/// The most steps in one playbook.
pub const MAX_STEPS: usize = 80;

/// One step of a playbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Stable snake_case code, unique in its playbook (ticks refer to it).
    pub code: String,
    /// What to do, in French.
    pub fr: String,
    /// What to do, in English.
    pub en: String,
    /// The platforms it applies to (none: every case of the category).
    #[serde(default)]
    pub platforms: Vec<String>,
    /// The advice to send the young person, in French.
    #[serde(default)]
    pub advice_fr: Option<String>,
    /// The advice to send the young person, in English.
    #[serde(default)]
    pub advice_en: Option<String>,
    /// Services this step suggests (codes of the services directory).
    #[serde(default)]
    pub services: Vec<String>,
}

impl Step {
    /// What to do, in `lang` (`"en"`, otherwise French).
    pub fn text(&self, lang: &str) -> &str {
        if crate::notice::is_en(lang) {
            &self.en
        } else {
            &self.fr
        }
    }

    /// The advice to send, in `lang`, if the step has one.
    pub fn advice(&self, lang: &str) -> Option<&str> {
        if crate::notice::is_en(lang) {
            self.advice_en.as_deref()
        } else {
            self.advice_fr.as_deref()
        }
    }

    /// Whether it applies to a case whose items are on `platforms`: a step naming no
    /// platform always does; one naming some, when the case has an item on one of them.
    pub fn applies_to(&self, platforms: &[String]) -> bool {
        self.platforms.is_empty() || self.platforms.iter().any(|p| platforms.contains(p))
    }

    /// Whether it is specific to some platforms.
    pub fn is_platform_specific(&self) -> bool {
        !self.platforms.is_empty()
    }
}

/// The playbook of one category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    /// The category's code (the taxonomy's): one playbook per category.
    pub category: String,
    /// Its title, in French.
    pub fr: String,
    /// Its title, in English.
    pub en: String,
    /// Its steps, in order.
    #[serde(rename = "step", default)]
    pub steps: Vec<Step>,
}

impl Playbook {
    /// The title in `lang`.
    pub fn title(&self, lang: &str) -> &str {
        if crate::notice::is_en(lang) {
            &self.en
        } else {
            &self.fr
        }
    }

    /// The step with this code.
    pub fn step(&self, code: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.code == code)
    }
}

/// Why a playbooks document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaybookError {
    /// Not TOML, or not the expected shape (the parser's message, with its line).
    #[error("syntax: {0}")]
    Syntax(String),
    /// A code that is not snake_case.
    #[error("invalid code {0:?}")]
    InvalidCode(String),
    /// Two playbooks for one category.
    #[error("two playbooks for the category {0:?}")]
    DuplicatePlaybook(String),
    /// Two steps with one code in a playbook.
    #[error("two steps {step:?} in the playbook {playbook:?}")]
    DuplicateStep {
        /// The playbook's category.
        playbook: String,
        /// The repeated code.
        step: String,
    },
    /// A blank text.
    #[error("{code:?} has a blank {field}")]
    Blank {
        /// The playbook's category or the step's code.
        code: String,
        /// Which field.
        field: &'static str,
    },
    /// Advice in one language only.
    #[error("step {0:?} has advice in one language only")]
    AdviceHalf(String),
    /// A text longer than allowed.
    #[error("step {0:?} has a text that is too long")]
    TooLong(String),
    /// A playbook with too many steps.
    #[error("playbook {0:?} has too many steps")]
    TooManySteps(String),
    /// A category the taxonomy does not know.
    #[error("unknown category {0:?}")]
    UnknownCategory(String),
    /// A platform the directory does not know.
    #[error("step {step:?} names an unknown platform {platform:?}")]
    UnknownPlatform {
        /// The step.
        step: String,
        /// The platform code.
        platform: String,
    },
    /// A service the directory does not know.
    #[error("step {step:?} names an unknown service {service:?}")]
    UnknownService {
        /// The step.
        step: String,
        /// The service code.
        service: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    playbook: Vec<Playbook>,
}

/// A checked set of playbooks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Playbooks {
    playbooks: Vec<Playbook>,
}

fn blank(code: &str, field: &'static str) -> PlaybookError {
    PlaybookError::Blank {
        code: code.to_owned(),
        field,
    }
}

impl Playbooks {
    /// The embedded defaults, checked against the default taxonomy and directory.
    pub fn defaults() -> Result<Playbooks, PlaybookError> {
        Self::parse(DEFAULT_PLAYBOOKS)
    }

    /// Parses a document and checks it on its own: snake_case codes, one playbook per
    /// category, step codes unique in their playbook, no blank title or text, advice in
    /// both languages or neither, lengths within bounds.
    pub fn parse(text: &str) -> Result<Playbooks, PlaybookError> {
        let f: File = toml::from_str(text).map_err(|e| PlaybookError::Syntax(e.to_string()))?;
        for (i, p) in f.playbook.iter().enumerate() {
            if !is_snake_code(&p.category) {
                return Err(PlaybookError::InvalidCode(p.category.clone()));
            }
            if f.playbook[..i].iter().any(|o| o.category == p.category) {
                return Err(PlaybookError::DuplicatePlaybook(p.category.clone()));
            }
            if p.fr.trim().is_empty() {
                return Err(blank(&p.category, "fr"));
            }
            if p.en.trim().is_empty() {
                return Err(blank(&p.category, "en"));
            }
            if p.steps.len() > MAX_STEPS {
                return Err(PlaybookError::TooManySteps(p.category.clone()));
            }
            for (j, s) in p.steps.iter().enumerate() {
                check_step(s)?;
                if p.steps[..j].iter().any(|o| o.code == s.code) {
                    return Err(PlaybookError::DuplicateStep {
                        playbook: p.category.clone(),
                        step: s.code.clone(),
                    });
                }
            }
        }
        Ok(Playbooks {
            playbooks: f.playbook,
        })
    }

    /// Checks that every category, platform and service named exists.
    pub fn check_references(
        &self,
        taxonomy: &Taxonomy,
        directory: &Directory,
    ) -> Result<(), PlaybookError> {
        for p in &self.playbooks {
            if !taxonomy.contains(&p.category) {
                return Err(PlaybookError::UnknownCategory(p.category.clone()));
            }
            for s in &p.steps {
                if let Some(x) = s.platforms.iter().find(|x| directory.platform(x).is_none()) {
                    return Err(PlaybookError::UnknownPlatform {
                        step: s.code.clone(),
                        platform: x.clone(),
                    });
                }
                if let Some(x) = s.services.iter().find(|x| directory.service(x).is_none()) {
                    return Err(PlaybookError::UnknownService {
                        step: s.code.clone(),
                        service: x.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// All playbooks, in document order.
    pub fn all(&self) -> &[Playbook] {
        &self.playbooks
    }

    /// The playbook of a category.
    pub fn for_category(&self, category: &str) -> Option<&Playbook> {
        self.playbooks.iter().find(|p| p.category == category)
    }

    /// A step by its playbook's category and its code.
    pub fn step(&self, category: &str, step: &str) -> Option<&Step> {
        self.for_category(category)?.step(step)
    }
}

fn check_step(s: &Step) -> Result<(), PlaybookError> {
    if !is_snake_code(&s.code) {
        return Err(PlaybookError::InvalidCode(s.code.clone()));
    }
    for x in s.platforms.iter().chain(&s.services) {
        if !is_snake_code(x) {
            return Err(PlaybookError::InvalidCode(x.clone()));
        }
    }
    if s.fr.trim().is_empty() {
        return Err(blank(&s.code, "fr"));
    }
    if s.en.trim().is_empty() {
        return Err(blank(&s.code, "en"));
    }
    let long = |t: &str, max: usize| t.chars().count() > max;
    if long(&s.fr, MAX_STEP_CHARS) || long(&s.en, MAX_STEP_CHARS) {
        return Err(PlaybookError::TooLong(s.code.clone()));
    }
    match (&s.advice_fr, &s.advice_en) {
        (None, None) => {}
        (Some(f), Some(e)) => {
            if f.trim().is_empty() || e.trim().is_empty() {
                return Err(blank(&s.code, "advice"));
            }
            if long(f, MAX_ADVICE_CHARS) || long(e, MAX_ADVICE_CHARS) {
                return Err(PlaybookError::TooLong(s.code.clone()));
            }
        }
        _ => return Err(PlaybookError::AdviceHalf(s.code.clone())),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs() -> (Taxonomy, Directory) {
        (
            Taxonomy::defaults().unwrap(),
            Directory::defaults().unwrap(),
        )
    }

    #[test]
    fn defaults_parse_and_name_only_known_things() {
        let p = Playbooks::defaults().unwrap();
        let (t, d) = refs();
        p.check_references(&t, &d).unwrap();
        for c in [
            "sextortion",
            "account_hacking",
            "identity_theft",
            "cyber_harassment",
            "intimate_images",
            "grooming",
        ] {
            let b = p.for_category(c).unwrap_or_else(|| panic!("{c}"));
            assert!(b.steps.len() >= 4, "{c}");
            assert!(b.steps.iter().any(|s| s.advice_fr.is_some()), "{c}");
        }
        // sextortion: don't pay, keep the proof, the hash-only route
        let s = p.for_category("sextortion").unwrap();
        assert!(s.step("do_not_pay").is_some());
        assert!(
            s.steps
                .iter()
                .any(|x| x.services.iter().any(|v| v == "take_it_down"))
        );
        // hacked accounts: a recovery path per big platform, shown only for it
        let h = p.for_category("account_hacking").unwrap();
        for pl in ["instagram", "snapchat", "tiktok", "facebook"] {
            assert!(
                h.steps.iter().any(|x| x.platforms.iter().any(|p| p == pl)),
                "recovery for {pl}"
            );
        }
        let only_snap = ["snapchat".to_owned()];
        let shown: Vec<&str> = h
            .steps
            .iter()
            .filter(|x| x.applies_to(&only_snap))
            .filter(|x| x.is_platform_specific())
            .map(|x| x.code.as_str())
            .collect();
        assert_eq!(shown, ["recover_snapchat"]);
        // the raid in the harassment playbook
        assert!(
            p.for_category("cyber_harassment")
                .unwrap()
                .steps
                .iter()
                .any(|x| x.code.contains("raid"))
        );
        let step = p.step("sextortion", "do_not_pay").unwrap();
        assert!(step.advice("en").unwrap().contains("pay"));
        assert!(step.advice("fr").unwrap().contains("pa"));
        assert_ne!(step.text("fr"), step.text("en"));
    }

    const ONE: &str = "[[playbook]]\ncategory = \"sextortion\"\nfr = \"Sextorsion\"\nen = \"Sextortion\"\n\
        [[playbook.step]]\ncode = \"a\"\nfr = \"A\"\nen = \"A\"\n";

    #[test]
    fn validation() {
        let (t, d) = refs();
        let ok = Playbooks::parse(ONE).unwrap();
        ok.check_references(&t, &d).unwrap();
        assert_eq!(Playbooks::parse("").unwrap().all().len(), 0);
        let dup_step = format!("{ONE}[[playbook.step]]\ncode = \"a\"\nfr = \"B\"\nen = \"B\"\n");
        assert!(matches!(
            Playbooks::parse(&dup_step),
            Err(PlaybookError::DuplicateStep { .. })
        ));
        let dup = format!("{ONE}{ONE}");
        assert!(matches!(
            Playbooks::parse(&dup),
            Err(PlaybookError::DuplicatePlaybook(_))
        ));
        let cat = ONE.replace("\"sextortion\"", "\"piracy\"");
        let p = Playbooks::parse(&cat).unwrap();
        assert!(matches!(
            p.check_references(&t, &d),
            Err(PlaybookError::UnknownCategory(_))
        ));
        let plat = format!("{ONE}platforms = [\"myspace\"]\n");
        assert!(matches!(
            Playbooks::parse(&plat).unwrap().check_references(&t, &d),
            Err(PlaybookError::UnknownPlatform { .. })
        ));
        let serv = format!("{ONE}services = [\"ghostbusters\"]\n");
        assert!(matches!(
            Playbooks::parse(&serv).unwrap().check_references(&t, &d),
            Err(PlaybookError::UnknownService { .. })
        ));
        let known = format!("{ONE}services = [\"pharos\"]\nplatforms = [\"tiktok\"]\n");
        Playbooks::parse(&known)
            .unwrap()
            .check_references(&t, &d)
            .unwrap();
        let half = format!("{ONE}advice_fr = \"Ne paie pas.\"\n");
        assert!(matches!(
            Playbooks::parse(&half),
            Err(PlaybookError::AdviceHalf(_))
        ));
        let blank_text = ONE.replace("fr = \"A\"", "fr = \"  \"");
        assert!(matches!(
            Playbooks::parse(&blank_text),
            Err(PlaybookError::Blank { .. })
        ));
        let code = ONE.replace("code = \"a\"", "code = \"Not A Code\"");
        assert!(matches!(
            Playbooks::parse(&code),
            Err(PlaybookError::InvalidCode(_))
        ));
        let long = ONE.replace("fr = \"A\"", &format!("fr = \"{}\"", "x".repeat(1001)));
        assert!(matches!(
            Playbooks::parse(&long),
            Err(PlaybookError::TooLong(_))
        ));
        let field = format!("{ONE}colour = \"red\"\n");
        assert!(matches!(
            Playbooks::parse(&field),
            Err(PlaybookError::Syntax(_))
        ));
        assert!(matches!(
            Playbooks::parse("[[playbook]\n"),
            Err(PlaybookError::Syntax(_))
        ));
    }

    #[test]
    fn platform_steps_apply_to_their_platforms_only() {
        let s = Step {
            code: "x".into(),
            fr: "x".into(),
            en: "x".into(),
            platforms: vec!["instagram".into(), "facebook".into()],
            advice_fr: None,
            advice_en: None,
            services: vec![],
        };
        assert!(s.applies_to(&["facebook".into()]));
        assert!(!s.applies_to(&["tiktok".into()]));
        assert!(!s.applies_to(&[]));
        let general = Step {
            platforms: vec![],
            ..s
        };
        assert!(general.applies_to(&[]));
    }
}
