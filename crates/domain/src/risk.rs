//! Risk detection in a chat message: the words of danger (suicidal thoughts, blackmail with a
//! deadline, imminent publication of images), found however a young person spells them.
//!
//! Everything the detector knows is data (`data/risk.toml`, or a helpline's own file in the
//! same shape), compiled once into a [`RiskLexicon`]:
//!
//! * **normalisation**: lower case, accents folded, elisions split (`j'ai` → `je ai`,
//!   `qu'elle` → `que elle`, `don't` → `do not`), punctuation → spaces, digits split from
//!   letters (`24h` → `24 h`, `50€` → `50 euros`), then a table of SMS spellings and common
//!   typos (`[spelling]`: `g` → `je ai`, `jvx` → `je veux`, `pa` → `pas`, `ima` → `i am going
//!   to`). Every word is then compared with its runs of a repeated letter made one
//!   (`mouriiiir`, `mourrir` and `mourir` are the same word; so are the data's words).
//! * **classes** (`[classes]`): named sets of words; a word ending in `*` is a prefix.
//! * **patterns**: words in order; `a|b|@class|pref*` alternatives; a trailing `?` makes a
//!   slot optional; `..N` lets up to N other words in between; `#num` is any number.
//! * **masks** (`[[mask]]`): idioms and negations (`mort de rire`, `mes parents vont me tuer`,
//!   `il ne va rien publier`) whose words are hidden before the rules run.
//! * **rules** (`[[rule]]`): patterns that establish a *fact* (`deadline`, `demand`, …) or a
//!   signal directly; **signals** (`[[signal]]`) fire on their own phrases and patterns, on a
//!   rule naming them, or on facts found together in the message (`when`).

use crate::chat::RiskKind;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap as StdHashMap};
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a: the words looked up are short, and SipHash's start-up cost dominated.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type HashMap<K, V> = StdHashMap<K, V, BuildHasherDefault<Fnv>>;

/// The risk lexicon could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RiskError {
    /// Not valid TOML or not the expected shape.
    #[error("risk lexicon: {0}")]
    Parse(String),
    /// Unknown kind.
    #[error("risk lexicon: unknown kind {0}")]
    UnknownKind(String),
}

fn bad(msg: impl Into<String>) -> RiskError {
    RiskError::Parse(msg.into())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLexicon {
    #[serde(default)]
    spelling: BTreeMap<String, String>,
    #[serde(default)]
    classes: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    mask: Vec<RawMask>,
    #[serde(default)]
    rule: Vec<RawRule>,
    #[serde(default)]
    signal: Vec<RawSignal>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMask {
    #[serde(default)]
    #[allow(dead_code)]
    why: String,
    patterns: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    fact: String,
    #[serde(default)]
    #[allow(dead_code)]
    why: String,
    patterns: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSignal {
    kind: String,
    #[serde(default)]
    #[allow(dead_code)]
    why: String,
    /// Plain phrases (matched as whole words, in order, nothing in between).
    #[serde(default)]
    fr: Vec<String>,
    #[serde(default)]
    en: Vec<String>,
    #[serde(default)]
    patterns: Vec<String>,
    /// Alternatives, each a list of facts that must all be found in the message.
    #[serde(default)]
    when: Vec<Vec<String>>,
}

/// One position of a pattern.
#[derive(Debug, Clone)]
enum Elem {
    /// One word among `ids` (sorted vocabulary ids); `optional` may be skipped.
    Slot { ids: Vec<u32>, optional: bool },
    /// Up to this many words of any kind.
    Gap(usize),
}

#[derive(Debug, Clone)]
struct Pattern {
    elems: Vec<Elem>,
}

impl Pattern {
    /// Whether every slot that is not optional has one of its words in the message: most
    /// patterns are ruled out here, without walking the words.
    fn possible(&self, present: &[bool]) -> bool {
        self.elems.iter().all(|e| match e {
            Elem::Slot {
                ids,
                optional: false,
            } => ids
                .iter()
                .any(|id| present.get(*id as usize).copied().unwrap_or(false)),
            _ => true,
        })
    }
}

#[derive(Debug, Clone)]
struct Rule {
    fact: usize,
    pattern: Pattern,
}

#[derive(Debug, Clone)]
struct SignalDef {
    kind: RiskKind,
    /// The fact the signal's own phrases and patterns set (and rules naming the signal).
    fact: usize,
    /// Each a bit set of facts that must all be present.
    when: Vec<u64>,
}

/// The words, rules and combinations that signal danger, compiled (data: `data/risk.toml`).
#[derive(Debug, Clone)]
pub struct RiskLexicon {
    spelling_raw: HashMap<String, Vec<String>>,
    spelling: HashMap<String, Vec<String>>,
    exact: HashMap<String, u32>,
    prefixes: HashMap<String, u32>,
    max_prefix: usize,
    num_id: u32,
    masks: Vec<Pattern>,
    rules: Vec<Rule>,
    signals: Vec<SignalDef>,
    facts: Vec<String>,
}

/// French elided words (before an apostrophe) and what they stand for.
const ELISIONS: &[(&str, &str)] = &[
    ("j", "je"),
    ("l", "le"),
    ("d", "de"),
    ("m", "me"),
    ("t", "te"),
    ("n", "ne"),
    ("c", "c"),
    ("qu", "que"),
    ("jusqu", "jusque"),
    ("lorsqu", "lorsque"),
    ("puisqu", "puisque"),
    ("presqu", "presque"),
    ("quoiqu", "quoique"),
];

/// English contractions (after an apostrophe).
const CONTRACTIONS: &[(&str, &str)] = &[
    ("m", "am"),
    ("re", "are"),
    ("ll", "will"),
    ("ve", "have"),
    ("d", "would"),
    ("s", "is"),
];

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | 'ʼ' | '`' | '´' | '‘')
}

fn fold_char(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'â' | 'ä' | 'á' | 'ã' | 'å' => "a",
        'é' | 'è' | 'ê' | 'ë' => "e",
        'î' | 'ï' | 'í' | 'ì' => "i",
        'ô' | 'ö' | 'ó' | 'ò' | 'õ' => "o",
        'ù' | 'û' | 'ü' | 'ú' => "u",
        'ç' => "c",
        'œ' => "oe",
        'æ' => "ae",
        'ÿ' => "y",
        'ñ' => "n",
        _ => return None,
    })
}

