//! E-mail notices (docs/NOTICES.md §5): when a notice is marked ready on an e-mail channel,
//! or falls back to one, the mail is rendered once — From the helpline, To the channel's
//! address, Reply-To the notices address with the reference after a `+`, a Message-ID made
//! of the reference and the notice's id (and the channel's index after the first), the
//! subject and a readable text in the platform's language with the four elements of DSA
//! Article 16 in order, and Rempart's notice JSON attached — and those bytes are the
//! notice's payload: shown, validated, stored, and sent as they are on every attempt
//! ([`send`]). The node's [`Mailer`] is built once from `[smtp]` ([`mailer`]); without a
//! host, e-mail channels are off (`smtp_not_configured`).

use super::payload;
use crate::settings::{SmtpSettings, SmtpTls};
use crate::{App, AppError};
use rempart_delivery::{AtPlatform, Outcome};
use rempart_domain::notice_content::{NoticeContent, good_faith_statement};
use rempart_domain::taxonomy::Category;
use rempart_mail::{
    Address, Attachment, ErrorClass, MailError, Mailbox, Mailer, OutgoingMail, Password, Reason,
    Rendered, SmtpConfig, TlsMode,
};
use rempart_storage::NoticeRecord;
use std::time::Duration;

pub use rempart_mail::ReadMail;

/// The node's mailer, once (None: `[smtp] host` is empty).
pub(crate) fn mailer(s: &SmtpSettings) -> Result<Option<Mailer>, String> {
    if !s.enabled() {
        return Ok(None);
    }
    let mut c = SmtpConfig::new(s.host.trim(), s.port);
    c.tls = match s.tls {
        SmtpTls::Required => TlsMode::Required,
        SmtpTls::Starttls => TlsMode::Opportunistic,
        SmtpTls::Wrapper => TlsMode::Wrapper,
        SmtpTls::None => TlsMode::None,
    };
    if !s.username.is_empty() {
        c.credentials = Some((s.username.clone(), Password::new(s.password.expose())));
    }
    c.timeout = Duration::from_secs(s.timeout_seconds);
    if let Some(p) = &s.extra_root_pem_file {
        let pem = std::fs::read(p)
            .map_err(|e| format!("smtp.extra_root_pem_file {}: {e}", p.display()))?;
        c.extra_root_pem = Some(pem);
    }
    if !s.hello_name.is_empty() {
        c.hello_name = Some(s.hello_name.clone());
    }
    Mailer::new(c)
        .map(Some)
        .map_err(|e| format!("smtp settings: {e}"))
}

/// Reads a stored e-mail payload for people: headers decoded, the text part, the
/// attachments.
pub fn read(payload: &str) -> ReadMail {
    rempart_mail::read(payload.as_bytes())
}

fn en(lang: &str) -> bool {
    lang.eq_ignore_ascii_case("en") || lang.to_ascii_lowercase().starts_with("en-")
}

/// `local+tag@domain`.
fn plus_address(address: &str, tag: &str) -> Option<String> {
    let (local, domain) = address.trim().rsplit_once('@')?;
    Some(format!("{local}+{tag}@{domain}"))
}

fn unusable(what: &str) -> AppError {
    AppError::field(what, "not usable in an e-mail")
}

/// Who a mail of the helpline is from and to, where answers go (the notices address with
/// the reference after a `+`), and the Message-IDs' domain.
pub(crate) struct Addresses {
    pub(crate) from: Mailbox,
    pub(crate) to: Mailbox,
    pub(crate) reply_to: Mailbox,
    pub(crate) domain: String,
}

impl App {
    pub(crate) fn addresses(&self, reference: &str, address: &str) -> Result<Addresses, AppError> {
        let h = &self.settings.helpline;
        let notices = h.notices_email.trim();
        let from_address = match self.settings.smtp.from.trim() {
            "" => notices,
            f => f,
        };
        let from = Mailbox::new(
            Some(h.name.clone()),
            from_address
                .parse::<Address>()
                .map_err(|_| unusable("smtp.from"))?,
        );
        let to = Mailbox::new(
            None,
            address
                .trim()
                .parse::<Address>()
                .map_err(|_| unusable("channel address"))?,
        );
        let reply_to = plus_address(notices, reference)
            .and_then(|a| a.parse::<Address>().ok())
            .map(|a| Mailbox::new(None, a))
            .ok_or_else(|| unusable("helpline.notices_email"))?;
        let domain = notices
            .rsplit_once('@')
            .map(|(_, d)| d)
            .unwrap_or("")
            .to_owned();
        Ok(Addresses {
            from,
            to,
            reply_to,
            domain,
        })
    }

