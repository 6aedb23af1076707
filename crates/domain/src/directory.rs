//! The directories: platforms that receive notices, authorities and services that
//! receive referrals, and the emergency numbers shown to callers.
//!
//! All are data: the defaults are embedded from `data/platforms.toml` and
//! `data/services.toml` (fictional `.invalid` addresses, real public emergency
//! numbers), and a helpline loads its own with [`Directory::from_toml`].

use crate::notice::vocab;
use crate::taxonomy::is_snake_code;
use serde::{Deserialize, Serialize};

/// The embedded default platforms.
const DEFAULT_PLATFORMS: &str = include_str!("../data/platforms.toml");
/// The embedded default services and emergency numbers.
const DEFAULT_SERVICES: &str = include_str!("../data/services.toml");

vocab!(
    /// How a notice reaches a platform.
    NoticeChannel {
        /// An HTTP API: sent and retried by the job queue.
        Api => "api", "API", "API";
        /// An e-mail to the platform's trust & safety address.
        Email => "email", "e-mail", "e-mail";
        /// A web portal: the counsellor submits by hand and records the ticket number.
        Portal => "portal", "formulaire web", "web portal";
    }
);

/// A platform (hosting service) that receives notices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Platform {
    /// Stable snake_case code.
    pub code: String,
    /// Display name.
    pub name: String,
    /// The priority channel.
    pub channel: NoticeChannel,
    /// The API URL, e-mail address or portal URL of the priority channel.
    pub address: String,
    /// Expected decision delay on the priority channel, in hours.
    pub expected_hours: u32,
    /// What a native id or exact location looks like, in French.
    pub id_hint_fr: String,
    /// What a native id or exact location looks like, in English.
    pub id_hint_en: String,
}

impl Platform {
    /// The id hint in `lang` (`"en"`, otherwise French).
    pub fn id_hint(&self, lang: &str) -> &str {
        if crate::notice::is_en(lang) {
            &self.id_hint_en
        } else {
            &self.id_hint_fr
        }
    }
}

vocab!(
    /// What kind of authority or service a referral goes to.
    ServiceKind {
        /// Police (help filing a complaint).
        Police => "police", "police", "police";
        /// Gendarmerie (help filing a complaint).
        Gendarmerie => "gendarmerie", "gendarmerie", "gendarmerie";
        /// The national platform for reporting public illegal content.
        Pharos => "pharos", "Pharos", "Pharos";
        /// Child-protection line (the 119 in France).
        ChildProtection => "child_protection", "protection de l'enfance", "child protection";
        /// The school's harassment referent.
        SchoolReferent => "school_referent", "référent scolaire", "school referent";
        /// A lawyer.
        Lawyer => "lawyer", "avocat", "lawyer";
        /// A victim-support association.
        VictimSupport => "victim_support", "aide aux victimes", "victim support";
        /// A hotline for child sexual abuse material (URLs only).
        Hotline => "hotline", "hotline de signalement", "reporting hotline";
    }
);

/// An authority or service that receives referrals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Stable snake_case code.
    pub code: String,
    /// What kind of service.
    pub kind: ServiceKind,
    /// French label.
    pub fr: String,
    /// English label.
    pub en: String,
    /// Where transmissions go (e-mail address or URL).
    pub contact: String,
    /// Whether a referral needs the victim's or guardian's recorded consent.
    pub requires_consent: bool,
}

impl Service {
    /// The label in `lang` (`"en"`, otherwise French).
    pub fn label(&self, lang: &str) -> &str {
        if crate::notice::is_en(lang) {
            &self.en
        } else {
            &self.fr
        }
    }
}

/// A number to call in an emergency, shown when the line is closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmergencyNumber {
    /// The number as dialled ("17", "112").
    pub number: String,
    /// What it is for, in French.
    pub fr: String,
    /// What it is for, in English.
    pub en: String,
}

impl EmergencyNumber {
    /// The description in `lang` (`"en"`, otherwise French).
    pub fn label(&self, lang: &str) -> &str {
        if crate::notice::is_en(lang) {
            &self.en
        } else {
            &self.fr
        }
    }
}

/// Why a directory could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// The platforms file did not parse.
    #[error("platforms: {0}")]
    PlatformsToml(toml::de::Error),
    /// The services file did not parse.
    #[error("services: {0}")]
    ServicesToml(toml::de::Error),
    /// No platform at all.
    #[error("directory: no platform")]
    NoPlatform,
    /// A code that is not snake_case.
    #[error("directory: invalid code {0:?}")]
    InvalidCode(String),
    /// Two platforms or two services with the same code.
    #[error("directory: duplicate code {0:?}")]
    DuplicateCode(String),
    /// A required text field is blank.
    #[error("directory: {code:?} has a blank {field}")]
    BlankField {
        /// The entry's code (or number).
        code: String,
        /// The blank field.
        field: &'static str,
    },
    /// An address that does not fit its channel (URL for api/portal, e-mail for email).
    #[error("directory: {0:?} has an address that does not fit its channel")]
    InvalidAddress(String),
    /// A zero expected delay.
    #[error("directory: {0:?} has a zero expected delay")]
    ZeroDelay(String),
    /// An emergency number with characters other than digits.
    #[error("directory: invalid emergency number {0:?}")]
    InvalidNumber(String),
}

