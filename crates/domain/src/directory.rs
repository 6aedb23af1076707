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
    NoticeChannel "notice-channel" {
        /// A platform running ROOST Coop: its Report API; decisions come back as signed
        /// action callbacks.
        Coop => "coop";
        /// A platform that integrates with Rempart's partner API: it pulls its notices and
        /// posts its decisions.
        RempartApi => "rempart_api";
        /// Rempart's notice JSON pushed to the platform's endpoint, signed as Standard
        /// Webhooks.
        HttpJson => "http_json";
        /// An e-mail to the platform's trust & safety address.
        Email => "email";
        /// A web portal: the counsellor submits by hand and records the ticket number.
        Portal => "portal";
    }
);

/// One priority channel of a platform, as the directory describes it. Secrets (API keys,
/// signing secrets) are never here: `secret` names the helpline's secret that holds it
/// (settings `[secrets]` or the environment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ChannelSpec {
    /// ROOST Coop's Report API.
    Coop {
        /// The Coop instance's base URL (`{url}/api/v1/report`).
        url: String,
        /// The name of the secret holding the API key (`X-API-KEY`).
        secret: String,
        /// The platform's public key for action callbacks (PEM, SPKI); without it, no
        /// callback from this platform is believed.
        #[serde(default)]
        public_key_pem: Option<String>,
        /// The reporter's item type id and id configured on the platform for the helpline.
        reporter_type_id: String,
        /// The helpline's reporter id on the platform.
        reporter_id: String,
        /// The item type id of a reported content.
        item_type_id: String,
        /// The platform's action ids and the decision each records.
        #[serde(default)]
        actions: std::collections::BTreeMap<String, crate::notice::DecisionKind>,
    },
    /// The platform pulls from `/partner/v1` with its own API key (issued in the console);
    /// with a webhook, Rempart also tells it when a notice is waiting (`notice.available`,
    /// signed per Standard Webhooks).
    RempartApi {
        /// Where Rempart posts its events (none: the platform only polls).
        #[serde(default)]
        webhook_url: Option<String>,
        /// The name of the secret holding the webhook signing key (`whsec_…`).
        #[serde(default)]
        webhook_secret: Option<String>,
    },
    /// Our notice JSON pushed to `url`, signed with the named secret (Standard Webhooks).
    HttpJson {
        /// The endpoint.
        url: String,
        /// The name of the secret holding the signing key (`whsec_…`).
        secret: String,
    },
    /// An e-mail address.
    Email {
        /// The trust & safety address.
        address: String,
    },
    /// A web form filled by hand.
    Portal {
        /// The form's URL.
        url: String,
    },
}

impl ChannelSpec {
    /// The channel's kind.
    pub fn kind(&self) -> NoticeChannel {
        match self {
            ChannelSpec::Coop { .. } => NoticeChannel::Coop,
            ChannelSpec::RempartApi { .. } => NoticeChannel::RempartApi,
            ChannelSpec::HttpJson { .. } => NoticeChannel::HttpJson,
            ChannelSpec::Email { .. } => NoticeChannel::Email,
            ChannelSpec::Portal { .. } => NoticeChannel::Portal,
        }
    }

    /// Where it goes: a URL or an e-mail address (for the partner API, where the platform
    /// comes to us, its webhook's URL or nothing).
    pub fn address(&self) -> &str {
        match self {
            ChannelSpec::Coop { url, .. }
            | ChannelSpec::HttpJson { url, .. }
            | ChannelSpec::Portal { url } => url,
            ChannelSpec::Email { address } => address,
            ChannelSpec::RempartApi { webhook_url, .. } => webhook_url.as_deref().unwrap_or(""),
        }
    }

    /// The name of the secret it needs, if any.
    pub fn secret(&self) -> Option<&str> {
        match self {
            ChannelSpec::Coop { secret, .. } | ChannelSpec::HttpJson { secret, .. } => Some(secret),
            ChannelSpec::RempartApi { webhook_secret, .. } => webhook_secret.as_deref(),
            _ => None,
        }
    }

