//! A referral sent by e-mail from the helpline. At the transmission the mail is rendered
//! once — From the helpline, To the recipient, Reply-To the notices address with the case
//! reference after a `+`, a Message-ID made of the reference and the referral's id, the
//! offences, the lawful basis, the counsellor's words and each piece of evidence shared as
//! words (its number, kind, reception time, URL, excerpt, fingerprints), and the same as a
//! JSON attachment — and those bytes are stored with the transmission and its job in one
//! transaction. The delivery workers send them as they are on every attempt (the notices'
//! SMTP path and retries). No image, video or file of the evidence is ever attached: sexual
//! images of a minor travel as URLs and fingerprints, like everything else here.

use crate::{App, AppError};
use rempart_delivery::Outcome;
use rempart_domain::audit::event::AuditEvent;
use rempart_domain::case::EvidenceKind;
use rempart_domain::referral::ReferralMailState;
use rempart_mail::{Attachment, OutgoingMail};
use rempart_storage::{
    AuditEntry, CaseRecord, ClaimedJob, EvidenceRecord, JobEnd, MailChange, NewJob, ReferralMail,
    ReferralRecord,
};
use std::time::Duration;

/// The job that sends a referral's e-mail (run by the delivery workers).
pub(crate) const REFERRAL_MAIL_JOB: &str = "referral_mail";

/// The job of referral `id`'s e-mail.
pub(crate) fn job_for(id: &str, at: i64) -> NewJob {
    NewJob {
        kind: REFERRAL_MAIL_JOB.into(),
        dedup_key: format!("referral:{id}:mail"),
        payload: id.to_owned(),
        run_at: at,
    }
}

fn utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

fn kind_words(k: EvidenceKind, en: bool) -> &'static str {
    use EvidenceKind::*;
    match (k, en) {
        (Screenshot, false) => "capture d'écran",
        (Screenshot, true) => "screenshot",
        (Photo, false) => "photo",
        (Photo, true) => "photo",
        (Video, false) => "vidéo",
        (Video, true) => "video",
        (Document, false) => "document",
        (Document, true) => "document",
        (MessageExport, false) => "export de conversation",
        (MessageExport, true) => "conversation export",
        (Link, false) => "lien",
        (Link, true) => "link",
        (Excerpt, false) => "extrait de texte",
        (Excerpt, true) => "text excerpt",
        (HashOnly, false) => "empreintes seules (le fichier n'a jamais été transmis à la ligne)",
        (HashOnly, true) => "fingerprints only (the file never reached the helpline)",
    }
}

impl App {
    /// Whether this server sends e-mail (`[smtp] host`).
    pub fn can_mail(&self) -> bool {
        self.delivery.mailer.is_some()
    }