/// A word's key: accents folded and every run of one repeated letter made one letter
/// (digits are kept as they are: `100` stays `100`).
fn key(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut last: Option<char> = None;
    for c in word.chars().flat_map(char::to_lowercase) {
        let mut push = |ch: char| {
            if ch.is_alphabetic() && last == Some(ch) {
                return;
            }
            out.push(ch);
            last = Some(ch);
        };
        match fold_char(c) {
            Some(s) => s.chars().for_each(&mut push),
            None => push(c),
        }
    }
    out
}

/// A raw word of the text and whether an apostrophe follows it directly (then a letter).
struct RawWord {
    text: String,
    apostrophe: bool,
}

/// Splits a text into lower-case words; currency signs become words.
fn raw_words(text: &str) -> Vec<RawWord> {
    let mut words: Vec<RawWord> = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() {
            cur.extend(c.to_lowercase());
            continue;
        }
        let apostrophe =
            is_apostrophe(c) && !cur.is_empty() && chars.peek().is_some_and(|n| n.is_alphabetic());
        if !cur.is_empty() {
            words.push(RawWord {
                text: std::mem::take(&mut cur),
                apostrophe,
            });
        }
        let currency = match c {
            '€' => Some("euros"),
            '$' => Some("dollars"),
            '£' => Some("livres"),
            _ => None,
        };
        if let Some(w) = currency {
            words.push(RawWord {
                text: w.to_owned(),
                apostrophe: false,
            });
        }
    }
    if !cur.is_empty() {
        words.push(RawWord {
            text: cur,
            apostrophe: false,
        });
    }
    words
}

/// Splits `24h` into `24`, `h` (and `2heures` into `2`, `heures`).
fn split_digits(word: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut prev: Option<bool> = None;
    for (i, c) in word.char_indices() {
        let digit = c.is_ascii_digit();
        if prev.is_some_and(|p| p != digit) {
            parts.push(&word[start..i]);
            start = i;
        }
        prev = Some(digit);
    }
    parts.push(&word[start..]);
    parts
}

impl RiskLexicon {
    /// The embedded defaults.
    pub fn defaults() -> Result<RiskLexicon, RiskError> {
        RiskLexicon::from_toml(include_str!("../data/risk.toml"))
    }

