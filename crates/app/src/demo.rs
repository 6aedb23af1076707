//! Demo data: one account per role and about 200 fictional French cases across
//! categories, statuses and platforms, with contacts, items and notes. Seeded once,
//! into an empty database, deterministically.

use crate::App;
use crate::error::AppError;
use crate::staff::NewStaffInput;
use rempart_domain::audit::event::AuditEvent;
use rempart_domain::case::{
    CaseOutcome, CaseStatus, Consent, ConsentScope, LegalQualification, NoteVisibility,
};
use rempart_domain::contact::ItemStatus;
use rempart_domain::ids::{CaseId, ContactId, ItemId, NoteId, StaffId};
use rempart_domain::policy::{Actor, Role};
use rempart_domain::values::{AgeBand, CallerType, CaseReference, Channel, ContactOutcome};
use rempart_storage::{AuditEntry, ContactRecord, ItemRecord, NewCase, NoteRecord, StaffRecord};

/// A demo account, printed at start-up.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    /// Role.
    pub role: Role,
    /// E-mail.
    pub email: String,
    /// Password.
    pub password: String,
}

/// The demo accounts (fixed, documented credentials for a local demo only).
pub fn demo_accounts() -> Vec<(DemoAccount, &'static str, Option<&'static str>)> {
    let a = |role: Role, email: &str, name: &'static str, team: Option<&'static str>| {
        (
            DemoAccount {
                role,
                email: email.to_owned(),
                password: format!("demo-{}-2026", role.as_str().replace('_', "-")),
            },
            name,
            team,
        )
    };
    vec![
        a(
            Role::Counsellor,
            "camille.ecoutante@demo.rempart.invalid",
            "Camille Martin",
            Some("paris"),
        ),
        a(
            Role::Psychologist,
            "samir.psy@demo.rempart.invalid",
            "Samir Haddad",
            Some("paris"),
        ),
        a(
            Role::Lawyer,
            "ines.juriste@demo.rempart.invalid",
            "Inès Lefèvre",
            Some("paris"),
        ),
        a(
            Role::DigitalSpecialist,
            "hugo.numerique@demo.rempart.invalid",
            "Hugo Bernard",
            Some("lyon"),
        ),
        a(
            Role::Supervisor,
            "claire.superviseure@demo.rempart.invalid",
            "Claire Dubois",
            None,
        ),
        a(
            Role::Admin,
            "alex.admin@demo.rempart.invalid",
            "Alex Moreau",
            None,
        ),
    ]
}

/// SplitMix64: a small deterministic generator, enough to vary demo data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

struct Story {
    category: &'static str,
    titles: &'static [&'static str],
    summaries: &'static [&'static str],
    platforms: &'static [&'static str],
    content: &'static [&'static str],
}

