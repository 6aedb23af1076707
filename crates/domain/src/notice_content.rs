//! What a notice says: the four elements of DSA Article 16(2) built from a case — the
//! explanation from the category and its penal articles (editable), the exact locations of
//! the items, the helpline as notifier (never the child), the good-faith statement — what
//! is still missing, and whether a second counsellor must validate it before it leaves.

use crate::notice::{MissingElement, check_dsa_article16, is_en};
use crate::taxonomy::Category;

/// One item a notice is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeItem {
    /// The item's id (also its id at the platform's side of the notice).
    pub item_id: String,
    /// The content type code.
    pub content_type: String,
    /// The exact URL.
    pub url: Option<String>,
    /// The platform's own id (account handle, post id, message link).
    pub native_id: Option<String>,
}

impl NoticeItem {
    /// Where it is: the URL, else the native id.
    pub fn location(&self) -> Option<&str> {
        self.url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
            .or(self.native_id.as_deref().filter(|n| !n.trim().is_empty()))
    }
}

/// The content of a notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeContent {
    /// The platform's code.
    pub platform: String,
    /// The category code.
    pub category: String,
    /// The language it is written in (the platform's).
    pub lang: String,
    /// Why the content is illegal.
    pub explanation: String,
    /// The items.
    pub items: Vec<NoticeItem>,
    /// The notifier: the helpline's name.
    pub notifier_name: String,
    /// The notifier: the helpline's notices address.
    pub notifier_email: String,
    /// The items show a minor sexually: flagged as such to the platform (Coop's `csam`),
    /// hashes and URLs only, a second validation before sending, the hotline prompted.
    pub sexual_images_of_minor: bool,
}

impl NoticeContent {
    /// Each item's location, in order (an item without one is reported as missing).
    pub fn locations(&self) -> Vec<String> {
        self.items
            .iter()
            .map(|i| i.location().unwrap_or("").to_owned())
            .collect()
    }

    /// What Article 16(2) requires and the notice lacks, in its order (a)–(d); the
    /// good-faith statement is always included.
    pub fn missing(&self) -> Vec<MissingElement> {
        check_dsa_article16(
            &self.explanation,
            &self.locations(),
            &self.notifier_name,
            &self.notifier_email,
            true,
        )
    }

    /// Whether a second counsellor must validate it before it is sent: intimate images or
    /// sexual images of a minor.
    pub fn needs_four_eyes(&self, category: Option<&Category>) -> bool {
        self.sexual_images_of_minor || category.is_some_and(|c| c.sensitive_images)
    }
}

/// The explanation a notice starts with, from its category and the category's articles.
pub fn default_explanation(category: &Category, lang: &str) -> String {
    let articles = category.articles.join(" ; ");
    if is_en(lang) {
        let mut s = format!(
            "The content listed below is {} concerning a minor supported by our helpline.",
            category.label("en").to_lowercase()
        );
        if !articles.is_empty() {
            s.push_str(&format!(" Offences under French law: {articles}."));
        }
        s.push_str(
            " We ask for its priority removal as a trusted flagger (Regulation (EU) 2022/2065, Article 22).",
        );
        s
    } else {
        let mut s = format!(
            "Les contenus listés ci-dessous relèvent de : {}, au préjudice d'un ou d'une mineure accompagnée par notre ligne d'écoute.",
            category.label("fr").to_lowercase()
        );
        if !articles.is_empty() {
            s.push_str(&format!(" Infractions visées : {articles}."));
        }
        s.push_str(
            " Nous demandons leur retrait en priorité en tant que signaleur de confiance (règlement (UE) 2022/2065, article 22).",
        );
        s
    }
}

/// The statement of good faith of Article 16(2)(d), in `lang`.
pub fn good_faith_statement(lang: &str) -> &'static str {
    if is_en(lang) {
        "We declare in good faith that the information and allegations contained in this notice are accurate and complete."
    } else {
        "Nous déclarons de bonne foi que les informations et allégations contenues dans la présente notification sont exactes et complètes."
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taxonomy::Taxonomy;

    fn content() -> NoticeContent {
        NoticeContent {
            platform: "snapchat".into(),
            category: "sextortion".into(),
            lang: "fr".into(),
            explanation: "x".into(),
            items: vec![NoticeItem {
                item_id: "i1".into(),
                content_type: "account".into(),
                url: None,
                native_id: Some("@maitre_chanteur".into()),
            }],
            notifier_name: "Rempart".into(),
            notifier_email: "signalements@rempart.invalid".into(),
            sexual_images_of_minor: false,
        }
    }

    #[test]
    fn what_is_missing_follows_article_16() {
        assert!(content().missing().is_empty());
        let mut c = content();
        c.explanation = "  ".into();
        c.items[0].native_id = None;
        c.notifier_email = String::new();
        assert_eq!(
            c.missing(),
            vec![
                MissingElement::Explanation,
                MissingElement::Location,
                MissingElement::NotifierIdentity
            ]
        );
        c.items.clear();
        assert!(c.missing().contains(&MissingElement::Location));
    }

    #[test]
    fn intimate_images_need_a_second_counsellor() {
        let t = Taxonomy::defaults().unwrap();
        let c = content();
        assert!(c.needs_four_eyes(t.get("intimate_images")));
        assert!(!c.needs_four_eyes(t.get("cyber_harassment")));
        let mut m = content();
        m.sexual_images_of_minor = true;
        assert!(m.needs_four_eyes(t.get("cyber_harassment")));
    }

    #[test]
    fn the_default_explanation_names_the_offence_and_its_articles() {
        let t = Taxonomy::defaults().unwrap();
        let cat = t.get("sextortion").unwrap();
        let fr = default_explanation(cat, "fr");
        assert!(fr.contains("signaleur de confiance"), "{fr}");
        for a in &cat.articles {
            assert!(fr.contains(a.as_str()), "{fr}");
        }
        let en = default_explanation(cat, "en");
        assert!(en.contains("trusted flagger"), "{en}");
        assert!(good_faith_statement("en").starts_with("We declare in good faith"));
        assert!(good_faith_statement("fr").starts_with("Nous déclarons de bonne foi"));
    }
}