    /// Parses and compiles a lexicon.
    pub fn from_toml(src: &str) -> Result<RiskLexicon, RiskError> {
        let raw: RawLexicon = toml::from_str(src).map_err(|e| bad(e.to_string()))?;
        let mut lex = RiskLexicon {
            spelling_raw: HashMap::default(),
            spelling: HashMap::default(),
            exact: HashMap::default(),
            prefixes: HashMap::default(),
            max_prefix: 0,
            num_id: 0,
            masks: Vec::new(),
            rules: Vec::new(),
            signals: Vec::new(),
            facts: Vec::new(),
        };
        lex.num_id = lex.word_id("#num");
        for (from, to) in &raw.spelling {
            let words: Vec<String> = to.split_whitespace().map(key).collect();
            if words.is_empty() || from.trim().is_empty() {
                return Err(bad(format!("spelling {from:?} is empty")));
            }
            let lower = from.trim().to_lowercase();
            if lower.is_ascii() {
                lex.spelling.insert(key(&lower), words);
            } else {
                // a key with accents ("mé") is matched as written: folded it would be
                // another word ("me")
                lex.spelling_raw.insert(lower, words);
            }
        }
        // classes: each member's vocabulary id
        let mut classes: HashMap<String, Vec<u32>> = HashMap::default();
        for (name, members) in &raw.classes {
            let mut ids = Vec::new();
            for m in members {
                let m = m.trim();
                if m.is_empty() || m.contains(char::is_whitespace) || m.starts_with('@') {
                    return Err(bad(format!(
                        "class {name}: {m:?} is not one word (or a prefix ending in *)"
                    )));
                }
                ids.push(lex.atom_id(m)?);
            }
            if ids.is_empty() {
                return Err(bad(format!("class {name} is empty")));
            }
            classes.insert(name.clone(), ids);
        }
        let mut facts: Vec<String> = Vec::new();
        let mut fact_id = |name: &str| -> usize {
            match facts.iter().position(|f| f == name) {
                Some(i) => i,
                None => {
                    facts.push(name.to_owned());
                    facts.len() - 1
                }
            }
        };
        for m in &raw.mask {
            for p in &m.patterns {
                let pat = lex.pattern(p, &classes)?;
                lex.masks.push(pat);
            }
        }
        for r in &raw.rule {
            if r.fact.trim().is_empty() {
                return Err(bad("a rule without a fact"));
            }
            let fact = fact_id(r.fact.trim());
            for p in &r.patterns {
                let pattern = lex.pattern(p, &classes)?;
                lex.rules.push(Rule { fact, pattern });
            }
        }
        let mut produced: Vec<usize> = lex.rules.iter().map(|r| r.fact).collect();
        for s in &raw.signal {
            let kind =
                RiskKind::parse(&s.kind).map_err(|_| RiskError::UnknownKind(s.kind.clone()))?;
            let fact = fact_id(kind.as_str());
            for phrase in s.fr.iter().chain(&s.en) {
                // a plain phrase: its words in order; pattern syntax is not read here
                let words: Vec<String> = lex.words_of(phrase);
                if words.is_empty() {
                    return Err(bad(format!("empty phrase for {}", s.kind)));
                }
                let elems = words
                    .iter()
                    .map(|w| Elem::Slot {
                        ids: vec![lex.word_id(w)],
                        optional: false,
                    })
                    .collect();
                lex.rules.push(Rule {
                    fact,
                    pattern: Pattern { elems },
                });
                produced.push(fact);
            }
            for p in &s.patterns {
                let pattern = lex.pattern(p, &classes)?;
                lex.rules.push(Rule { fact, pattern });
                produced.push(fact);
            }
            let mut when = Vec::new();
            for all in &s.when {
                if all.is_empty() {
                    return Err(bad(format!("{}: an empty `when`", s.kind)));
                }
                let mut bits = 0u64;
                for f in all {
                    let i = fact_id(f.trim());
                    if !produced.contains(&i) {
                        return Err(bad(format!(
                            "{}: no rule establishes the fact {f:?}",
                            s.kind
                        )));
                    }
                    bits |= 1u64 << i.min(63);
                }
                when.push(bits);
            }
            lex.signals.push(SignalDef { kind, fact, when });
        }
        // a rule naming a signal is enough, with or without a [[signal]] table
        for k in RiskKind::ALL {
            if let Some(fact) = facts.iter().position(|f| f == k.as_str())
                && !lex.signals.iter().any(|s| s.kind == *k)
            {
                lex.signals.push(SignalDef {
                    kind: *k,
                    fact,
                    when: Vec::new(),
                });
            }
        }
        if facts.len() > 64 {
            return Err(bad("more than 64 facts"));
        }
        lex.facts = facts;
        Ok(lex)
    }