/// The platforms file's shape.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlatformsFile {
    #[serde(default)]
    platform: Vec<Platform>,
}

/// The services file's shape.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServicesFile {
    #[serde(default)]
    service: Vec<Service>,
    #[serde(default)]
    emergency: Vec<EmergencyNumber>,
}

/// The validated directories of platforms, services and emergency numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directory {
    platforms: Vec<Platform>,
    services: Vec<Service>,
    emergency: Vec<EmergencyNumber>,
}

fn is_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
        && !s.chars().any(char::is_whitespace)
}

fn blank(code: &str, field: &'static str) -> DirectoryError {
    DirectoryError::BlankField {
        code: code.to_string(),
        field,
    }
}

fn check_code<'a>(
    code: &str,
    mut earlier: impl Iterator<Item = &'a str>,
) -> Result<(), DirectoryError> {
    if !is_snake_code(code) {
        return Err(DirectoryError::InvalidCode(code.to_string()));
    }
    if earlier.any(|c| c == code) {
        return Err(DirectoryError::DuplicateCode(code.to_string()));
    }
    Ok(())
}

fn validate_platforms(platforms: &[Platform]) -> Result<(), DirectoryError> {
    if platforms.is_empty() {
        return Err(DirectoryError::NoPlatform);
    }
    for (i, p) in platforms.iter().enumerate() {
        check_code(&p.code, platforms[..i].iter().map(|o| o.code.as_str()))?;
        for (value, field) in [
            (&p.name, "name"),
            (&p.id_hint_fr, "id_hint_fr"),
            (&p.id_hint_en, "id_hint_en"),
        ] {
            if value.trim().is_empty() {
                return Err(blank(&p.code, field));
            }
        }
        let fits = match p.channel {
            NoticeChannel::Api | NoticeChannel::Portal => is_url(&p.address),
            NoticeChannel::Email => crate::notice::looks_like_email(&p.address),
        };
        if !fits {
            return Err(DirectoryError::InvalidAddress(p.code.clone()));
        }
        if p.expected_hours == 0 {
            return Err(DirectoryError::ZeroDelay(p.code.clone()));
        }
    }
    Ok(())
}

fn validate_services(file: &ServicesFile) -> Result<(), DirectoryError> {
    for (i, s) in file.service.iter().enumerate() {
        check_code(&s.code, file.service[..i].iter().map(|o| o.code.as_str()))?;
        for (value, field) in [(&s.fr, "fr"), (&s.en, "en"), (&s.contact, "contact")] {
            if value.trim().is_empty() {
                return Err(blank(&s.code, field));
            }
        }
        if !is_url(&s.contact) && !crate::notice::looks_like_email(&s.contact) {
            return Err(DirectoryError::InvalidAddress(s.code.clone()));
        }
    }
    for e in &file.emergency {
        if e.number.is_empty() || !e.number.chars().all(|c| c.is_ascii_digit()) {
            return Err(DirectoryError::InvalidNumber(e.number.clone()));
        }
        if e.fr.trim().is_empty() || e.en.trim().is_empty() {
            return Err(blank(&e.number, "label"));
        }
    }
    Ok(())
}

impl Directory {
    /// The embedded defaults (`data/platforms.toml`, `data/services.toml`).
    pub fn defaults() -> Result<Directory, DirectoryError> {
        Self::from_toml(DEFAULT_PLATFORMS, DEFAULT_SERVICES)
    }

    /// Parses and validates both files: `[[platform]]` tables, and `[[service]]` and
    /// `[[emergency]]` tables. Codes are unique snake_case, labels non-blank,
    /// addresses fit their channel (a URL for `api`/`portal`, an e-mail for `email`),
    /// delays positive, emergency numbers digits only.
    pub fn from_toml(platforms: &str, services: &str) -> Result<Directory, DirectoryError> {
        let p: PlatformsFile = toml::from_str(platforms).map_err(DirectoryError::PlatformsToml)?;
        let s: ServicesFile = toml::from_str(services).map_err(DirectoryError::ServicesToml)?;
        validate_platforms(&p.platform)?;
        validate_services(&s)?;
        Ok(Directory {
            platforms: p.platform,
            services: s.service,
            emergency: s.emergency,
        })
    }