const STORIES: &[Story] = &[
    Story {
        category: "cyber_harassment",
        titles: &[
            "Harcèlement dans un groupe de classe",
            "Moqueries répétées en commentaires",
            "Compte « balance » visant une élève",
            "Insultes en message privé depuis la rentrée",
        ],
        summaries: &[
            "Élève de 4e insultée chaque soir dans un groupe Snapchat de la classe. Elle ne veut plus aller au collège.",
            "Un compte anonyme publie des montages humiliants sur un élève. Les parents ont découvert les publications hier.",
            "Messages d'insultes quotidiens, la jeune dit avoir des idées noires ; orientée vers la psychologue.",
            "Vidéo de l'élève filmé à son insu partagée dans un groupe de 60 personnes.",
        ],
        platforms: &["snapchat", "instagram", "tiktok", "whatsapp"],
        content: &["account", "post", "comment", "group"],
    },
    Story {
        category: "intimate_images",
        titles: &[
            "Photos intimes diffusées par un ex",
            "Compte « ficha » publiant des photos d'élèves",
            "Vidéo intime partagée sans consentement",
        ],
        summaries: &[
            "Photos envoyées à un ex-petit ami, republiées sur un compte ficha du lycée. La jeune est très inquiète.",
            "Un compte diffuse des photos intimes de plusieurs élèves du même établissement ; vague de sollicitations ce soir.",
            "La mère appelle : une vidéo intime de sa fille de 15 ans circule dans un groupe Telegram.",
        ],
        platforms: &["instagram", "snapchat", "telegram", "x"],
        content: &["account", "image", "video", "story"],
    },
    Story {
        category: "sextortion",
        titles: &[
            "Chantage à la webcam, délai ce soir",
            "Demande d'argent contre non-publication",
            "Faux profil et menaces de diffusion",
        ],
        summaries: &[
            "Un inconnu rencontré sur un jeu en ligne exige 200 € avant minuit, sinon il publie la vidéo. Conseils : ne pas payer, garder les preuves.",
            "Le jeune a envoyé une photo à un faux profil ; le maître chanteur menace d'envoyer la photo à toute sa liste d'amis.",
            "Menaces de diffusion reçues sur Instagram après un appel vidéo ; captures d'écran conservées.",
        ],
        platforms: &["instagram", "snapchat", "discord", "facebook"],
        content: &["account", "message"],
    },
    Story {
        category: "account_hacking",
        titles: &[
            "Compte Instagram piraté",
            "Compte de jeu volé et revendu",
            "Accès perdu après un faux concours",
        ],
        summaries: &[
            "Le compte a été piraté via un faux lien de concours ; le pirate publie des messages au nom de l'adolescent.",
            "Compte de jeu volé après partage du mot de passe avec un « ami » ; le compte est revendu.",
            "Adresse e-mail et mot de passe modifiés par un tiers, la double authentification n'était pas activée.",
        ],
        platforms: &["instagram", "roblox", "epic_games", "tiktok"],
        content: &["account"],
    },
    Story {
        category: "identity_theft",
        titles: &[
            "Faux compte au nom d'une collégienne",
            "Usurpation d'identité sur TikTok",
            "Profil copié avec des photos personnelles",
        ],
        summaries: &[
            "Un faux compte utilise le nom et les photos de la jeune pour contacter ses camarades.",
            "Un compte se fait passer pour l'adolescent et publie des propos racistes en son nom.",
            "Photos de profil reprises sur un compte qui demande des photos à d'autres mineurs.",
        ],
        platforms: &["tiktok", "instagram", "snapchat", "facebook"],
        content: &["account", "post"],
    },
    Story {
        category: "grooming",
        titles: &[
            "Adulte insistant en messages privés",
            "Demandes de photos par un inconnu",
        ],
        summaries: &[
            "Un adulte contacte une enfant de 12 ans sur une plateforme de jeu et lui demande de garder le secret.",
            "Un inconnu demande des photos et propose des cadeaux ; la mère a découvert la conversation.",
        ],
        platforms: &["roblox", "discord", "snapchat"],
        content: &["account", "message"],
    },
    Story {
        category: "hate_speech",
        titles: &[
            "Propos haineux visant un élève",
            "Vidéo raciste sur un camarade",
        ],
        summaries: &[
            "Commentaires racistes sous une vidéo de l'élève, repris par plusieurs comptes.",
            "Montage homophobe publié par un groupe d'élèves, partagé largement.",
        ],
        platforms: &["tiktok", "youtube", "x"],
        content: &["video", "comment"],
    },
    Story {
        category: "scam",
        titles: &[
            "Arnaque à la revente de vêtements",
            "Faux site de recharge de jeu",
        ],
        summaries: &[
            "Paiement de 80 € pour une paire de baskets jamais reçue ; le vendeur a bloqué la jeune.",
            "Carte bancaire des parents utilisée sur un faux site de monnaie virtuelle.",
        ],
        platforms: &["vinted", "tiktok"],
        content: &["account", "post"],
    },
];

