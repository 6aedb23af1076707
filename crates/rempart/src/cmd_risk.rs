//! `rempart risk …`: the chat's risk detector from the command line.
//!
//! * `rempart risk check [--lexicon FILE]`: one message per line on standard input, one JSON
//!   line per message on standard output: `{"signals":["blackmail_deadline",…]}` (codes in a
//!   fixed order: suicidal_thoughts, blackmail_deadline, imminent_publication).
//! * `rempart risk eval [FILE] [--lexicon FILE]`: recall per signal and false positives on a
//!   labelled set (`MESSAGE<TAB>codes`, the embedded `risk-eval.tsv` by default), and the time
//!   `assess` takes per message beside two floors (normalisation alone; a plain
//!   `str::contains` scan of a phrase list). The reproducing command of docs/BENCHMARKS.md.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use rempart_domain::chat::{RiskKind, RiskLexicon};
use rempart_domain::risk::{Evaluation, Labelled, evaluate, parse_eval_set};

/// The project's own evaluation set.
const EVAL_SET: &str = include_str!("../../domain/data/risk-eval.tsv");

/// `rempart risk` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum RiskCmd {
    /// Read messages (one per line) on standard input; print {"signals":[…]} for each.
    Check {
        /// A helpline's own lexicon (TOML, the shape of crates/domain/data/risk.toml).
        #[arg(long)]
        lexicon: Option<PathBuf>,
        /// Also print the facts the rules found ("facts":[…]).
        #[arg(long)]
        explain: bool,
    },
    /// Recall per signal, false positives and time per message on a labelled set.
    Eval {
        /// Labelled messages (MESSAGE<TAB>codes per line); the embedded set by default.
        file: Option<PathBuf>,
        /// A helpline's own lexicon.
        #[arg(long)]
        lexicon: Option<PathBuf>,
        /// Print each message whose signals differ from its labels.
        #[arg(long)]
        mistakes: bool,
        /// Timed calls of each message.
        #[arg(long, default_value_t = 200)]
        repeat: u32,
    },
}

fn load(lexicon: Option<&Path>) -> Result<RiskLexicon> {
    match lexicon {
        Some(f) => {
            let src =
                std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
            RiskLexicon::from_toml(&src).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))
        }
        None => RiskLexicon::defaults().map_err(|e| anyhow::anyhow!("{e}")),
    }
}

/// Runs a `rempart risk` subcommand.
pub fn run(cmd: RiskCmd) -> Result<()> {
    match cmd {
        RiskCmd::Check { lexicon, explain } => {
            let lex = load(lexicon.as_deref())?;
            let stdin = std::io::stdin();
            let stdout = std::io::stdout();
            check(&lex, explain, stdin.lock(), &mut stdout.lock())
        }
        RiskCmd::Eval {
            file,
            lexicon,
            mistakes,
            repeat,
        } => {
            let lex = load(lexicon.as_deref())?;
            let src = match &file {
                Some(f) => std::fs::read_to_string(f)
                    .with_context(|| format!("reading {}", f.display()))?,
                None => EVAL_SET.to_owned(),
            };
            let set = parse_eval_set(&src).map_err(|e| anyhow::anyhow!("{e}"))?;
            if set.is_empty() {
                bail!("no labelled message");
            }
            eval(&lex, &set, mistakes, repeat.max(1))
        }
    }
}

fn codes(v: &[RiskKind]) -> Vec<&'static str> {
    v.iter().map(|k| k.as_str()).collect()
}

fn check(
    lex: &RiskLexicon,
    explain: bool,
    mut input: impl BufRead,
    out: &mut impl Write,
) -> Result<()> {
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        // one message per line, whatever its bytes: invalid UTF-8 is replaced, not refused
        let line = String::from_utf8_lossy(&buf);
        let text = line.trim_end_matches(['\n', '\r']);
        let mut v = serde_json::json!({ "signals": codes(&lex.assess(text)) });
        if explain {
            v["facts"] = serde_json::json!(lex.facts(text));
        }
        if writeln!(out, "{v}").and_then(|_| out.flush()).is_err() {
            // a closed pipe: the reader is gone
            return Ok(());
        }
    }
    Ok(())
}

fn pct(x: f64) -> String {
    format!("{:.1} %", 100.0 * x)
}

fn print_eval(name: &str, e: &Evaluation) {
    println!("{name}");
    for (k, f, n) in &e.recall {
        println!(
            "  recall {:<22} {f:>3}/{n:<3} {}",
            k.as_str(),
            pct(e.recall_of(*k))
        );
    }
    println!(
        "  false positives               {:>3}/{:<3} {}",
        e.false_positives,
        e.negatives,
        pct(e.false_positive_rate())
    );
}