    /// Whether Rempart sends on it by itself (the portal needs a counsellor's hands).
    pub fn is_automatic(&self) -> bool {
        !matches!(self, ChannelSpec::Portal { .. })
    }
}

/// A platform (hosting service) that receives notices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Platform {
    /// Stable snake_case code.
    pub code: String,
    /// Display name.
    pub name: String,
    /// The language its notices are written in (`fr` or `en`).
    #[serde(default = "default_lang")]
    pub lang: String,
    /// Expected decision delay on the priority channel, in hours, unless `delays` names
    /// the notice's category.
    pub expected_hours: u32,
    /// Expected decision delays per category code, in hours.
    #[serde(default)]
    pub delays: std::collections::BTreeMap<String, u32>,
    /// What a native id or exact location looks like, in French.
    pub id_hint_fr: String,
    /// What a native id or exact location looks like, in English.
    pub id_hint_en: String,
    /// The priority channels, tried in this order.
    #[serde(rename = "channel")]
    pub channels: Vec<ChannelSpec>,
}

fn default_lang() -> String {
    "fr".into()
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

    /// The expected decision delay for a notice of `category`, in hours.
    pub fn expected_hours_for(&self, category: &str) -> u32 {
        self.delays
            .get(category)
            .copied()
            .unwrap_or(self.expected_hours)
    }

    /// The first (priority) channel.
    pub fn priority_channel(&self) -> Option<&ChannelSpec> {
        self.channels.first()
    }

    /// The channel after `index`, for a fallback.
    pub fn channel_after(&self, index: usize) -> Option<&ChannelSpec> {
        self.channels.get(index + 1)
    }
}

vocab!(
    /// What kind of authority or service a referral goes to.
    ServiceKind "service-kind" {
        /// Police (help filing a complaint).
        Police => "police";
        /// Gendarmerie (help filing a complaint).
        Gendarmerie => "gendarmerie";
        /// The national platform for reporting public illegal content.
        Pharos => "pharos";
        /// Child-protection line (the 119 in France).
        ChildProtection => "child_protection";
        /// The school's harassment referent.
        SchoolReferent => "school_referent";
        /// A lawyer.
        Lawyer => "lawyer";
        /// A victim-support association.
        VictimSupport => "victim_support";
        /// A hotline for child sexual abuse material (URLs only).
        Hotline => "hotline";
        /// A listening and advice line (the 3018, the 3020).
        Helpline => "helpline";
        /// Suicide prevention (the 3114).
        SuicidePrevention => "suicide_prevention";
        /// The data protection authority (the CNIL).
        DataProtection => "data_protection";
        /// Technical help for victims of hacking and online scams.
        CyberAssistance => "cyber_assistance";
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
    /// Where it works: a region code of the directory (`national` for the whole country).
    #[serde(default = "national")]
    pub region: String,
    /// What it does, in French (searched too).
    #[serde(default)]
    pub about_fr: String,
    /// What it does, in English.
    #[serde(default)]
    pub about_en: String,
    /// Its hours, in French.
    #[serde(default)]
    pub hours_fr: String,
    /// Its hours, in English.
    #[serde(default)]
    pub hours_en: String,
    /// The number the public calls (digits and spaces), if any.
    #[serde(default)]
    pub phone: Option<String>,
    /// Its public site, if any.
    #[serde(default)]
    pub website: Option<String>,
    /// The languages it answers in (ISO 639-1 codes).
    #[serde(default)]
    pub languages: Vec<String>,
}

fn national() -> String {
    "national".into()
}

/// A region services are attached to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// Stable snake_case code.
    pub code: String,
    /// French name.
    pub fr: String,
    /// English name.
    pub en: String,
}

impl Region {
    /// The name in `lang`.
    pub fn label(&self, lang: &str) -> &str {
        if crate::notice::is_en(lang) {
            &self.en
        } else {
            &self.fr
        }
    }
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

