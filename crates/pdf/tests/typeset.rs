//! The typesetter on every kind of block, read back with pdftotext: the words are all
//! there, typst markup in the words is shown as text (never run), and a long document
//! breaks across pages with its footer on each.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rempart_domain::document::{Block, Entry, Field, PrintDocument, Typesetter};
use rempart_pdf::Typst;
use rempart_pdf::testing::{pdf_text, pdftotext_available};

fn doc(blocks: Vec<Block>) -> PrintDocument {
    PrintDocument {
        lang: "fr".into(),
        title: "Aide au dépôt de plainte".into(),
        subtitle: "Pour la victime et sa famille".into(),
        meta: vec![
            Field::text("Dossier", "R-2026-000042"),
            Field::text("Établi le", "04/12/2026 19:30"),
        ],
        blocks,
        footer: "Rempart — dossier R-2026-000042 — confidentiel".into(),
    }
}

#[test]
fn every_block_is_laid_out_and_its_words_read_back() {
    if !pdftotext_available() {
        return;
    }
    let sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    let d = doc(vec![
        Block::Heading {
            text: "Ce que vous avez subi".into(),
        },
        Block::Paragraph {
            text: "Un paragraphe accentué : « élève », œuvre, ça.".into(),
        },
        Block::List {
            items: vec![
                "Cyberharcèlement (Code pénal, art. 222-33-2-2)".into(),
                "Images intimes (Code pénal, art. 226-2-1)".into(),
            ],
        },
        Block::Table {
            columns: vec!["N°".into(), "Plateforme".into(), "Adresse".into()],
            rows: vec![vec![
                "1".into(),
                "Instagram".into(),
                "https://instagram.example/p/AbC123".into(),
            ]],
        },
        Block::Entries {
            entries: vec![Entry {
                title: "Preuve n° 1 — capture d’écran".into(),
                fields: vec![
                    Field::text("Reçue le", "04/12/2026 19:31"),
                    Field::mono("SHA-256", sha),
                ],
            }],
        },
    ]);
    let pdf = Typst::new().pdf(&d).unwrap();
    let text = pdf_text(&pdf);
    for w in d.words() {
        assert!(text.contains(w), "{w:?} missing from:\n{text}");
    }
}

#[test]
fn markup_in_the_words_is_text() {
    if !pdftotext_available() {
        return;
    }
    let tricky = [
        "#panic(\"boom\")",
        "*gras* _italique_ $x^2$",
        "#read(\"/etc/passwd\")",
        "#image(\"/etc/hostname\")",
        "] } #{ [ // /* `raw`",
        "<label> @ref = - + 1. \\",
    ];
    let d = doc(vec![
        Block::Paragraph {
            text: tricky.join(" "),
        },
        Block::List {
            items: tricky.iter().map(|s| s.to_string()).collect(),
        },
        Block::Table {
            columns: vec!["a".into(), "b".into()],
            rows: tricky
                .chunks(2)
                .map(|c| c.iter().map(|s| s.to_string()).collect())
                .collect(),
        },
    ]);
    let text = pdf_text(&Typst::new().pdf(&d).unwrap());
    for t in [
        "#panic(\"boom\")",
        "*gras* _italique_ $x^2$",
        "#read(\"/etc/passwd\")",
    ] {
        assert!(text.contains(t), "{t:?} was not shown as text:\n{text}");
    }
    assert!(!text.contains("root:"), "a file was read");
}

#[test]
fn a_long_document_breaks_across_pages_with_its_footer() {
    if !pdftotext_available() {
        return;
    }
    let rows: Vec<Vec<String>> = (0..400)
        .map(|i| vec![format!("0{}/12/2026", i % 9 + 1), format!("Événement {i}")])
        .collect();
    let d = doc(vec![Block::Table {
        columns: vec!["Date".into(), "Événement".into()],
        rows,
    }]);
    let text = pdf_text(&Typst::new().pdf(&d).unwrap());
    let pages = text.matches('\u{c}').count();
    assert!(pages >= 5, "{pages} pages");
    assert!(
        text.matches("Rempart — dossier R-2026-000042 — confidentiel")
            .count()
            >= pages,
        "a page without its footer"
    );
    assert!(text.contains("Événement 399"));
    assert!(
        text.replace(' ', "").contains(&format!("{pages}/{pages}")),
        "no page numbers: {}",
        &text[text.len().saturating_sub(400)..]
    );
}

#[test]
fn a_record_longer_than_a_page_breaks_and_loses_nothing() {
    if !pdftotext_available() {
        return;
    }
    let long: String =
        (0..900).map(|i| format!("mot{i} ")).collect::<String>() + "FIN-DE-L-EXTRAIT";
    let d = doc(vec![Block::Entries {
        entries: vec![Entry {
            title: "Preuve n° 1 — extrait de texte".into(),
            fields: vec![Field::text("Extrait", long)],
        }],
    }]);
    let text = pdf_text(&Typst::new().pdf(&d).unwrap());
    assert!(text.matches('\u{c}').count() >= 2, "more than one page");
    assert!(text.contains("mot899"), "the end of the excerpt is printed");
    assert!(text.contains("FIN-DE-L-EXTRAIT"));
}