    /// The rendered mail of notice `n` to `address`, its platform's channel `index`, at
    /// `sent_at`: the exact bytes that will leave (7-bit, so a `String`).
    pub(crate) fn notice_mail(
        &self,
        n: &NoticeRecord,
        content: &NoticeContent,
        address: &str,
        index: usize,
        sent_at: i64,
    ) -> Result<String, AppError> {
        let Addresses {
            from,
            to,
            reply_to,
            domain,
        } = self.addresses(&n.reference, address)?;
        let message_id = if index == 0 {
            format!("<{}.{}@{domain}>", n.reference, n.id)
        } else {
            format!("<{}.{}.{index}@{domain}>", n.reference, n.id)
        };
        let category = self.taxonomy.get(&n.category);
        let e = payload::Envelope {
            id: &n.id.to_string(),
            reference: &n.reference,
            sent_at,
        };
        let json = payload::rempart_notice(&e, content, category);
        let mail = OutgoingMail {
            from,
            to: vec![to],
            reply_to: Some(reply_to),
            message_id,
            subject: subject(&n.reference, content, category),
            text: text(&n.reference, content, category),
            attachments: vec![Attachment {
                filename: format!("notice-{}.json", n.reference),
                content_type: "application/json".into(),
                bytes: json.into_bytes(),
            }],
            language: Some(if en(&content.lang) { "en" } else { "fr" }.into()),
            date: Some(
                std::time::UNIX_EPOCH + Duration::from_millis(u64::try_from(sent_at).unwrap_or(0)),
            ),
        };
        let rendered = rempart_mail::render(&mail).map_err(|e| match e.reason() {
            Reason::InvalidMessageId => unusable("helpline.notices_email"),
            Reason::InvalidMailbox => unusable("helpline.name"),
            _ => AppError::internal("notice mail not rendered"),
        })?;
        String::from_utf8(rendered.into_bytes())
            .map_err(|_| AppError::internal("notice mail not 7-bit"))
    }
}

impl App {
    /// A reminder (or a contest) about notice `n`, to `address`: the exact bytes that leave,
    /// rendered at the moment it is sent.
    pub(crate) fn reminder_mail(
        &self,
        n: &NoticeRecord,
        address: &str,
        number: u32,
    ) -> Result<String, AppError> {
        let Addresses {
            from,
            to,
            reply_to,
            domain,
        } = self.addresses(&n.reference, address)?;
        let en = en(&n.lang);
        let contested = n.contest_reason.is_some();
        let subject = match (en, contested) {
            (false, false) => format!("Relance : signalement {} (DSA, art. 16)", n.reference),
            (true, false) => format!("Reminder: notice {} (DSA Art. 16)", n.reference),
            (false, true) => format!("Contestation du refus : signalement {}", n.reference),
            (true, true) => format!("Refusal contested: notice {}", n.reference),
        };
        let body = super::followup::reminder_text(n, en);
        let mail = OutgoingMail {
            from,
            to: vec![to],
            reply_to: Some(reply_to),
            message_id: format!("<{}.{}.reminder.{number}@{domain}>", n.reference, n.id),
            subject,
            text: body,
            attachments: vec![],
            language: Some(if en { "en" } else { "fr" }.into()),
            date: Some(
                std::time::UNIX_EPOCH
                    + Duration::from_millis(u64::try_from(self.now()).unwrap_or(0)),
            ),
        };
        let rendered = rempart_mail::render(&mail)
            .map_err(|_| AppError::internal("reminder mail not rendered"))?;
        String::from_utf8(rendered.into_bytes())
            .map_err(|_| AppError::internal("reminder mail not 7-bit"))
    }
}

