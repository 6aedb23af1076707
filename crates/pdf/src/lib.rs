//! Printable documents typeset to PDF with typst.
//!
//! The application chooses the words (what a document says, for whom, in which language);
//! this crate only lays them out. The words reach typst as data — a JSON file the template
//! reads — never as markup, so nothing a counsellor or a young person typed can change the
//! layout or run anything. The typesetter has no file system, no network and no packages:
//! its world holds the template, that one data file and the embedded fonts.

#[cfg(feature = "testing")]
#[allow(clippy::expect_used, clippy::panic)]
pub mod testing;

use rempart_domain::document::{PrintDocument, Typesetter};
use std::sync::LazyLock;
use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

/// The layout of every printed document.
const TEMPLATE: &str = include_str!("document.typ");

/// The path under which the template finds the document's data.
const DATA_PATH: &str = "data.json";

/// The embedded fonts, parsed once.
struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

static FONTS: LazyLock<Fonts> = LazyLock::new(|| {
    let fonts: Vec<Font> = typst_assets::fonts()
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect();
    Fonts {
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
    }
});

static LIBRARY: LazyLock<LazyHash<Library>> = LazyLock::new(|| LazyHash::new(Library::default()));

fn file_id(path: &str) -> Option<FileId> {
    VirtualPath::new(path)
        .ok()
        .map(|p| RootedPath::new(VirtualRoot::Project, p).intern())
}

/// One document being typeset: the template, its data, the fonts.
struct Job {
    main: Source,
    data_id: Option<FileId>,
    data: Bytes,
    today: Option<Datetime>,
}

impl World for Job {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if Some(id) == self.data_id {
            Ok(self.data.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        self.today
    }
}

/// The typst typesetter. Cheap to create; the fonts and the standard library are shared
/// by every document (parsed at the first one, or at [`Typst::warm`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Typst;

impl Typst {
    /// The typesetter.
    pub fn new() -> Typst {
        Typst
    }

    /// Forgets what typst remembered of earlier documents (its memoised layout): the next
    /// document is laid out from nothing (for measuring; a server keeps the cache).
    pub fn forget(&self) {
        typst::comemo::evict(0);
    }

    /// Parses the fonts and builds the standard library now rather than at the first
    /// document.
    pub fn warm(&self) {
        LazyLock::force(&FONTS);
        LazyLock::force(&LIBRARY);
    }
}

fn diagnostics(errors: &[SourceDiagnostic]) -> String {
    errors
        .iter()
        .map(|d| d.message.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

impl Typesetter for Typst {
    fn pdf(&self, doc: &PrintDocument) -> Result<Vec<u8>, String> {
        let data = serde_json::to_vec(doc).map_err(|e| format!("document data: {e}"))?;
        let main_id = file_id("main.typ").ok_or("the template's path")?;
        let job = Job {
            main: Source::new(main_id, TEMPLATE.to_owned()),
            data_id: file_id(DATA_PATH),
            data: Bytes::new(data),
            today: None,
        };
        let compiled = typst::compile::<typst_layout::PagedDocument>(&job).output;
        // what typst memoised for documents ten layouts ago is dropped: a server's memory
        // stays bounded while the layouts of the last few are reused
        typst::comemo::evict(10);
        let document = compiled.map_err(|e| format!("typesetting: {}", diagnostics(&e)))?;
        let options = typst_pdf::PdfOptions {
            ident: typst::foundations::Smart::Auto,
            creator: typst::foundations::Smart::Custom(Some("Rempart".to_owned())),
            ..Default::default()
        };
        typst_pdf::pdf(&document, &options).map_err(|e| format!("PDF: {}", diagnostics(&e)))
    }
}