    fn word_id(&mut self, word: &str) -> u32 {
        let next = (self.exact.len() + self.prefixes.len()) as u32;
        *self.exact.entry(word.to_owned()).or_insert(next)
    }

    /// The id of `word` or of the prefix `pref*`.
    fn atom_id(&mut self, atom: &str) -> Result<u32, RiskError> {
        if atom == "#num" {
            return Ok(self.num_id);
        }
        if let Some(p) = atom.strip_suffix('*') {
            let p = key(p);
            if p.is_empty() || !p.chars().all(char::is_alphanumeric) {
                return Err(bad(format!("{atom:?} is not a prefix")));
            }
            let next = (self.exact.len() + self.prefixes.len()) as u32;
            self.max_prefix = self.max_prefix.max(p.len());
            return Ok(*self.prefixes.entry(p).or_insert(next));
        }
        let k = key(atom);
        if k.is_empty() || !k.chars().all(char::is_alphanumeric) {
            return Err(bad(format!("{atom:?} is not a word")));
        }
        Ok(self.word_id(&k))
    }

    /// Compiles `a|b|@class ..3 c? d*`.
    fn pattern(
        &mut self,
        src: &str,
        classes: &HashMap<String, Vec<u32>>,
    ) -> Result<Pattern, RiskError> {
        let mut elems = Vec::new();
        for part in src.split_whitespace() {
            if let Some(n) = part.strip_prefix("..") {
                let n: usize = n
                    .parse()
                    .map_err(|_| bad(format!("{src:?}: {part:?} is not a gap (..N)")))?;
                if n == 0 || n > 12 {
                    return Err(bad(format!("{src:?}: gaps are ..1 to ..12")));
                }
                elems.push(Elem::Gap(n));
                continue;
            }
            let (body, optional) = match part.strip_suffix('?') {
                Some(b) => (b, true),
                None => (part, false),
            };
            let mut ids = Vec::new();
            for alt in body.split('|') {
                if let Some(c) = alt.strip_prefix('@') {
                    let members = classes
                        .get(c)
                        .ok_or_else(|| bad(format!("{src:?}: unknown class @{c}")))?;
                    ids.extend_from_slice(members);
                } else {
                    ids.push(self.atom_id(alt)?);
                }
            }
            ids.sort_unstable();
            ids.dedup();
            elems.push(Elem::Slot { ids, optional });
        }
        let required = elems.iter().any(|e| {
            matches!(
                e,
                Elem::Slot {
                    optional: false,
                    ..
                }
            )
        });
        let ends_with_gap = matches!(elems.first(), Some(Elem::Gap(_)))
            || matches!(elems.last(), Some(Elem::Gap(_)));
        if !required || ends_with_gap {
            return Err(bad(format!(
                "{src:?}: a pattern needs a word that is not optional, and no gap at its ends"
            )));
        }
        Ok(Pattern { elems })
    }

    /// A phrase's words after normalisation.
    fn words_of(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.tokenize_into(text, &mut out);
        out
    }

    /// Pushes `word`'s key, or what the spelling table gives for it. `next` is the key of
    /// the word after it: a replacement whose last word is that word drops it (`c` → `c est`,
    /// but `c est` stays `c est`).
    fn push_spelled_before(&self, word: &str, next: Option<&str>, out: &mut Vec<String>) {
        let k = key(word);
        let found = self
            .spelling_raw
            .get(word)
            .or_else(|| self.spelling.get(&k));
        if let Some(ws) = found {
            // the next word's key, only for a replacement of several words (rare)
            let n = if ws.len() > 1 && next.is_some_and(|n| ws.last().is_some_and(|l| *l == key(n)))
            {
                ws.len() - 1
            } else {
                ws.len()
            };
            out.extend(ws[..n].iter().cloned());
            return;
        }
        self.push_key(k, out);
    }

    fn push_spelled(&self, word: &str, out: &mut Vec<String>) {
        self.push_spelled_before(word, None, out);
    }

    fn push_key(&self, k: String, out: &mut Vec<String>) {
        let parts = split_digits(&k);
        if parts.len() == 1 {
            out.push(k);
            return;
        }
        for p in parts {
            match self.spelling.get(p) {
                Some(ws) => out.extend(ws.iter().cloned()),
                None => out.push(p.to_owned()),
            }
        }
    }

