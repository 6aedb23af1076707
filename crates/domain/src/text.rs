//! Text as people search it and as lists show it: folded for search (case and accents
//! ignored, so "harcelement" finds "Harcèlement"), and cut on a word boundary for titles.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// `s` in the form searches compare: lower case, accents and other combining marks
/// removed, the ligatures œ, æ and ß spelt out, typographic apostrophes made plain. The
/// same function folds what is stored and what is typed, so both meet.
pub fn fold_for_search(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        match c {
            'œ' | 'Œ' => out.push_str("oe"),
            'æ' | 'Æ' => out.push_str("ae"),
            'ß' => out.push_str("ss"),
            '’' | 'ʼ' | '‘' => out.push('\''),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// `s` cut to at most `max` characters on a word boundary, with "…" when cut (a word
/// longer than `max` is cut inside). Whitespace runs become one space.
pub fn short_title(s: &str, max: usize) -> String {
    let words: Vec<&str> = s.split_whitespace().collect();
    let whole = words.join(" ");
    if whole.chars().count() <= max {
        return whole;
    }
    let budget = max.saturating_sub(1);
    let mut out = String::new();
    for w in &words {
        let needed = out.chars().count() + usize::from(!out.is_empty()) + w.chars().count();
        if needed > budget {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    if out.is_empty() {
        out = whole.chars().take(budget).collect();
    }
    let trimmed = out
        .trim_end_matches([',', ';', ':', '.', '-', ' '])
        .to_owned();
    format!("{trimmed}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_and_accents() {
        assert_eq!(fold_for_search("Harcèlement"), "harcelement");
        assert_eq!(fold_for_search("ÉLÈVE à l’école"), "eleve a l'ecole");
        assert_eq!(fold_for_search("Cœur Ægir Straße"), "coeur aegir strasse");
        assert_eq!(fold_for_search("déjà vu"), fold_for_search("DEJA VU"));
        // idempotent: what is stored folded folds to itself
        let once = fold_for_search("Ça s'est passé à Noël");
        assert_eq!(fold_for_search(&once), once);
    }

    #[test]
    fn titles_are_cut_between_words() {
        assert_eq!(short_title("court", 80), "court");
        assert_eq!(
            short_title("un deux  trois quatre cinq", 14),
            "un deux trois…"
        );
        let t = short_title(
            "Elle reçoit des messages menaçants depuis lundi, sur Snapchat",
            30,
        );
        assert!(t.chars().count() <= 30, "{t}");
        assert_eq!(t, "Elle reçoit des messages…");
        assert_eq!(short_title("anticonstitutionnellement", 10), "anticonst…");
        assert_eq!(short_title("a, b, c, d", 6), "a, b…");
    }
}