/// The old lexicon's approach: a plain substring scan of lower-case text.
const FLOOR_PHRASES: &[&str] = &[
    "me suicider",
    "me tuer",
    "envie de mourir",
    "en finir",
    "plus envie de vivre",
    "je veux mourir",
    "me faire du mal",
    "kill myself",
    "suicide",
    "want to die",
    "end it all",
    "hurt myself",
    "sinon il publie",
    "sinon il envoie",
    "avant minuit",
    "avant ce soir",
    "il veut de l'argent",
    "si je ne paie pas",
    "chantage",
    "il me menace",
    "before midnight",
    "wants money",
    "blackmail",
    "va publier",
    "va poster",
    "menace de publier",
    "menace d'envoyer",
    "envoyer à tout le monde",
    "going to post",
    "threatens to post",
    "send it to everyone",
];

fn floor_scan(text: &str) -> usize {
    let lower = text.to_lowercase();
    FLOOR_PHRASES.iter().filter(|p| lower.contains(*p)).count()
}

/// Microseconds per call of `f` on each text (the mean of `repeat` calls): p50, p99, max.
fn timings(texts: &[String], repeat: u32, mut f: impl FnMut(&str) -> usize) -> (f64, f64, f64) {
    let mut per: Vec<f64> = Vec::with_capacity(texts.len());
    let mut sink = 0usize;
    for t in texts {
        sink = sink.wrapping_add(f(t)); // warm
        let start = Instant::now();
        for _ in 0..repeat {
            sink = sink.wrapping_add(f(std::hint::black_box(t)));
        }
        per.push(start.elapsed().as_secs_f64() * 1e6 / f64::from(repeat));
    }
    std::hint::black_box(sink);
    per.sort_by(f64::total_cmp);
    let at = |q: f64| per[((per.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.99), per[per.len() - 1])
}

/// Messages of about 500 characters made of the set's own lines.
fn long_messages(set: &[Labelled]) -> Vec<String> {
    let mut out = Vec::new();
    for start in 0..set.len().min(50) {
        let mut m = String::new();
        let mut i = start;
        while m.chars().count() < 500 {
            m.push_str(&set[i % set.len()].text);
            m.push_str(". ");
            i += 7;
        }
        let cut: String = m.chars().take(500).collect();
        out.push(cut);
    }
    out
}

fn eval(lex: &RiskLexicon, set: &[Labelled], mistakes: bool, repeat: u32) -> Result<()> {
    let tuned: Vec<&Labelled> = set.iter().filter(|l| !l.held_out).collect();
    let held: Vec<&Labelled> = set.iter().filter(|l| l.held_out).collect();
    let all = evaluate(lex, set);
    println!(
        "messages: {} ({} with no danger{})",
        set.len(),
        all.negatives,
        if held.is_empty() {
            String::new()
        } else {
            format!(", {} held out", held.len())
        }
    );
    let met = |e: &Evaluation| {
        if RiskKind::ALL.iter().all(|k| e.recall_of(*k) >= 0.95) && e.false_positive_rate() <= 0.03
        {
            "met"
        } else {
            "not met"
        }
    };
    if !held.is_empty() {
        let dev = evaluate(lex, tuned);
        print_eval("developed on (the detector was tuned on these)", &dev);
        println!(
            "goal on these (recall >= 95 % per signal, false positives <= 3 %): {}",
            met(&dev)
        );
        print_eval(
            "held out (written after tuning, never tuned on)",
            &evaluate(lex, held),
        );
    }
    print_eval("all", &all);
    println!(
        "goal (recall >= 95 % per signal, false positives <= 3 %): {}",
        met(&all)
    );
    if mistakes {
        for (t, want, got) in &all.mistakes {
            println!(
                "  mistake: {t:?} labelled {:?} found {:?}",
                codes(want),
                codes(got)
            );
        }
    }
    let texts: Vec<String> = set.iter().map(|l| l.text.clone()).collect();
    let long = long_messages(set);
    println!(
        "time per message, µs (mean of {repeat} calls each; p50 / p99 / max){}",
        if cfg!(debug_assertions) {
            " — a debug build: build with --release for real figures"
        } else {
            ""
        }
    );
    for (name, texts) in [
        ("set's messages", &texts),
        ("500-character messages", &long),
    ] {
        let a = timings(texts, repeat, |t| lex.assess(t).len());
        let n = timings(texts, repeat, |t| lex.normalize(t).len());
        let c = timings(texts, repeat, floor_scan);
        println!("  {name}:");
        println!(
            "    assess                {:>8.2} {:>8.2} {:>8.2}",
            a.0, a.1, a.2
        );
        println!(
            "    normalisation only    {:>8.2} {:>8.2} {:>8.2}",
            n.0, n.1, n.2
        );
        println!(
            "    str::contains scan    {:>8.2} {:>8.2} {:>8.2}",
            c.0, c.1, c.2
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_prints_one_json_line_per_line() {
        let lex = RiskLexicon::defaults().unwrap();
        let mut out = Vec::new();
        check(
            &lex,
            false,
            &b"je veux mourir\r\n\nbonjour\n\xff\xfe"[..],
            &mut out,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            vec![
                r#"{"signals":["suicidal_thoughts"]}"#,
                r#"{"signals":[]}"#,
                r#"{"signals":[]}"#,
                r#"{"signals":[]}"#,
            ]
        );
    }
}