/// `Signalement REF : catégorie (DSA, art. 16)` in the platform's language.
fn subject(reference: &str, c: &NoticeContent, category: Option<&Category>) -> String {
    let label = category.map(|k| k.label(&c.lang)).unwrap_or(&c.category);
    if en(&c.lang) {
        let flag = if c.sexual_images_of_minor {
            " — sexual images of a minor"
        } else {
            ""
        };
        format!("Notice {reference}: {label}{flag} (DSA Art. 16)")
    } else {
        let flag = if c.sexual_images_of_minor {
            " — images sexuelles d'un mineur"
        } else {
            ""
        };
        format!("Signalement {reference} : {label}{flag} (DSA, art. 16)")
    }
}

/// The readable text: the four elements of Article 16(2) in order, the items as a list.
fn text(reference: &str, c: &NoticeContent, category: Option<&Category>) -> String {
    let en = en(&c.lang);
    let label = category.map(|k| k.label(&c.lang)).unwrap_or(&c.category);
    let dsa = category.map(|k| k.dsa_category.as_str()).unwrap_or("");
    let mut t = String::new();
    let mut line = |s: &str| {
        t.push_str(s);
        t.push('\n');
    };
    if en {
        line("Dear Trust & Safety team,");
        line("");
        line(&format!(
            "{}, a helpline for minors acting as a trusted flagger, notifies you of the content \
             below under Article 16 of Regulation (EU) 2022/2065 (Digital Services Act).",
            c.notifier_name
        ));
    } else {
        line("Madame, Monsieur,");
        line("");
        line(&format!(
            "{}, ligne d'écoute pour les mineurs agissant en tant que signaleur de confiance, \
             vous notifie les contenus ci-dessous au titre de l'article 16 du règlement (UE) \
             2022/2065 sur les services numériques (DSA).",
            c.notifier_name
        ));
    }
    line("");
    let (reference_word, category_word) = if en {
        ("Notice reference:", "Category:")
    } else {
        ("Référence du signalement :", "Catégorie :")
    };
    line(&format!("{reference_word} {reference}"));
    if dsa.is_empty() {
        line(&format!("{category_word} {label}"));
    } else {
        line(&format!("{category_word} {label} ({dsa})"));
    }
    line("");
    line(if en {
        "(a) Why the content is illegal"
    } else {
        "(a) Explication des raisons pour lesquelles ces contenus sont illicites"
    });
    line(c.explanation.trim_end());
    line("");
    line(if en {
        "(b) Exact electronic location"
    } else {
        "(b) Emplacement électronique exact"
    });
    let (id_word, type_word) = if en {
        ("Identifier on the service:", "Type:")
    } else {
        ("Identifiant sur le service :", "Type :")
    };
    for (k, i) in c.items.iter().enumerate() {
        let mut first = true;
        let mut item_line = |s: String| {
            if first {
                line(&format!("{}. {s}", k + 1));
                first = false;
            } else {
                line(&format!("   {s}"));
            }
        };
        if let Some(url) = i.url.as_deref().filter(|u| !u.trim().is_empty()) {
            item_line(url.to_owned());
        }
        if let Some(id) = i.native_id.as_deref().filter(|u| !u.trim().is_empty()) {
            item_line(format!("{id_word} {id}"));
        }
        let kind = rempart_domain::taxonomy::ContentType::parse(&i.content_type)
            .map(|k| content_word(k, en))
            .unwrap_or(&i.content_type);
        item_line(format!("{type_word} {kind}"));
    }
    if c.sexual_images_of_minor {
        line("");
        line(if en {
            "These items are sexual images of a minor. This notice gives their locations and \
             identifiers only: no image or copy is attached or sent."
        } else {
            "Ces contenus sont des images sexuelles d'une personne mineure. Ce signalement n'en \
             donne que les emplacements et les identifiants : aucune image ni copie n'est jointe \
             ni transmise."
        });
    }
    line("");
    line(if en {
        "(c) Notifier"
    } else {
        "(c) Auteur du signalement"
    });
    line(&format!(
        "{} <{}>{}",
        c.notifier_name,
        c.notifier_email,
        if en {
            ", the helpline as an organisation"
        } else {
            ", la ligne d'écoute en tant qu'organisation"
        }
    ));
    line("");
    line(if en {
        "(d) Statement of good faith"
    } else {
        "(d) Déclaration de bonne foi"
    });
    line(good_faith_statement(&c.lang));
    line("");
    if en {
        line(&format!(
            "The same notice is attached as JSON (notice-{reference}.json). To answer, reply \
             to this message: the reply address carries the reference {reference}."
        ));
    } else {
        line(&format!(
            "Le même signalement est joint au format JSON (notice-{reference}.json). Pour nous \
             répondre, répondez à ce message : l'adresse de réponse porte la référence \
             {reference}."
        ));
    }
    t
}