    fn tokenize_into(&self, text: &str, out: &mut Vec<String>) {
        let words = raw_words(text);
        let mut i = 0;
        while i < words.len() {
            let w = &words[i];
            if w.apostrophe {
                let k = key(&w.text);
                if let Some((_, full)) = ELISIONS.iter().find(|(e, _)| *e == k) {
                    out.push((*full).to_owned());
                    i += 1;
                    continue;
                }
                if k == "s" {
                    // s'il → si il; s'est → se est
                    out.push(
                        if words.get(i + 1).is_some_and(|n| n.text.starts_with("il")) {
                            "si".to_owned()
                        } else {
                            "se".to_owned()
                        },
                    );
                    i += 1;
                    continue;
                }
                if let Some(next) = words.get(i + 1) {
                    let nk = key(&next.text);
                    if nk == "t" && k.ends_with('n') && k.len() > 1 {
                        // don't → do not, won't → will not, can't → can not
                        let base = &k[..k.len() - 1];
                        let base = match base {
                            "wo" => "will",
                            "ca" => "can",
                            "sha" => "shall",
                            b => b,
                        };
                        self.push_spelled(base, out);
                        out.push("not".to_owned());
                        i += 2;
                        continue;
                    }
                    let raw_next = next.text.as_str();
                    if let Some((_, full)) = CONTRACTIONS.iter().find(|(c, _)| *c == raw_next) {
                        self.push_spelled(&w.text, out);
                        out.push(key(full));
                        i += 2;
                        continue;
                    }
                }
            }
            let next = words.get(i + 1).map(|n| n.text.as_str());
            self.push_spelled_before(&w.text, next, out);
            i += 1;
        }
    }

    /// The words the detector sees in `text`, one space between them (for tests and tools).
    pub fn normalize(&self, text: &str) -> String {
        self.words_of(text).join(" ")
    }

    /// The kinds of danger `text` signals (each once, in `RiskKind` order).
    pub fn assess(&self, text: &str) -> Vec<RiskKind> {
        self.assess_with_facts(text).0
    }

    /// The facts the rules found in `text` (to see why a message signals, or does not).
    pub fn facts(&self, text: &str) -> Vec<&str> {
        let bits = self.assess_with_facts(text).1;
        self.facts
            .iter()
            .enumerate()
            .filter(|(i, _)| bits & (1u64 << (*i).min(63)) != 0)
            .map(|(_, f)| f.as_str())
            .collect()
    }

    fn assess_with_facts(&self, text: &str) -> (Vec<RiskKind>, u64) {
        let words = self.words_of(text);
        if words.is_empty() {
            return (Vec::new(), 0);
        }
        // each word's vocabulary ids: the word itself, the prefixes it starts with, #num
        let mut ids: Vec<u32> = Vec::with_capacity(words.len() * 2);
        let mut spans: Vec<(u32, u32)> = Vec::with_capacity(words.len());
        for w in &words {
            let start = ids.len() as u32;
            if let Some(&id) = self.exact.get(w.as_str()) {
                ids.push(id);
            }
            let limit = w.len().min(self.max_prefix);
            for (end, _) in w
                .char_indices()
                .skip(1)
                .chain(std::iter::once((w.len(), ' ')))
            {
                if end > limit {
                    break;
                }
                if let Some(&id) = self.prefixes.get(&w[..end]) {
                    ids.push(id);
                }
            }
            if w.bytes().all(|b| b.is_ascii_digit()) {
                ids.push(self.num_id);
            }
            spans.push((start, ids.len() as u32));
        }
        let vocab = self.exact.len() + self.prefixes.len();
        let mut present = vec![false; vocab];
        for id in &ids {
            if let Some(p) = present.get_mut(*id as usize) {
                *p = true;
            }
        }
        let mut toks = Tokens { ids, spans };
        // masks hide idioms and negations (a word a mask hides stays `present`: that only
        // makes a rule try, never match)
        for m in &self.masks {
            if !m.possible(&present) {
                continue;
            }
            let mut from = 0;
            while let Some((s, e)) = m.find(&toks, from) {
                for t in s..e {
                    toks.spans[t] = (0, 0);
                }
                from = e.max(s + 1);
            }
        }
        let mut facts = 0u64;
        for r in &self.rules {
            let bit = 1u64 << r.fact.min(63);
            if facts & bit == 0
                && r.pattern.possible(&present)
                && r.pattern.find(&toks, 0).is_some()
            {
                facts |= bit;
            }
        }
        let mut found: Vec<RiskKind> = Vec::new();
        for k in RiskKind::ALL {
            let hit = self.signals.iter().any(|s| {
                s.kind == *k
                    && (facts & (1u64 << s.fact.min(63)) != 0
                        || s.when.iter().any(|w| facts & w == *w))
            });
            if hit {
                found.push(*k);
            }
        }
        (found, facts)
    }
}