    /// What it does, in `lang`.
    pub fn about(&self, lang: &str) -> &str {
        if crate::notice::is_en(lang) {
            &self.about_en
        } else {
            &self.about_fr
        }
    }

    /// Its hours, in `lang`.
    pub fn hours(&self, lang: &str) -> &str {
        if crate::notice::is_en(lang) {
            &self.hours_en
        } else {
            &self.hours_fr
        }
    }

    /// Whether every word of `query` is found in its names, description, kind, region,
    /// hours or number, ignoring case and accents ("harcelement" finds "Harcèlement").
    pub fn matches(&self, query: &str, region_names: &[&str]) -> bool {
        let words = search_words(query);
        let words: Vec<&str> = words.split_whitespace().collect();
        if words.is_empty() {
            return true;
        }
        let hay = search_words(&format!(
            "{} {} {} {} {} {} {} {} {} {} {} {} {}",
            self.code.replace('_', " "),
            self.fr,
            self.en,
            self.about_fr,
            self.about_en,
            self.kind.as_str().replace('_', " "),
            "",
            self.region.replace('_', " "),
            region_names.join(" "),
            self.hours_fr,
            self.hours_en,
            self.phone.as_deref().unwrap_or(""),
            self.phone.as_deref().unwrap_or("").replace(' ', ""),
        ));
        words.iter().all(|w| hay.contains(&format!(" {w}")))
    }
}

/// `s` folded for search (case and accents ignored), its punctuation made spaces, with a
/// leading space so that a word's start is found as " word".
fn search_words(s: &str) -> String {
    let folded = crate::text::fold_for_search(s);
    let mut out = String::with_capacity(folded.len() + 1);
    out.push(' ');
    for c in folded.chars() {
        out.push(if c.is_alphanumeric() { c } else { ' ' });
    }
    out
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
    /// A platform with no channel.
    #[error("directory: {0:?} has no channel")]
    NoChannel(String),
    /// A notice language other than `fr` or `en`.
    #[error("directory: {0:?} has a language other than fr or en")]
    InvalidLanguage(String),
    /// A zero expected delay.
    #[error("directory: {0:?} has a zero expected delay")]
    ZeroDelay(String),
    /// An emergency number with characters other than digits (or a service's number
    /// with other than digits and spaces).
    #[error("directory: invalid emergency number {0:?}")]
    InvalidNumber(String),
    /// A service in a region the file does not list.
    #[error("directory: {0:?} is in an unknown region")]
    UnknownRegion(String),
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
    #[serde(default)]
    region: Vec<Region>,
}

/// The validated directories of platforms, services and emergency numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directory {
    platforms: Vec<Platform>,
    services: Vec<Service>,
    emergency: Vec<EmergencyNumber>,
    regions: Vec<Region>,
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
        if p.lang != "fr" && p.lang != "en" {
            return Err(DirectoryError::InvalidLanguage(p.code.clone()));
        }
        if p.channels.is_empty() {
            return Err(DirectoryError::NoChannel(p.code.clone()));
        }
        for c in &p.channels {
            validate_channel(&p.code, c)?;
        }
        for (category, hours) in &p.delays {
            if !is_snake_code(category) {
                return Err(DirectoryError::InvalidCode(category.clone()));
            }
            if *hours == 0 {
                return Err(DirectoryError::ZeroDelay(p.code.clone()));
            }
        }
        if p.expected_hours == 0 {
            return Err(DirectoryError::ZeroDelay(p.code.clone()));
        }
    }
    Ok(())
}