    /// The platform with this code.
    pub fn platform(&self, code: &str) -> Option<&Platform> {
        self.platforms.iter().find(|p| p.code == code)
    }

    /// All platforms, in display order.
    pub fn platforms(&self) -> &[Platform] {
        &self.platforms
    }

    /// The service with this code.
    pub fn service(&self, code: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.code == code)
    }

    /// All services, in display order.
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// The services of one kind.
    pub fn services_of(&self, kind: ServiceKind) -> impl Iterator<Item = &Service> {
        self.services.iter().filter(move |s| s.kind == kind)
    }

    /// The emergency numbers, in display order.
    pub fn emergency_numbers(&self) -> &[EmergencyNumber] {
        &self.emergency
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_defaults_parse() {
        let d = Directory::defaults().unwrap();
        assert!(d.platforms().len() >= 20, "{}", d.platforms().len());
        for code in [
            "instagram",
            "tiktok",
            "snapchat",
            "facebook",
            "whatsapp",
            "messenger",
            "x",
            "youtube",
            "discord",
            "telegram",
            "twitch",
            "reddit",
            "pinterest",
            "roblox",
            "epic_games",
            "threads",
            "yubo",
            "bereal",
            "vinted",
            "other",
        ] {
            assert!(d.platform(code).is_some(), "{code}");
        }
        // Never a real contact address in the defaults.
        for p in d.platforms() {
            let host = p.address.split(['@', '/']).find(|h| h.contains('.'));
            assert!(
                host.is_some_and(|h| h.ends_with(".invalid")),
                "{}",
                p.address
            );
        }
        for s in d.services() {
            assert!(s.contact.contains(".invalid"), "{}", s.contact);
        }
        let ig = d.platform("instagram").unwrap();
        assert_eq!(ig.channel, NoticeChannel::Api);
        assert!(ig.id_hint("en").starts_with("Username"));
        let numbers: Vec<&str> = d
            .emergency_numbers()
            .iter()
            .map(|e| e.number.as_str())
            .collect();
        assert_eq!(numbers, ["17", "112", "119", "3114", "3018"]);
        for k in ServiceKind::ALL {
            assert!(d.services_of(k).next().is_some(), "{k}");
        }
        let c = d.service("child_protection_119").unwrap();
        assert_eq!(c.kind, ServiceKind::ChildProtection);
        assert!(!c.requires_consent);
        assert!(d.service("police").unwrap().requires_consent);
        assert_eq!(
            d.service("lawyer").unwrap().label("en"),
            "Lawyer (bar's legal aid for minors)"
        );
    }

    const P: &str = "[[platform]]\ncode = \"p\"\nname = \"P\"\nchannel = \"email\"\n\
        address = \"a@b.invalid\"\nexpected_hours = 24\nid_hint_fr = \"f\"\nid_hint_en = \"e\"\n";

    #[test]
    fn validation() {
        assert!(Directory::from_toml(P, "").is_ok());
        assert!(matches!(
            Directory::from_toml("", ""),
            Err(DirectoryError::NoPlatform)
        ));
        let dup = format!("{P}{P}");
        assert!(matches!(
            Directory::from_toml(&dup, ""),
            Err(DirectoryError::DuplicateCode(_))
        ));
        let api = P.replace("\"email\"", "\"api\"");
        assert!(matches!(
            Directory::from_toml(&api, ""),
            Err(DirectoryError::InvalidAddress(_))
        ));
        let zero = P.replace("= 24", "= 0");
        assert!(matches!(
            Directory::from_toml(&zero, ""),
            Err(DirectoryError::ZeroDelay(_))
        ));
        let chan = P.replace("\"email\"", "\"fax\"");
        assert!(matches!(
            Directory::from_toml(&chan, ""),
            Err(DirectoryError::PlatformsToml(_))
        ));
        let bad_num = "[[emergency]]\nnumber = \"1 7\"\nfr = \"a\"\nen = \"b\"\n";
        assert!(matches!(
            Directory::from_toml(P, bad_num),
            Err(DirectoryError::InvalidNumber(_))
        ));
        let bad_kind = "[[service]]\ncode = \"s\"\nkind = \"army\"\nfr = \"a\"\nen = \"b\"\n\
            contact = \"a@b\"\nrequires_consent = true\n";
        assert!(matches!(
            Directory::from_toml(P, bad_kind),
            Err(DirectoryError::ServicesToml(_))
        ));
    }

    #[test]
    fn vocabularies() {
        for c in NoticeChannel::ALL {
            assert_eq!(NoticeChannel::parse(c.as_str()).unwrap(), c);
        }
        for k in ServiceKind::ALL {
            assert_eq!(ServiceKind::parse(k.as_str()).unwrap(), k);
            assert!(!k.label("fr").is_empty());
        }
        assert_eq!(NoticeChannel::Portal.label("en"), "web portal");
    }
}