/// A message's words as vocabulary ids (a masked word has none).
struct Tokens {
    ids: Vec<u32>,
    spans: Vec<(u32, u32)>,
}

impl Tokens {
    fn matches(&self, pos: usize, slot: &[u32]) -> bool {
        let (s, e) = self.spans[pos];
        self.ids[s as usize..e as usize]
            .iter()
            .any(|id| slot.binary_search(id).is_ok())
    }
}

impl Pattern {
    /// The first match starting at or after `from`: (start, end).
    fn find(&self, toks: &Tokens, from: usize) -> Option<(usize, usize)> {
        let n = toks.spans.len();
        (from..n).find_map(|start| match_at(&self.elems, toks, start).map(|end| (start, end)))
    }
}

fn match_at(elems: &[Elem], toks: &Tokens, pos: usize) -> Option<usize> {
    let Some((first, rest)) = elems.split_first() else {
        return Some(pos);
    };
    match first {
        Elem::Slot { ids, optional } => {
            if pos < toks.spans.len()
                && toks.matches(pos, ids)
                && let Some(end) = match_at(rest, toks, pos + 1)
            {
                return Some(end);
            }
            if *optional {
                return match_at(rest, toks, pos);
            }
            None
        }
        Elem::Gap(n) => (0..=*n).find_map(|k| {
            let p = pos + k;
            if p > toks.spans.len() {
                None
            } else {
                match_at(rest, toks, p)
            }
        }),
    }
}

/// One labelled message of an evaluation set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labelled {
    /// The message.
    pub text: String,
    /// The signals it should raise.
    pub expected: Vec<RiskKind>,
    /// Written after the detector was tuned (under a `# held-out` line).
    pub held_out: bool,
}

/// Reads an evaluation set: `MESSAGE<TAB>code,code` per line (nothing after the tab: no
/// danger); `#` starts a comment line; a comment line starting `# held-out` (or
/// `# --- held-out`) marks the lines after it as held out.
pub fn parse_eval_set(src: &str) -> Result<Vec<Labelled>, RiskError> {
    let mut out = Vec::new();
    let mut held_out = false;
    for (n, line) in src.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with('#') {
            let heading = line.trim_start_matches(['#', '-', ' ']);
            if heading.to_lowercase().starts_with("held-out") {
                held_out = true;
            }
            continue;
        }
        let (text, codes) = line
            .split_once('\t')
            .ok_or_else(|| bad(format!("line {}: no tab", n + 1)))?;
        let mut expected = Vec::new();
        for c in codes.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            let k = RiskKind::parse(c)
                .map_err(|_| bad(format!("line {}: unknown signal {c:?}", n + 1)))?;
            if !expected.contains(&k) {
                expected.push(k);
            }
        }
        expected.sort();
        out.push(Labelled {
            text: text.to_owned(),
            expected,
            held_out,
        });
    }
    Ok(out)
}

/// What a lexicon finds on an evaluation set.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    /// Per signal (in `RiskKind` order): (found, labelled).
    pub recall: Vec<(RiskKind, usize, usize)>,
    /// Messages with no danger that raised a signal, and how many have no danger.
    pub false_positives: usize,
    /// Messages labelled with no danger.
    pub negatives: usize,
    /// Messages whose signals differ from their labels: (text, expected, found).
    pub mistakes: Vec<(String, Vec<RiskKind>, Vec<RiskKind>)>,
    /// Signals raised on a message labelled with other signals (not counted in the rate).
    pub extra_signals: usize,
}

impl Evaluation {
    /// Recall of one signal, 0–1 (1 when nothing is labelled with it).
    pub fn recall_of(&self, k: RiskKind) -> f64 {
        self.recall
            .iter()
            .find(|(r, _, _)| *r == k)
            .map(|(_, f, n)| if *n == 0 { 1.0 } else { *f as f64 / *n as f64 })
            .unwrap_or(1.0)
    }

    /// The share of no-danger messages that raised a signal, 0–1.
    pub fn false_positive_rate(&self) -> f64 {
        if self.negatives == 0 {
            0.0
        } else {
            self.false_positives as f64 / self.negatives as f64
        }
    }
}