fn validate_channel(code: &str, c: &ChannelSpec) -> Result<(), DirectoryError> {
    let fits = match c {
        ChannelSpec::Email { address } => crate::notice::looks_like_email(address),
        // a webhook needs both its URL and its secret's name
        ChannelSpec::RempartApi {
            webhook_url,
            webhook_secret,
        } => match (webhook_url, webhook_secret) {
            (None, None) => true,
            (Some(url), Some(_)) => is_url(url),
            _ => false,
        },
        ChannelSpec::Coop { url, .. }
        | ChannelSpec::HttpJson { url, .. }
        | ChannelSpec::Portal { url } => is_url(url),
    };
    if !fits {
        return Err(DirectoryError::InvalidAddress(code.to_string()));
    }
    if let Some(secret) = c.secret()
        && !is_snake_code(secret)
    {
        return Err(DirectoryError::InvalidCode(secret.to_string()));
    }
    if let ChannelSpec::Coop {
        reporter_type_id,
        reporter_id,
        item_type_id,
        public_key_pem,
        ..
    } = c
    {
        for (value, field) in [
            (reporter_type_id, "reporter_type_id"),
            (reporter_id, "reporter_id"),
            (item_type_id, "item_type_id"),
        ] {
            if value.trim().is_empty() {
                return Err(blank(code, field));
            }
        }
        if public_key_pem
            .as_deref()
            .is_some_and(|k| !k.contains("BEGIN PUBLIC KEY"))
        {
            return Err(DirectoryError::InvalidAddress(code.to_string()));
        }
    }
    Ok(())
}