/// A stable reason code for a mail that did not leave (never the server's text).
fn reason(e: &MailError) -> &'static str {
    if let Some(code) = e.smtp_code() {
        return match code {
            421 => "smtp_421",
            450 => "smtp_450",
            451 => "smtp_451",
            452 => "smtp_452",
            454 => "smtp_454",
            455 => "smtp_455",
            500 => "smtp_500",
            501 => "smtp_501",
            502 => "smtp_502",
            503 => "smtp_503",
            504 => "smtp_504",
            521 => "smtp_521",
            530 => "smtp_530",
            534 => "smtp_534",
            535 => "smtp_535",
            538 => "smtp_538",
            550 => "smtp_550",
            551 => "smtp_551",
            552 => "smtp_552",
            553 => "smtp_553",
            554 => "smtp_554",
            555 => "smtp_555",
            556 => "smtp_556",
            c if (400..500).contains(&c) => "smtp_4xx",
            _ => "smtp_5xx",
        };
    }
    match e.reason() {
        Reason::Timeout => "smtp_timeout",
        Reason::ConnectionRefused => "smtp_connection_refused",
        Reason::ConnectFailed => "smtp_connect_failed",
        Reason::ConnectionLost => "smtp_connection_lost",
        Reason::Protocol => "smtp_protocol",
        Reason::TlsHandshake => "smtp_tls_handshake",
        Reason::TlsCertificate => "smtp_tls_certificate",
        Reason::StarttlsUnavailable => "smtp_starttls_unavailable",
        Reason::AuthUnsupported => "smtp_auth_unsupported",
        Reason::AuthWithoutTls => "smtp_auth_without_tls",
        Reason::SmtpUtf8Unsupported => "smtp_smtputf8_unsupported",
        Reason::EightBitUnsupported => "smtp_8bitmime_unsupported",
        Reason::InvalidConfig => "smtp_invalid_config",
        Reason::InvalidMessage => "mail_unreadable",
        _ => "mail_refused",
    }
}

/// One attempt: the stored bytes, as they are. Delivered: the receipt is the Message-ID.
pub(crate) async fn send(mailer: &Mailer, stored: &str) -> Outcome {
    let rendered = match Rendered::parse(stored.as_bytes().to_vec()) {
        Ok(r) => r,
        Err(_) => {
            return Outcome::Permanent {
                reason: "mail_unreadable",
                status: None,
            };
        }
    };
    match mailer.send_rendered(&rendered).await {
        Ok(sent) => Outcome::Delivered {
            status: 0,
            receipt: Some(sent.message_id),
            at_platform: AtPlatform::Taken,
        },
        Err(e) => {
            tracing::warn!(
                class = e.class().code(),
                reason = e.reason().code(),
                stage = e.stage().code(),
                smtp = e.smtp_code(),
                "notice mail not sent"
            );
            match e.class() {
                ErrorClass::Transient => Outcome::Transient {
                    reason: reason(&e),
                    status: None,
                    retry_after: None,
                    maybe_delivered: e.maybe_delivered(),
                },
                ErrorClass::Permanent => Outcome::Permanent {
                    reason: reason(&e),
                    status: None,
                },
            }
        }
    }
}