const NOTES_TEAM: &[&str] = &[
    "Rappel prévu demain 17 h, la jeune préfère WhatsApp.",
    "Captures d'écran reçues et vérifiées, URL exactes relevées.",
    "Signalement envoyé par le canal prioritaire, en attente de la plateforme.",
    "La famille souhaite porter plainte ; liste des infractions transmise.",
];
const NOTES_PSY: &[&str] = &[
    "Anxiété importante, troubles du sommeil depuis deux semaines. Proposer un second entretien.",
    "Pas d'idées suicidaires exprimées ce jour ; isolement social à surveiller.",
];
const NOTES_LAW: &[&str] = &[
    "Qualification : art. 226-2-1 ; la victime est mineure, circonstance aggravante à mentionner.",
    "Conseil : dépôt de plainte possible sans les parents pour un mineur de plus de 15 ans ; à vérifier avec la famille.",
];

/// Seeds the demo into an empty database; returns false when staff already exist.
pub async fn seed(app: &App, cases: usize) -> Result<bool, AppError> {
    if app.store.staff_count().await? > 0 {
        return Ok(false);
    }
    let mut staff: Vec<StaffRecord> = Vec::new();
    for (acc, name, team) in demo_accounts() {
        let rec = app
            .create_staff_by_operator(NewStaffInput {
                email: acc.email.clone(),
                display_name: name.into(),
                role: acc.role,
                team: team.map(Into::into),
                password: acc.password.clone(),
                lang: "fr".into(),
            })
            .await?;
        staff.push(rec);
    }
    let workers: Vec<&StaffRecord> = staff
        .iter()
        .filter(|s| s.role.works_cases() && s.role != Role::Supervisor)
        .collect();
    let by_role = |r: Role| staff.iter().find(|s| s.role == r).map(|s| s.id);
    let psy = by_role(Role::Psychologist);
    let law = by_role(Role::Lawyer);
    let mut rng = Rng(0x5245_4d50_4152_5421);
    let now = app.now();
    let day = 86_400_000i64;
    for i in 0..cases {
        let story = rng.pick(STORIES);
        let worker = *rng.pick(&workers);
        let created = now - (rng.below(180) as i64) * day - (rng.below(14 * 60) as i64) * 60_000;
        let age = *rng.pick(&[
            AgeBand::From11To14,
            AgeBand::From11To14,
            AgeBand::From15To17,
            AgeBand::From15To17,
            AgeBand::Under11,
            AgeBand::Unknown,
        ]);
        let status = *rng.pick(&[
            CaseStatus::New,
            CaseStatus::InProgress,
            CaseStatus::InProgress,
            CaseStatus::WaitingPlatform,
            CaseStatus::WaitingVictim,
            CaseStatus::Closed,
            CaseStatus::Closed,
        ]);
        let mut categories = vec![story.category.to_owned()];
        if rng.below(4) == 0 {
            let other = rng.pick(STORIES).category.to_owned();
            if !categories.contains(&other) {
                categories.push(other);
            }
        }
        let cat = app.taxonomy.get(story.category);
        let legal = LegalQualification {
            articles: cat.map(|c| c.articles.clone()).unwrap_or_default(),
            dsa_category: cat.map(|c| c.dsa_category.clone()),
        };
        let id = CaseId::new();
        let reference = CaseReference::generate(2026, (rng.next() & 0x1ff_ffff) as u32).to_string();
        let summary = *rng.pick(story.summaries);
        let caller = *rng.pick(&[CallerType::Victim, CallerType::Parent, CallerType::Relative]);
        let channel = *rng.pick(&[
            Channel::Phone,
            Channel::Phone,
            Channel::WebChat,
            Channel::WhatsApp,
            Channel::Messenger,
            Channel::Email,
        ]);
        let mut assignees = vec![worker.id];
        if (story.category == "intimate_images" || story.category == "sextortion")
            && let Some(p) = psy.filter(|p| *p != worker.id)
        {
            assignees.push(p);
        }
        let new = NewCase {
            id,
            reference,
            title: rng.pick(story.titles).to_string(),
            team: worker.team.clone(),
            categories: categories.clone(),
            age_band: age,
            preferred_channel: Some(channel),
            consents: vec![Consent {
                scope: ConsentScope::NoticeToPlatform,
                by_guardian: caller == CallerType::Parent,
                at_ms: created,
            }],
            legal,
            assignees,
            created_by: worker.id,
            at: created,
        };
        let contact = ContactRecord {
            id: ContactId::new(),
            case_id: Some(id),
            channel,
            caller_type: caller,
            age_band: age,
            categories,
            summary: summary.to_owned(),
            outcome: ContactOutcome::CaseOpened,
            person_key: Some(crate::sha256_hex(format!("demo-person-{i}").as_bytes())),
            started_at: created - 20 * 60_000,
            duration_s: Some(300 + rng.below(1800) as i64),
            created_by: worker.id,
            created_at: created,
        };
        let audit =
            |at: i64, by: StaffId, event: AuditEvent| AuditEntry::new(at, Some(by), event).case(id);
        app.store
            .create_case(
                &new,
                Some(&contact),
                &audit(created, worker.id, AuditEvent::CaseCreated).object(id),
            )
            .await?;
        let n_items = 1 + rng.below(3);
        for k in 0..n_items {
            let platform = rng.pick(story.platforms).to_string();
            let handle = format!("compte_{:04x}", rng.next() & 0xffff);
            let url = match platform.as_str() {
                "instagram" => Some(format!("https://www.instagram.com/{handle}/")),
                "tiktok" => Some(format!(
                    "https://www.tiktok.com/@{handle}/video/73{:015}",
                    rng.next() % 1_000_000_000_000_000
                )),
                "youtube" => Some(format!(
                    "https://www.youtube.com/watch?v=dQ{:09x}",
                    rng.next() & 0xf_ffff_ffff
                )),
                "x" => Some(format!(
                    "https://x.com/{handle}/status/18{:016}",
                    rng.next() % 10_000_000_000_000_000
                )),
                "facebook" => Some(format!("https://www.facebook.com/{handle}")),
                _ => None,
            };
            let native = if url.is_none() || rng.below(2) == 0 {
                Some(format!("@{handle}"))
            } else {
                None
            };
            let at = created + (k as i64 + 1) * 600_000;
            let item = ItemRecord {
                id: ItemId::new(),
                case_id: id,
                platform: platform.clone(),
                content_type: rng.pick(story.content).to_string(),
                url,
                native_id: native,
                status: if status == CaseStatus::Closed {
                    *rng.pick(&[ItemStatus::Removed, ItemStatus::Removed, ItemStatus::Kept])
                } else {
                    *rng.pick(&[ItemStatus::Online, ItemStatus::Notified])
                },
                first_seen_at: Some(created - day),
                created_by: worker.id,
                created_at: at,
            };
            app.store
                .add_item(
                    &item,
                    &audit(at, worker.id, AuditEvent::ItemAdded { platform }).object(item.id),
                )
                .await?;
        }
        let mut notes: Vec<(NoteVisibility, StaffId, &str)> =
            vec![(NoteVisibility::Team, worker.id, *rng.pick(NOTES_TEAM))];
        if let Some(p) = psy.filter(|_| rng.below(3) == 0) {
            notes.push((NoteVisibility::Psychologists, p, *rng.pick(NOTES_PSY)));
        }
        if let Some(l) = law.filter(|_| rng.below(3) == 0) {
            notes.push((NoteVisibility::Lawyers, l, *rng.pick(NOTES_LAW)));
        }
        for (k, (vis, by, body)) in notes.into_iter().enumerate() {
            let at = created + 3_600_000 + k as i64 * 60_000;
            let note = NoteRecord {
                id: NoteId::new(),
                case_id: id,
                visibility: vis,
                body: body.to_owned(),
                author_id: by,
                author_name: String::new(),
                created_at: at,
            };
            app.store
                .add_note(
                    &note,
                    &audit(at, by, AuditEvent::NoteAdded { visibility: vis }).object(note.id),
                )
                .await?;
        }
        if status != CaseStatus::New {
            let at = created + 2 * 3_600_000;
            let outcome = (status == CaseStatus::Closed).then(|| {
                *rng.pick(&[
                    CaseOutcome::ContentRemoved,
                    CaseOutcome::ContentRemoved,
                    CaseOutcome::Referred,
                    CaseOutcome::AdviceOnly,
                    CaseOutcome::Refused,
                ])
            });
            app.store
                .change_case_status(
                    id,
                    CaseStatus::New,
                    status,
                    outcome,
                    &audit(
                        at,
                        worker.id,
                        AuditEvent::CaseStatusChanged {
                            from: CaseStatus::New,
                            to: status,
                            outcome,
                        },
                    )
                    .object(id),
                )
                .await?;
        }
    }
    Ok(true)
}