    /// The e-mail of referral `r` of case `c` sharing `evidence`, rendered at `now`.
    pub(crate) fn referral_mail(
        &self,
        r: &ReferralRecord,
        c: &CaseRecord,
        evidence: &[EvidenceRecord],
        lang: &str,
        now: i64,
    ) -> Result<ReferralMail, AppError> {
        if !self.can_mail() {
            return Err(AppError::field(
                "by_email",
                "this server sends no e-mail (no [smtp] host)",
            ));
        }
        let en = lang.eq_ignore_ascii_case("en");
        let recipient = r.recipient.as_deref().unwrap_or("");
        if recipient.trim().parse::<rempart_mail::Address>().is_err() {
            return Err(AppError::field("recipient", "an e-mail address"));
        }
        let a = self.addresses(&c.reference, recipient)?;
        let message_id = format!("<{}.referral.{}@{}>", c.reference, r.id, a.domain);
        let service = self
            .directory()
            .service(&r.service)
            .map(|s| s.label(lang).to_owned())
            .unwrap_or_else(|| r.service.clone());
        let helpline = &self.settings.helpline.name;
        let offences: Vec<String> = c
            .categories
            .iter()
            .map(|code| {
                self.taxonomy
                    .get(code)
                    .map(|k| k.label(lang).to_owned())
                    .unwrap_or_else(|| code.clone())
            })
            .collect();

        let mut t = String::new();
        let mut line = |s: &str| {
            t.push_str(s);
            t.push('\n');
        };
        if en {
            line("Dear Sir or Madam,");
            line("");
            line(&format!(
                "{helpline}, a helpline for minors who suffer digital violence, refers case {} to {service}.",
                c.reference
            ));
        } else {
            line("Madame, Monsieur,");
            line("");
            line(&format!(
                "{helpline}, service d'aide aux mineurs victimes de violences numériques, vous oriente le dossier {} ({service}).",
                c.reference
            ));
        }
        line("");
        if !offences.is_empty() {
            line(&format!(
                "{} {}",
                if en { "Facts:" } else { "Faits :" },
                offences.join(" ; ")
            ));
        }
        if !c.legal.articles.is_empty() {
            line(&format!(
                "{} {}",
                if en { "Provisions:" } else { "Textes :" },
                c.legal.articles.join(" ; ")
            ));
        }
        if let Some(b) = r.basis {
            use rempart_domain::referral::ConsentBasis::*;
            let basis = match (b, en) {
                (Victim, false) => "consentement de la victime",
                (Victim, true) => "the victim's consent",
                (Guardian, false) => "consentement du représentant légal",
                (Guardian, true) => "a legal guardian's consent",
                (LegalObligation, false) => "obligation légale",
                (LegalObligation, true) => "a legal obligation",
                (VitalInterest, false) => "intérêt vital",
                (VitalInterest, true) => "vital interest",
            };
            let mut s = format!("{} {basis}", if en { "Basis:" } else { "Fondement :" });
            if let Some(by) = &r.consent_by {
                s.push_str(&format!(
                    ", {} {by}",
                    if en { "given by" } else { "donné par" }
                ));
            }
            if let Some(scope) = &r.consent_scope {
                s.push_str(&format!(" — {scope}"));
            }
            line(&s);
        }
        if let Some(n) = &r.note {
            line("");
            line(n);
        }
        line("");
        line(if en {
            "Evidence shared:"
        } else {
            "Éléments transmis :"
        });
        if evidence.is_empty() {
            line(if en { "(none)" } else { "(aucun)" });
        }
        for e in evidence {
            line(&format!(
                "{}. {} {} — {}, {} {}",
                e.number,
                if en { "Evidence no." } else { "Preuve n°" },
                e.number,
                kind_words(e.kind, en),
                if en { "received" } else { "reçue le" },
                utc(e.received_at)
            ));
            let mut field = |label_fr: &str, label_en: &str, v: &str| {
                line(&format!("   {} {v}", if en { label_en } else { label_fr }));
            };
            if let Some(d) = &e.description {
                field("Description :", "Description:", d);
            }
            if let Some(u) = &e.url {
                field("Adresse :", "Address:", u);
            }
            if let Some(x) = &e.excerpt {
                field("Extrait :", "Excerpt:", x);
            }
            if let Some(h) = &e.sha256 {
                field("SHA-256 :", "SHA-256:", h);
            }
            if let Some(h) = &e.md5 {
                field("MD5 :", "MD5:", h);
            }
            if let Some(h) = &e.pdq {
                field("PDQ :", "PDQ:", h);
            }
        }
        line("");
        line(if en {
            "No image, video or file is attached to this e-mail: sexual images of a minor are \
             shared by their addresses and fingerprints only. The helpline keeps the originals \
             it received, encrypted and unmodified, with their chain of custody, for a lawful request."
        } else {
            "Aucune image, vidéo ni aucun fichier n'est joint à ce courriel : les images sexuelles \
             de mineurs ne sont transmises que par leurs adresses et leurs empreintes. La ligne \
             conserve les originaux reçus, chiffrés et sans modification, avec leur traçabilité, \
             pour une réquisition."
        });
        line("");
        line(&format!(
            "{} {}",
            if en {
                "To answer, reply to this e-mail, quoting"
            } else {
                "Pour répondre, répondez à ce courriel en citant la référence"
            },
            c.reference
        ));
        line("");
        line(helpline);

        let json = serde_json::json!({
            "format": "rempart-referral/1",
            "referral": r.id,
            "case": c.reference,
            "service": r.service,
            "sent_at": utc(now),
            "categories": c.categories,
            "articles": c.legal.articles,
            "basis": r.basis.map(|b| b.as_str()),
            "consent_by": r.consent_by,
            "consent_scope": r.consent_scope,
            "evidence": evidence.iter().map(|e| serde_json::json!({
                "number": e.number,
                "kind": e.kind.as_str(),
                "received_at": utc(e.received_at),
                "description": e.description,
                "url": e.url,
                "excerpt": e.excerpt,
                "sha256": e.sha256,
                "md5": e.md5,
                "pdq": e.pdq,
                "pdq_quality": e.pdq_quality,
                "file_type": e.file_type,
                "size": e.size,
                "sexual_image_of_minor": e.sexual_image_of_minor,
            })).collect::<Vec<_>>(),
        });
        let mail = OutgoingMail {
            from: a.from,
            to: vec![a.to],
            reply_to: Some(a.reply_to),
            message_id: message_id.clone(),
            subject: if en {
                format!("Referral: case {} — {service}", c.reference)
            } else {
                format!("Orientation : dossier {} — {service}", c.reference)
            },
            text: t,
            attachments: vec![Attachment {
                filename: format!("referral-{}.json", c.reference),
                content_type: "application/json".into(),
                bytes: json.to_string().into_bytes(),
            }],
            language: Some(if en { "en" } else { "fr" }.into()),
            date: Some(
                std::time::UNIX_EPOCH + Duration::from_millis(u64::try_from(now).unwrap_or(0)),
            ),
        };
        let rendered = rempart_mail::render(&mail)
            .map_err(|_| AppError::field("recipient", "not usable in an e-mail"))?;
        let bytes = String::from_utf8(rendered.into_bytes())
            .map_err(|_| AppError::internal("referral mail not 7-bit"))?;
        Ok(ReferralMail {
            bytes,
            state: ReferralMailState::Queued,
            message_id,
            attempts: 0,
            error: None,
            sent_at: None,
        })
    }

