//! The exact bytes a notice leaves with, per channel: Rempart's notice JSON (pushed to an
//! `http_json` endpoint, or fetched by a partner from `/partner/v1`) and ROOST Coop's
//! Report API body. Built once when the notice is sent, stored, and sent as stored on every
//! attempt.

use rempart_domain::notice_content::{NoticeContent, good_faith_statement};
use rempart_domain::taxonomy::Category;
use serde_json::{Value, json};

/// ISO 8601 in UTC with milliseconds (`2026-12-01T10:30:00.000Z`).
pub fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// What identifies the notice in every format.
pub struct Envelope<'a> {
    /// The notice's id.
    pub id: &'a str,
    /// Its reference.
    pub reference: &'a str,
    /// When it is sent (ms).
    pub sent_at: i64,
}

fn items(content: &NoticeContent) -> Vec<Value> {
    content
        .items
        .iter()
        .map(|i| {
            json!({
                "id": i.item_id,
                "url": i.url,
                "native_id": i.native_id,
                "content_type": i.content_type,
            })
        })
        .collect()
}

/// Rempart's notice document (version 1): the four elements of DSA Article 16(2) in
/// order, the category in the Transparency Database's vocabulary, the items. Never the
/// child's identity.
pub fn rempart_notice(
    e: &Envelope<'_>,
    content: &NoticeContent,
    category: Option<&Category>,
) -> String {
    let doc = json!({
        "type": "rempart.notice",
        "version": 1,
        "id": e.id,
        "reference": e.reference,
        "sent_at": iso(e.sent_at),
        "platform": content.platform,
        "language": content.lang,
        "explanation": content.explanation,
        "items": items(content),
        "notifier": {
            "name": content.notifier_name,
            "email": content.notifier_email,
            "trusted_flagger": true,
        },
        "good_faith_statement": good_faith_statement(&content.lang),
        "category": {
            "code": content.category,
            "dsa_category": category.map(|c| c.dsa_category.as_str()),
            "label": category.map(|c| c.label(&content.lang)),
        },
        "sexual_images_of_minor": content.sexual_images_of_minor,
    });
    doc.to_string()
}

/// The Coop channel's identifiers for the helpline, from the directory.
pub struct CoopIds<'a> {
    /// The reporter's item type id.
    pub reporter_type_id: &'a str,
    /// The reporter's id.
    pub reporter_id: &'a str,
    /// The reported items' type id.
    pub item_type_id: &'a str,
}

/// A Coop Report API body: the first item as `reportedItem`, the others as
/// `additionalItems`, the explanation and the good-faith statement as the reason, and
/// `csam: true` for sexual images of a minor (Coop's NCMEC queue).
pub fn coop_report(e: &Envelope<'_>, content: &NoticeContent, ids: &CoopIds<'_>) -> String {
    let item = |i: &rempart_domain::notice_content::NoticeItem| {
        json!({
            "id": i.item_id,
            "typeId": ids.item_type_id,
            "data": {
                "url": i.url,
                "nativeId": i.native_id,
                "contentType": i.content_type,
                "noticeReference": e.reference,
            },
        })
    };
    let mut all = content.items.iter().map(item);
    let first = all.next().unwrap_or(Value::Null);
    let rest: Vec<Value> = all.collect();
    let reason = format!(
        "{}\n\n{}\n\n{} — {} <{}> — {}",
        content.explanation,
        good_faith_statement(&content.lang),
        e.reference,
        content.notifier_name,
        content.notifier_email,
        content.category,
    );
    let mut body = json!({
        "reporter": { "kind": "user", "typeId": ids.reporter_type_id, "id": ids.reporter_id },
        "reportedAt": iso(e.sent_at),
        "reportedForReason": { "reason": reason, "csam": content.sexual_images_of_minor },
        "reportedItem": first,
    });
    if !rest.is_empty() {
        body["additionalItems"] = Value::Array(rest);
    }
    body.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rempart_domain::notice_content::NoticeItem;

    fn content() -> NoticeContent {
        NoticeContent {
            platform: "snapchat".into(),
            category: "sextortion".into(),
            lang: "en".into(),
            explanation: "Sextortion of a minor.".into(),
            items: vec![
                NoticeItem {
                    item_id: "i1".into(),
                    content_type: "account".into(),
                    url: None,
                    native_id: Some("@blackmailer".into()),
                },
                NoticeItem {
                    item_id: "i2".into(),
                    content_type: "message".into(),
                    url: Some("https://snapchat.example/m/2".into()),
                    native_id: None,
                },
            ],
            notifier_name: "Rempart".into(),
            notifier_email: "notices@rempart.invalid".into(),
            sexual_images_of_minor: true,
        }
    }

    const E: Envelope<'static> = Envelope {
        id: "n1",
        reference: "D26-AAAA1-N1",
        sent_at: 1_764_585_000_000,
    };

    #[test]
    fn the_coop_body_has_the_documented_shape() {
        let ids = CoopIds {
            reporter_type_id: "tf",
            reporter_id: "rempart",
            item_type_id: "content",
        };
        let v: Value = serde_json::from_str(&coop_report(&E, &content(), &ids)).unwrap();
        assert_eq!(
            v["reporter"],
            json!({"kind": "user", "typeId": "tf", "id": "rempart"})
        );
        assert_eq!(v["reportedAt"], "2025-12-01T10:30:00.000Z");
        assert_eq!(v["reportedForReason"]["csam"], true);
        let reason = v["reportedForReason"]["reason"].as_str().unwrap();
        assert!(reason.starts_with("Sextortion of a minor."));
        assert!(reason.contains("We declare in good faith"));
        assert!(reason.contains("D26-AAAA1-N1"));
        assert_eq!(v["reportedItem"]["id"], "i1");
        assert_eq!(v["reportedItem"]["typeId"], "content");
        assert_eq!(v["reportedItem"]["data"]["nativeId"], "@blackmailer");
        assert_eq!(
            v["additionalItems"][0]["data"]["url"],
            "https://snapchat.example/m/2"
        );
    }

    #[test]
    fn the_rempart_notice_carries_the_four_elements() {
        let v: Value = serde_json::from_str(&rempart_notice(&E, &content(), None)).unwrap();
        assert_eq!(v["type"], "rempart.notice");
        assert_eq!(v["explanation"], "Sextortion of a minor.");
        assert_eq!(v["items"].as_array().unwrap().len(), 2);
        assert_eq!(v["notifier"]["email"], "notices@rempart.invalid");
        assert!(
            v["good_faith_statement"]
                .as_str()
                .unwrap()
                .starts_with("We declare")
        );
        assert_eq!(v["sexual_images_of_minor"], true);
    }
}