/// A demo file: its kind, bytes, the name its device gave it, and whether it is intimate.
pub type DemoFile = (
    rempart_domain::case::EvidenceKind,
    Vec<u8>,
    &'static str,
    bool,
);

/// Gives the demo counsellor's most recent intimate-images case some evidence (the files
/// given, made by the caller; a link; a picture's fingerprints) and a follow-up code, so a
/// newcomer sees the evidence card and the follow-up page at once. Returns the code and the
/// secret.
pub async fn seed_evidence(
    app: &App,
    files: Vec<DemoFile>,
) -> Result<Option<crate::followup::IssuedFollowUp>, AppError> {
    use crate::evidence::{Content, EvidenceInput};
    use rempart_domain::case::EvidenceKind;
    let Some((acc, _, _)) = demo_accounts()
        .into_iter()
        .find(|(a, _, _)| a.role == Role::Counsellor)
    else {
        return Ok(None);
    };
    let Some(me) = app.store.staff_by_email(&acc.email).await? else {
        return Ok(None);
    };
    let actor = Actor {
        id: me.id,
        role: me.role,
        team: me.team.clone(),
    };
    let page = app
        .list_cases(
            &actor,
            &crate::cases::CaseQuery {
                category: Some("intimate_images".into()),
                assignee: Some(me.id),
                limit: Some(1),
                ..Default::default()
            },
        )
        .await?;
    let Some(case) = page.cases.first().map(|c| c.id) else {
        return Ok(None);
    };
    for (kind, bytes, name, intimate) in files {
        app.add_evidence(
            &actor,
            case,
            EvidenceInput {
                kind: Some(kind),
                description: Some("Capture envoyée par la jeune fille".into()),
                intimate,
                ..Default::default()
            },
            Content::File {
                bytes,
                name: Some(name.into()),
            },
        )
        .await?;
    }
    app.add_evidence(
        &actor,
        case,
        EvidenceInput {
            kind: Some(EvidenceKind::Link),
            url: Some("https://www.instagram.com/p/demo-rempart/".into()),
            description: Some("Publication où la photo circule".into()),
            ..Default::default()
        },
        Content::Link,
    )
    .await?;
    app.add_evidence(
        &actor,
        case,
        EvidenceInput {
            kind: Some(EvidenceKind::HashOnly),
            url: Some("https://www.instagram.com/p/demo-rempart/".into()),
            description: Some("Empreintes calculées sur son téléphone".into()),
            intimate: true,
            sexual_image_of_minor: true,
            ..Default::default()
        },
        Content::Fingerprints {
            sha256: "5d41402abc4b2a76b9719d911017c592".repeat(2),
            md5: Some("5d41402abc4b2a76b9719d911017c592".into()),
            pdq: Some(("f0e1d2c3b4a5968778695a4b3c2d1e0f".repeat(2), 83)),
        },
    )
    .await?;
    Ok(Some(app.issue_followup(&actor, case).await?))
}