fn validate_services(file: &ServicesFile) -> Result<(), DirectoryError> {
    for (i, r) in file.region.iter().enumerate() {
        check_code(&r.code, file.region[..i].iter().map(|o| o.code.as_str()))?;
        if r.fr.trim().is_empty() || r.en.trim().is_empty() {
            return Err(blank(&r.code, "region name"));
        }
    }
    for (i, s) in file.service.iter().enumerate() {
        if !file.region.iter().any(|r| r.code == s.region) {
            return Err(DirectoryError::UnknownRegion(s.code.clone()));
        }
        if s.phone
            .as_deref()
            .is_some_and(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_digit() || c == ' '))
        {
            return Err(DirectoryError::InvalidNumber(s.code.clone()));
        }
        if s.website.as_deref().is_some_and(|w| !is_url(w)) {
            return Err(DirectoryError::InvalidAddress(s.code.clone()));
        }
        if s.languages
            .iter()
            .any(|l| l.len() != 2 || !l.chars().all(|c| c.is_ascii_lowercase()))
        {
            return Err(DirectoryError::InvalidLanguage(s.code.clone()));
        }
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
    /// The embedded default platforms file.
    pub const DEFAULT_PLATFORMS: &'static str = DEFAULT_PLATFORMS;

    /// Another platforms file with the services and emergency numbers of `base`.
    pub fn with_platforms_toml(
        platforms: &str,
        base: &Directory,
    ) -> Result<Directory, DirectoryError> {
        let p: PlatformsFile = toml::from_str(platforms).map_err(DirectoryError::PlatformsToml)?;
        validate_platforms(&p.platform)?;
        Ok(Directory {
            platforms: p.platform,
            services: base.services.clone(),
            emergency: base.emergency.clone(),
            regions: base.regions.clone(),
        })
    }

    /// The embedded defaults (`data/platforms.toml`, `data/services.toml`).
    pub fn defaults() -> Result<Directory, DirectoryError> {
        Self::from_toml(DEFAULT_PLATFORMS, DEFAULT_SERVICES)
    }

    /// Parses and validates both files: `[[platform]]` tables, and `[[service]]` and
    /// `[[emergency]]` tables. Codes are unique snake_case, labels non-blank,
    /// every platform has a channel, addresses fit their channel (a URL, or an e-mail for
    /// `email`), secret names are codes (never the secret itself),
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
            regions: s.region,
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

    /// The regions services are attached to, in display order.
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    /// The region with this code.
    pub fn region(&self, code: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.code == code)
    }

    /// The services matching every word of `query` (accents and case ignored), of `kind`
    /// and in `region` when given; a region's search includes the national services.
    pub fn search_services(
        &self,
        query: &str,
        kind: Option<ServiceKind>,
        region: Option<&str>,
    ) -> Vec<&Service> {
        self.services
            .iter()
            .filter(|s| kind.is_none_or(|k| s.kind == k))
            .filter(|s| region.is_none_or(|r| s.region == r || s.region == "national"))
            .filter(|s| {
                let names: Vec<&str> = self
                    .region(&s.region)
                    .map(|r| vec![r.fr.as_str(), r.en.as_str()])
                    .unwrap_or_default();
                s.matches(query, &names)
            })
            .collect()
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
            assert!(!p.channels.is_empty(), "{}", p.code);
            for c in &p.channels {
                if c.kind() == NoticeChannel::RempartApi {
                    continue;
                }
                let host = c.address().split(['@', '/']).find(|h| h.contains('.'));
                assert!(
                    host.is_some_and(|h| h.ends_with(".invalid")),
                    "{}",
                    c.address()
                );
            }
        }
        // every kind of channel is shown by the defaults, with a fallback somewhere
        for k in NoticeChannel::ALL {
            assert!(
                d.platforms()
                    .iter()
                    .any(|p| p.channels.iter().any(|c| c.kind() == k)),
                "{k}"
            );
        }
        for s in d.services() {
            assert!(s.contact.contains(".invalid"), "{}", s.contact);
        }
        let ig = d.platform("instagram").unwrap();
        assert_eq!(
            ig.priority_channel().map(ChannelSpec::kind),
            Some(NoticeChannel::HttpJson)
        );
        assert_eq!(
            ig.channel_after(0).map(ChannelSpec::kind),
            Some(NoticeChannel::Email)
        );
        assert!(ig.channel_after(1).is_none());
        assert_eq!(
            ig.priority_channel().and_then(ChannelSpec::secret),
            Some("instagram_http_json")
        );
        assert!(ig.id_hint("en").starts_with("Username"));
        assert_eq!(ig.expected_hours_for("sextortion"), 4);
        assert_eq!(ig.expected_hours_for("cyber_harassment"), 24);
        let snap = d.platform("snapchat").unwrap();
        let Some(ChannelSpec::Coop { actions, .. }) = snap.priority_channel() else {
            panic!("snapchat runs Coop in the defaults")
        };
        assert_eq!(
            actions.get("delete"),
            Some(&crate::notice::DecisionKind::ContentRemoved)
        );
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

    const P: &str = "[[platform]]\ncode = \"p\"\nname = \"P\"\nexpected_hours = 24\n\
        id_hint_fr = \"f\"\nid_hint_en = \"e\"\n\
        [[platform.channel]]\nkind = \"email\"\naddress = \"a@b.invalid\"\n";

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
        let api = P.replace("kind = \"email\"\naddress", "kind = \"portal\"\nurl");
        assert!(matches!(
            Directory::from_toml(&api, ""),
            Err(DirectoryError::InvalidAddress(_))
        ));
        let none = P.replace(
            "[[platform.channel]]\nkind = \"email\"\naddress = \"a@b.invalid\"\n",
            "channel = []\n",
        );
        assert!(matches!(
            Directory::from_toml(&none, ""),
            Err(DirectoryError::NoChannel(_))
        ));
        // a secret's value in the data file is refused: only a secret's name fits
        let secret = P.replace(
            "kind = \"email\"\naddress = \"a@b.invalid\"",
            "kind = \"http_json\"\nurl = \"https://p.invalid/n\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"",
        );
        assert!(matches!(
            Directory::from_toml(&secret, ""),
            Err(DirectoryError::InvalidCode(_))
        ));
        let named = secret.replace("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "p_push");
        assert!(Directory::from_toml(&named, "").is_ok());
        // a partner API webhook: its URL and its secret's name, both or neither
        let partner = |extra: &str| {
            P.replace(
                "kind = \"email\"\naddress = \"a@b.invalid\"",
                &format!("kind = \"rempart_api\"\n{extra}"),
            )
        };
        let url = "webhook_url = \"https://p.invalid/hook\"\n";
        let secret_name = "webhook_secret = \"p_hook\"\n";
        assert!(Directory::from_toml(&partner(""), "").is_ok());
        let both = Directory::from_toml(&partner(&format!("{url}{secret_name}")), "").unwrap();
        let c = &both.platform("p").unwrap().channels[0];
        assert_eq!(
            (c.address(), c.secret()),
            ("https://p.invalid/hook", Some("p_hook"))
        );
        for half in [
            url.to_owned(),
            secret_name.to_owned(),
            format!("webhook_url = \"ftp://x\"\n{secret_name}"),
        ] {
            assert!(
                matches!(
                    Directory::from_toml(&partner(&half), ""),
                    Err(DirectoryError::InvalidAddress(_))
                ),
                "{half}"
            );
        }
        let leaked = partner(&format!(
            "{url}webhook_secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n"
        ));
        assert!(matches!(
            Directory::from_toml(&leaked, ""),
            Err(DirectoryError::InvalidCode(_))
        ));
        let lang = P.replace("expected_hours", "lang = \"de\"\nexpected_hours");
        assert!(matches!(
            Directory::from_toml(&lang, ""),
            Err(DirectoryError::InvalidLanguage(_))
        ));
        let zero_cat = format!("{P}[platform.delays]\nsextortion = 0\n");
        assert!(matches!(
            Directory::from_toml(&zero_cat, ""),
            Err(DirectoryError::ZeroDelay(_))
        ));
        let zero = P.replace("= 24", "= 0");
        assert!(matches!(
            Directory::from_toml(&zero, ""),
            Err(DirectoryError::ZeroDelay(_))
        ));
        let chan = P.replace("kind = \"email\"", "kind = \"fax\"");
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
    fn services_are_searched_without_accents_or_case() {
        let d = Directory::defaults().unwrap();
        let codes = |q: &str, k: Option<ServiceKind>, r: Option<&str>| -> Vec<String> {
            d.search_services(q, k, r)
                .iter()
                .map(|s| s.code.clone())
                .collect()
        };
        for q in ["harcelement", "Harcèlement", "HARCÈLEMENT scolaire"] {
            assert!(
                codes(q, None, None).contains(&"non_au_harcelement_3020".to_owned()),
                "{q}"
            );
        }
        assert_eq!(codes("116006", None, None), ["france_victimes_116006"]);
        assert_eq!(codes("116 006", None, None), ["france_victimes_116006"]);
        assert!(codes("zzzz", None, None).is_empty());
        assert_eq!(codes("", None, None).len(), d.services().len());
        // a region: its own services and the national ones, never another region's
        let idf = codes("", Some(ServiceKind::Lawyer), Some("ile_de_france"));
        assert!(idf.contains(&"lawyer_paris_minors".to_owned()));
        assert!(idf.contains(&"lawyer".to_owned()));
        assert!(!idf.contains(&"lawyer_lyon_minors".to_owned()));
        assert_eq!(
            codes("ile de france avocat", None, None),
            ["lawyer_paris_minors"]
        );
        for s in d.services() {
            assert!(d.region(&s.region).is_some(), "{}", s.code);
            assert!(
                !s.hours_fr.is_empty() && !s.hours_en.is_empty(),
                "{}",
                s.code
            );
            assert!(!s.languages.is_empty(), "{}", s.code);
        }
        let bad_region = "[[service]]\ncode = \"s\"\nkind = \"lawyer\"\nfr = \"a\"\nen = \"b\"\n\
            contact = \"a@b.invalid\"\nrequires_consent = true\nregion = \"atlantis\"\n";
        assert!(matches!(
            Directory::from_toml(P, bad_region),
            Err(DirectoryError::UnknownRegion(_))
        ));
    }

    #[test]
    fn vocabularies() {
        for c in NoticeChannel::ALL {
            assert_eq!(NoticeChannel::parse(c.as_str()).unwrap(), c);
        }
        for k in ServiceKind::ALL {
            assert_eq!(ServiceKind::parse(k.as_str()).unwrap(), k);
            assert_eq!(k.key(), format!("service-kind-{}", k.as_str()));
        }
        assert_eq!(NoticeChannel::Portal.key(), "notice-channel-portal");
    }
}
