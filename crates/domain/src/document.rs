//! A document to print (the complaint help a family or the police takes away): the words,
//! already chosen and translated, in the few kinds of block a typesetter lays out. Which
//! words a document holds — and which it must never hold, such as psychologists' and
//! internal notes — is decided before it is built; the typesetter only lays them out.

use crate::labelled_enum;
use serde::Serialize;

labelled_enum!(
    /// Who a complaint document is written for.
    ComplaintAudience "complaint-audience" {
        /// The young person or their family: plain words, and how to file the complaint.
        Family => "family";
        /// The police or the gendarmerie: the offences, the items, the evidence with its
        /// hashes and the timeline.
        Police => "police";
    }
);

/// A labelled value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    /// The label.
    pub label: String,
    /// The value.
    pub value: String,
    /// Set in a fixed-width face (hashes, codes).
    pub mono: bool,
}

impl Field {
    /// A value in the text face.
    pub fn text(label: impl Into<String>, value: impl Into<String>) -> Field {
        Field {
            label: label.into(),
            value: value.into(),
            mono: false,
        }
    }

    /// A value in the fixed-width face.
    pub fn mono(label: impl Into<String>, value: impl Into<String>) -> Field {
        Field {
            label: label.into(),
            value: value.into(),
            mono: true,
        }
    }
}

/// One record of a list of records (an evidence item with its hashes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Its first line.
    pub title: String,
    /// Its fields.
    pub fields: Vec<Field>,
}

/// A part of a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Block {
    /// A section's heading.
    Heading {
        /// The words.
        text: String,
    },
    /// A paragraph.
    Paragraph {
        /// The words.
        text: String,
    },
    /// A bulleted list.
    List {
        /// Its items.
        items: Vec<String>,
    },
    /// A table; the last column takes the room left.
    Table {
        /// The column headings.
        columns: Vec<String>,
        /// The rows, each as long as `columns`.
        rows: Vec<Vec<String>>,
    },
    /// Records, one under the other, each kept on one page.
    Entries {
        /// The records.
        entries: Vec<Entry>,
    },
}

/// A document to print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrintDocument {
    /// Its language (`fr`, `en`): hyphenation and quotes follow it.
    pub lang: String,
    /// The title.
    pub title: String,
    /// The line under the title.
    pub subtitle: String,
    /// Fields under the title (reference, date, for whom).
    pub meta: Vec<Field>,
    /// The body.
    pub blocks: Vec<Block>,
    /// Printed at the foot of every page, beside the page number.
    pub footer: String,
}

impl PrintDocument {
    /// Every word the document holds, in order (what a reader of the PDF can find in it).
    pub fn words(&self) -> Vec<&str> {
        let mut out = vec![self.title.as_str(), self.subtitle.as_str()];
        for f in &self.meta {
            out.push(&f.label);
            out.push(&f.value);
        }
        for b in &self.blocks {
            match b {
                Block::Heading { text } | Block::Paragraph { text } => out.push(text),
                Block::List { items } => out.extend(items.iter().map(String::as_str)),
                Block::Table { columns, rows } => {
                    out.extend(columns.iter().map(String::as_str));
                    out.extend(rows.iter().flatten().map(String::as_str));
                }
                Block::Entries { entries } => {
                    for e in entries {
                        out.push(&e.title);
                        for f in &e.fields {
                            out.push(&f.label);
                            out.push(&f.value);
                        }
                    }
                }
            }
        }
        out.push(&self.footer);
        out
    }
}

/// Lays a document out as a PDF (the `rempart-pdf` crate's typst; the seam keeps the rest
/// of the workspace from compiling it).
pub trait Typesetter: Send + Sync {
    /// The PDF's bytes, or why it could not be made.
    fn pdf(&self, doc: &PrintDocument) -> Result<Vec<u8>, String>;
}