    /// One attempt of a referral's e-mail (a delivery worker's job): its stored bytes to
    /// the SMTP server; a transient failure is due again after its backoff, a permanent one
    /// or the last attempt fails the mail. Each end is recorded with the job's.
    pub(crate) async fn send_referral_mail(&self, job: &ClaimedJob) {
        if let Err(e) = self.try_referral_mail(job).await {
            // the lease runs out and another attempt follows: nothing is lost
            tracing::warn!(error = %e, "referral mail attempt not recorded");
        }
    }

    async fn try_referral_mail(
        &self,
        job: &ClaimedJob,
    ) -> Result<(), rempart_storage::StorageError> {
        let r = self.store.referral_by_id(&job.payload).await?;
        let Some((r, mail)) = r.and_then(|r| r.mail.clone().map(|m| (r, m))) else {
            let failed = JobEnd::Failed {
                reason: "no_referral_mail".into(),
            };
            self.store.end_job(job, &failed, self.now()).await?;
            return Ok(());
        };
        if mail.state != ReferralMailState::Queued {
            self.store.end_job(job, &JobEnd::Done, self.now()).await?;
            return Ok(());
        }
        if !matches!(
            r.state,
            rempart_domain::referral::ReferralState::Sent
                | rempart_domain::referral::ReferralState::Acknowledged
                | rempart_domain::referral::ReferralState::Closed
        ) {
            // cancelled meanwhile: nothing leaves
            let now = self.now();
            let change = MailChange {
                state: ReferralMailState::Failed,
                attempts: mail.attempts,
                error: Some("cancelled".into()),
                sent_at: None,
                at: now,
            };
            let failed = JobEnd::Failed {
                reason: "cancelled".into(),
            };
            self.store
                .end_referral_mail(job, &failed, &r.id, &change, None)
                .await?;
            return Ok(());
        }
        let max = self.settings.delivery.max_attempts;
        let outcome = match &self.delivery.mailer {
            _ if job.attempt > max => Outcome::Permanent {
                reason: "attempts_exhausted",
                status: None,
            },
            Some(mailer) => crate::notices::email::send(mailer, &mail.bytes).await,
            None => Outcome::Permanent {
                reason: "smtp_not_configured",
                status: None,
            },
        };
        let now = self.now();
        // the notices' rule for a job's end: done, due again after its backoff, or failed
        let how = crate::notices::delivery::job_end(self, job, &outcome);
        let (state, error, sent_at, audit) = match &how {
            JobEnd::Done => (
                ReferralMailState::Sent,
                None,
                Some(now),
                Some(AuditEvent::ReferralMailSent {
                    attempt: job.attempt,
                }),
            ),
            JobEnd::Retry { reason, .. } => {
                (ReferralMailState::Queued, Some(reason.clone()), None, None)
            }
            JobEnd::Failed { reason } => (
                ReferralMailState::Failed,
                Some(reason.clone()),
                None,
                Some(AuditEvent::ReferralMailFailed {
                    reason: reason.clone(),
                }),
            ),
        };
        let change = MailChange {
            state,
            attempts: i64::from(job.attempt),
            error,
            sent_at,
            at: now,
        };
        let audit = audit.map(|a| AuditEntry::new(now, None, a).object(&r.id).case(r.case_id));
        self.store
            .end_referral_mail(job, &how, &r.id, &change, audit.as_ref())
            .await?;
        Ok(())
    }
}