/// What a content type is called in a notice mail, in the platform's language (the mail's
/// own words, like the rest of its text).
fn content_word(k: rempart_domain::taxonomy::ContentType, en: bool) -> &'static str {
    use rempart_domain::taxonomy::ContentType as C;
    match (k, en) {
        (C::Post, false) => "publication",
        (C::Post, true) => "post",
        (C::Comment, false) => "commentaire",
        (C::Comment, true) => "comment",
        (C::Account, false) => "compte",
        (C::Account, true) => "account",
        (C::Message, false) => "message privé",
        (C::Message, true) => "private message",
        (C::Image, _) => "image",
        (C::Video, false) => "vidéo",
        (C::Video, true) => "video",
        (C::Story, _) => "story",
        (C::Live, false) => "live (direct)",
        (C::Live, true) => "live stream",
        (C::Group, false) => "groupe, serveur ou canal",
        (C::Group, true) => "group, server or channel",
        (C::Other, false) => "autre",
        (C::Other, true) => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rempart_domain::notice_content::NoticeItem;

    fn content(lang: &str, sexual: bool) -> NoticeContent {
        NoticeContent {
            platform: "snapchat".into(),
            category: "sextortion".into(),
            lang: lang.into(),
            explanation: "Chantage.\n.\n..ligne à points".into(),
            items: vec![
                NoticeItem {
                    item_id: "i1".into(),
                    content_type: "account".into(),
                    url: None,
                    native_id: Some("@maitre_chanteur".into()),
                },
                NoticeItem {
                    item_id: "i2".into(),
                    content_type: "message".into(),
                    url: Some("https://snapchat.example/m/2".into()),
                    native_id: None,
                },
            ],
            notifier_name: "Rempart".into(),
            notifier_email: "signalements@rempart.invalid".into(),
            sexual_images_of_minor: sexual,
        }
    }

    #[test]
    fn the_text_gives_the_four_elements_in_order_in_the_platforms_language() {
        let fr = text("R-1", &content("fr", false), None);
        let a = fr.find("(a) ").unwrap();
        let b = fr.find("(b) ").unwrap();
        let c = fr.find("(c) ").unwrap();
        let d = fr.find("(d) ").unwrap();
        assert!(a < b && b < c && c < d, "{fr}");
        assert!(fr.contains("1. Identifiant sur le service : @maitre_chanteur"));
        assert!(fr.contains("2. https://snapchat.example/m/2\n   Type : message privé"));
        assert!(fr.contains("Nous déclarons de bonne foi"));
        assert!(fr.contains("Rempart <signalements@rempart.invalid>"));
        assert!(!fr.contains("images sexuelles"));
        let en = text("R-1", &content("en", true), None);
        assert!(en.starts_with("Dear Trust & Safety team,"));
        assert!(en.contains("We declare in good faith"));
        assert!(en.contains("locations and identifiers only"));
        assert!(subject("R-1", &content("en", true), None).contains("sexual images of a minor"));
        assert_eq!(
            subject("R-1", &content("fr", false), None),
            "Signalement R-1 : sextortion (DSA, art. 16)"
        );
    }

    #[test]
    fn the_mailer_is_built_once_from_the_settings() {
        let mut s = SmtpSettings::default();
        assert!(mailer(&s).unwrap().is_none(), "no host: e-mail is off");
        s.host = "127.0.0.1".into();
        assert!(mailer(&s).unwrap().is_some());
        let dir = std::env::temp_dir().join(format!("rempart-mailer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pem = dir.join("ca.pem");
        std::fs::write(&pem, "not a certificate").unwrap();
        s.extra_root_pem_file = Some(pem);
        assert!(mailer(&s).is_err(), "an unusable CA stops the start");
        s.extra_root_pem_file = Some(dir.join("absent.pem"));
        assert!(mailer(&s).is_err(), "so does a missing file");
        s.extra_root_pem_file = None;
        s.hello_name = "bad name!".into();
        assert!(mailer(&s).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn replies_carry_the_reference_after_a_plus() {
        assert_eq!(
            plus_address("a@b.example", "R-1").unwrap(),
            "a+R-1@b.example"
        );
        assert!(plus_address("nobody", "R").is_none());
    }
}