/// Runs `lex` on `set`.
pub fn evaluate<'a>(lex: &RiskLexicon, set: impl IntoIterator<Item = &'a Labelled>) -> Evaluation {
    let mut e = Evaluation {
        recall: RiskKind::ALL.iter().map(|k| (*k, 0, 0)).collect(),
        ..Evaluation::default()
    };
    for l in set {
        let found = lex.assess(&l.text);
        for (k, f, n) in e.recall.iter_mut() {
            if l.expected.contains(k) {
                *n += 1;
                if found.contains(k) {
                    *f += 1;
                }
            }
        }
        if l.expected.is_empty() {
            e.negatives += 1;
            if !found.is_empty() {
                e.false_positives += 1;
            }
        } else {
            e.extra_signals += found.iter().filter(|k| !l.expected.contains(k)).count();
        }
        if found != l.expected {
            e.mistakes.push((l.text.clone(), l.expected.clone(), found));
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use RiskKind::*;

    fn lex() -> RiskLexicon {
        RiskLexicon::defaults().unwrap()
    }

    #[test]
    fn the_issue_examples() {
        let l = lex();
        assert_eq!(
            l.assess("il menace de publier mes photos demain si je paie pas"),
            vec![BlackmailDeadline, ImminentPublication]
        );
        assert_eq!(
            l.assess("ma fille dit qu'elle veut mourir"),
            vec![SuicidalThoughts]
        );
        assert!(l.assess("mort de rire").is_empty());
        assert!(
            l.assess("mes parents vont me tuer si j'ai une mauvaise note")
                .is_empty()
        );
    }

    #[test]
    fn signals_are_found_whatever_the_accents_and_case() {
        let l = lex();
        assert_eq!(l.assess("J'ai ENVIE de MOURIR..."), vec![SuicidalThoughts]);
        assert_eq!(
            l.assess("il dit qu'il va publier la vidéo ce soir sinon il publie"),
            vec![BlackmailDeadline, ImminentPublication]
        );
        assert_eq!(
            l.assess("he says he's going to post it, I want to die"),
            vec![SuicidalThoughts, ImminentPublication]
        );
        assert!(
            l.assess("bonjour, j'ai une question sur mon compte")
                .is_empty()
        );
        // whole words only
        assert!(l.assess("chantages").is_empty());
        assert!(l.assess("").is_empty());
        assert!(l.assess("  !!! ").is_empty());
    }

    #[test]
    fn normalisation() {
        let l = lex();
        assert_eq!(l.normalize("  Ça, c'est   ÉNORME!! "), "ca c est enorme");
        assert_eq!(l.normalize("<script>"), "script");
        // elisions
        assert_eq!(
            l.normalize("j'ai qu'elle l'argent"),
            "je ai que ele le argent"
        );
        assert_eq!(l.normalize("s'il t'envoie"), "si il te envoie");
        assert_eq!(
            l.normalize("I don't, he won't, I'm"),
            "i do not he wil not i am"
        );
        // the words shown are keys: a repeated letter is one ("elle" → "ele")
        // repeated letters: one key for mouriiiir, mourrir, mourir
        assert_eq!(
            l.normalize("mouriiiir mourrir MOURIR"),
            "mourir mourir mourir"
        );
        // SMS spellings, with the word that follows already there
        assert_eq!(l.normalize("g 24h pr payer"), "je ai 24 h pour payer");
        assert_eq!(
            l.normalize("c trop, c'est nul, c est ça"),
            "c est trop c est nul c est ca"
        );
        assert_eq!(l.normalize("jvx pa, mé foto"), "je veux pas mes photo");
        assert_eq!(l.normalize("ima kms tmrw"), "i am going to kms tomorow");
        assert_eq!(l.normalize("50€ ou $20"), "50 euros ou dolars 20");
        // digits keep their repeats
        assert_eq!(l.normalize("100 euros"), "100 euros");
    }

    #[test]
    fn sms_and_typos_still_signal() {
        let l = lex();
        for t in [
            "jveux mouriiiir",
            "jai envi de mourrir",
            "g plus envi de vivre",
            "c trop jvais me tuer",
            "ima kms",
            "i wanna die",
            "u dont get it im gonna end my life",
        ] {
            assert_eq!(l.assess(t), vec![SuicidalThoughts], "{t}");
        }
    }

    #[test]
    fn idioms_and_negations() {
        let l = lex();
        for t in [
            "mdr je suis morte",
            "j'ai failli mourir de rire",
            "je meurs de faim",
            "ma mère va me tuer quand elle verra mon bulletin",
            "je vais tuer ce boss",
            "je me tue à te le dire",
            "il ne va rien publier, il a tout supprimé",
            "he said he won't post anything",
            "je vais poster mes photos de vacances ce soir",
            "my mom is gonna kill me lol",
            "i'm dying of laughter",
            "ils ont publié mon article",
            "j'ai payé 50 euros pour le concert ce soir",
        ] {
            assert!(l.assess(t).is_empty(), "{t}: {:?}", l.assess(t));
        }
        // a helpline prefers a false alarm: a negated wish to die is still a concern
        assert_eq!(l.assess("je ne veux pas mourir"), vec![SuicidalThoughts]);
        assert_eq!(l.assess("i don't want to die"), vec![SuicidalThoughts]);
        // shame: the past is an idiom, the future is left to signal
        assert!(l.assess("j'ai failli mourir de honte").is_empty());
        assert_eq!(
            l.assess("s'il publie ça je vais mourir de honte"),
            vec![SuicidalThoughts]
        );
    }

    #[test]
    fn a_helpline_extends_the_data() {
        let src = r#"
[spelling]
"jmeur" = "je meurs"
[classes]
dire = ["meurs", "mourir"]
[[mask]]
patterns = ["meurs de froid"]
[[rule]]
fact = "suicidal_thoughts"
patterns = ["je @dire"]
[[signal]]
kind = "suicidal_thoughts"
fr = ["envie d'en finir"]
"#;
        let l = RiskLexicon::from_toml(src).unwrap();
        assert_eq!(l.assess("jmeur"), vec![SuicidalThoughts]);
        assert!(l.assess("je meurs de froid").is_empty());
        assert_eq!(l.assess("ENVIE D’EN FINIR"), vec![SuicidalThoughts]);
        // the old shape (phrases only) still loads
        let old = RiskLexicon::from_toml(
            "[[signal]]\nkind = \"blackmail_deadline\"\nfr = [\"avant minuit\"]\n",
        )
        .unwrap();
        assert_eq!(old.assess("Avant MINUIT !"), vec![BlackmailDeadline]);
    }

    #[test]
    fn bad_lexicons_are_refused() {
        for src in [
            "[[signal]]\nkind = \"nope\"\nfr = [\"x\"]\n",
            "[[signal]]\nkind = \"suicidal_thoughts\"\nfr = [\"!!\"]\n",
            "not toml",
            "[[rule]]\nfact = \"x\"\npatterns = [\"@missing\"]\n",
            "[[rule]]\nfact = \"x\"\npatterns = [\"a ..0 b\"]\n",
            "[[rule]]\nfact = \"x\"\npatterns = [\"..2 b\"]\n",
            "[[rule]]\nfact = \"x\"\npatterns = [\"a? b?\"]\n",
            "[[rule]]\nfact = \"x\"\npatterns = [\"a ..x b\"]\n",
            "[[signal]]\nkind = \"suicidal_thoughts\"\nwhen = [[\"never_set\"]]\n",
            "[classes]\nc = []\n",
            "[classes]\nc = [\"two words\"]\n",
            "[spelling]\n\"x\" = \"\"\n",
            "[unknown]\n",
        ] {
            assert!(RiskLexicon::from_toml(src).is_err(), "{src}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_assessed_without_panic_each_signal_once_in_order(
            text in "(\\PC|['’ ]|je|veux|mourir|si|pas|il|va|publier|photos|..|\\.){0,120}"
        ) {
            let l = lex();
            let found = l.assess(&text);
            let mut sorted = found.clone();
            sorted.sort();
            sorted.dedup();
            proptest::prop_assert_eq!(found, sorted);
        }
    }

    #[test]
    fn long_and_repetitive_messages_stay_cheap() {
        let l = lex();
        let text = "si je pas il va veut menace de ".repeat(300);
        let start = std::time::Instant::now();
        let _ = l.assess(&text);
        // about a millisecond in a debug build; a walk that went exponential would take seconds
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn eval_sets_are_read_strictly() {
        let set = parse_eval_set("# c\nhello\t\nje veux mourir\tsuicidal_thoughts\n# held-out\nx\tblackmail_deadline,imminent_publication\n").unwrap();
        assert_eq!(set.len(), 3);
        assert!(set[0].expected.is_empty() && !set[0].held_out);
        assert_eq!(
            set[2].expected,
            vec![BlackmailDeadline, ImminentPublication]
        );
        assert!(set[2].held_out);
        assert!(parse_eval_set("no tab here\n").is_err());
        assert!(parse_eval_set("x\tnope\n").is_err());
    }
}
