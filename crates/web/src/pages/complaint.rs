//! The words of a case's complaint document ("aide au dépôt de plainte"), for the young
//! person and their family or for the police, in French or English. The use-case chose
//! what the document may hold ([`ComplaintData`]: no note, no staff name, no conversation,
//! no file); this module only says it.

use crate::AppState;
use crate::i18n::Said;
use crate::render::datetime;
use fluent_bundle::FluentValue;
use rempart_app::complaint::ComplaintData;
use rempart_domain::case::EvidenceKind;
use rempart_domain::document::{Block, ComplaintAudience, Entry, Field, PrintDocument};
use rempart_domain::taxonomy::ContentType;
use std::collections::HashMap;

/// The document for `data`, in `lang`.
pub fn document(st: &AppState, lang: &str, data: &ComplaintData) -> PrintDocument {
    let t = |key: &str| st.i18n.t(lang, key, &[]);
    let ta = |key: &str, args: &[(&str, FluentValue<'_>)]| st.i18n.t(lang, key, args);
    let helpline = st.app.settings().helpline.name.clone();
    let police = data.audience == ComplaintAudience::Police;
    let c = &data.case;
    let mut blocks = Vec::new();

    blocks.push(Block::Paragraph {
        text: ta(
            if police {
                "complaint-intro-police"
            } else {
                "complaint-intro-family"
            },
            &[("helpline", helpline.clone().into())],
        ),
    });

    // what was suffered
    blocks.push(Block::Heading {
        text: t(if police {
            "complaint-offences-police"
        } else {
            "complaint-offences-family"
        }),
    });
    let mut offences: Vec<String> = data
        .offences
        .iter()
        .map(|o| {
            if o.articles.is_empty() {
                o.label.clone()
            } else {
                format!("{} ({})", o.label, o.articles.join(" ; "))
            }
        })
        .collect();
    if !data.other_articles.is_empty() {
        offences.push(ta(
            "complaint-other-articles",
            &[("articles", data.other_articles.join(" ; ").into())],
        ));
    }
    if offences.is_empty() {
        blocks.push(Block::Paragraph {
            text: t("complaint-none"),
        });
    } else {
        blocks.push(Block::List { items: offences });
    }

    // the content
    blocks.push(Block::Heading {
        text: t("complaint-items"),
    });
    if data.items.is_empty() {
        blocks.push(Block::Paragraph {
            text: t("complaint-none"),
        });
    } else {
        let directory = st.app.directory();
        blocks.push(Block::Table {
            columns: vec![
                t("complaint-col-number"),
                t("complaint-col-platform"),
                t("complaint-col-type"),
                t("complaint-col-seen"),
                t("complaint-col-status"),
                t("complaint-col-address"),
            ],
            rows: data
                .items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    vec![
                        format!("{}", i + 1),
                        directory
                            .platform(&item.platform)
                            .map(|p| p.name.clone())
                            .unwrap_or_else(|| item.platform.clone()),
                        ContentType::parse(&item.content_type)
                            .map(|ct| ct.said(lang).to_owned())
                            .unwrap_or_else(|_| item.content_type.clone()),
                        item.first_seen_at.map(datetime).unwrap_or_default(),
                        item.status.said(lang).to_owned(),
                        item.url
                            .clone()
                            .or_else(|| item.native_id.clone())
                            .unwrap_or_default(),
                    ]
                })
                .collect(),
        });
    }

    // the evidence
    blocks.push(Block::Heading {
        text: t("complaint-evidence"),
    });
    let item_numbers: HashMap<_, usize> = data
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| (item.id, i + 1))
        .collect();
    if data.evidence.is_empty() {
        blocks.push(Block::Paragraph {
            text: t("complaint-none"),
        });
    } else {
        let entries = data
            .evidence
            .iter()
            .map(|e| {
                let mut fields = vec![
                    Field::text(t("complaint-received"), datetime(e.received_at)),
                    Field::text(t("complaint-brought"), e.source.said(lang)),
                ];
                if let Some(d) = &e.description {
                    fields.push(Field::text(t("complaint-description"), d.clone()));
                }
                if let Some(u) = &e.url {
                    fields.push(Field::text(t("complaint-col-address"), u.clone()));
                }
                if let Some(x) = &e.excerpt {
                    fields.push(Field::text(t("complaint-excerpt"), x.clone()));
                }
                if let (Some(ft), Some(size)) = (&e.file_type, e.size) {
                    fields.push(Field::text(
                        t("complaint-file"),
                        ta(
                            "complaint-file-is",
                            &[("type", ft.clone().into()), ("bytes", size.into())],
                        ),
                    ));
                }
                if e.sexual_image_of_minor || e.kind == EvidenceKind::HashOnly {
                    fields.push(Field::text(t("complaint-file"), t("complaint-never-sent")));
                }
                if let Some(h) = &e.sha256 {
                    fields.push(Field::mono("SHA-256", h.clone()));
                }
                if police {
                    if let Some(h) = &e.md5 {
                        fields.push(Field::mono("MD5", h.clone()));
                    }
                    if let Some(h) = &e.pdq {
                        fields.push(Field::mono("PDQ", h.clone()));
                    }
                }
                let supports: Vec<String> = e
                    .items
                    .iter()
                    .filter_map(|i| item_numbers.get(i).map(|n| n.to_string()))
                    .collect();
                if !supports.is_empty() {
                    fields.push(Field::text(t("complaint-supports"), supports.join(", ")));
                }
                Entry {
                    title: ta(
                        "complaint-evidence-title",
                        &[("n", e.number.into()), ("kind", e.kind.said(lang).into())],
                    ),
                    fields,
                }
            })
            .collect();
        blocks.push(Block::Entries { entries });
        blocks.push(Block::Paragraph {
            text: t(if police {
                "complaint-evidence-kept-police"
            } else {
                "complaint-evidence-kept-family"
            }),
        });
        if police {
            blocks.push(Block::Entries {
                entries: vec![Entry {
                    title: t("complaint-signing-key"),
                    fields: vec![Field::mono("Ed25519", data.signing_key.clone())],
                }],
            });
        }
    }

    // referrals
    if !data.referrals.is_empty() {
        blocks.push(Block::Heading {
            text: t("complaint-referrals"),
        });
        let directory = st.app.directory();
        let items = data
            .referrals
            .iter()
            .map(|r| {
                let service = directory
                    .service(&r.service)
                    .map(|s| s.label(lang).to_owned())
                    .unwrap_or_else(|| r.service.clone());
                let mut s = format!("{service} — {}", r.state.said(lang));
                if let (Some(b), Some(at)) = (r.basis, r.consent_at) {
                    s.push_str(&format!(
                        " ; {} ({})",
                        b.said(lang),
                        ta("complaint-on", &[("at", datetime(at).into())])
                    ));
                }
                if let Some(at) = r.sent_at {
                    s.push_str(&format!(
                        " ; {}",
                        ta("complaint-sent-on", &[("at", datetime(at).into())])
                    ));
                }
                s
            })
            .collect();
        blocks.push(Block::List { items });
    }

    // the timeline, without names
    blocks.push(Block::Heading {
        text: t("complaint-timeline"),
    });
    if data.timeline_truncated {
        blocks.push(Block::Paragraph {
            text: ta(
                "complaint-timeline-truncated",
                &[("n", data.timeline.len().into())],
            ),
        });
    }
    let nobody = HashMap::new();
    blocks.push(Block::Table {
        columns: vec![t("complaint-col-when"), t("complaint-col-what")],
        rows: data
            .timeline
            .iter()
            .map(|a| {
                vec![
                    datetime(a.at_ms),
                    capitalised(super::words::describe(
                        st, lang, &a.action, &a.detail, &nobody,
                    )),
                ]
            })
            .collect(),
    });

    // what next
    blocks.push(Block::Heading {
        text: t(if police {
            "complaint-next-police"
        } else {
            "complaint-next-family"
        }),
    });
    if police {
        blocks.push(Block::Paragraph {
            text: ta(
                "complaint-contact-police",
                &[
                    ("helpline", helpline.clone().into()),
                    ("reference", c.reference.clone().into()),
                ],
            ),
        });
    } else {
        blocks.push(Block::List {
            items: (1..=5).map(|i| t(&format!("complaint-step-{i}"))).collect(),
        });
    }

    PrintDocument {
        lang: crate::i18n::I18n::lang(lang).to_owned(),
        title: t("complaint-title"),
        subtitle: t(if police {
            "complaint-for-police"
        } else {
            "complaint-for-family"
        }),
        meta: vec![
            Field::text(t("complaint-helpline"), helpline.clone()),
            Field::mono(t("complaint-case"), c.reference.clone()),
            Field::text(
                t("complaint-victim"),
                ta(
                    "complaint-victim-is",
                    &[("age", c.age_band.said(lang).into())],
                ),
            ),
            Field::text(t("complaint-produced"), datetime(data.produced_at)),
            Field::text(t("complaint-times"), t("complaint-times-are")),
        ],
        blocks,
        footer: ta(
            "complaint-footer",
            &[
                ("helpline", helpline.into()),
                ("reference", c.reference.clone().into()),
            ],
        ),
    }
}

/// The sentence with a capital first letter (the audit's words are a label, lower case).
fn capitalised(s: String) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => s,
    }
}
