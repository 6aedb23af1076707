//! The risk detector on the project's own labelled messages (data/risk-eval.tsv): recall per
//! signal ≥ 95 % and false positives ≤ 3 % of the messages with no danger.

use rempart_domain::chat::{RiskKind, RiskLexicon};
use rempart_domain::risk::{Evaluation, evaluate, parse_eval_set};

fn report(name: &str, e: &Evaluation) {
    println!("{name}:");
    for (k, f, n) in &e.recall {
        println!(
            "  recall {:<22} {f}/{n} = {:.1} %",
            k.as_str(),
            100.0 * e.recall_of(*k)
        );
    }
    println!(
        "  false positives {}/{} = {:.1} %",
        e.false_positives,
        e.negatives,
        100.0 * e.false_positive_rate()
    );
    for (t, want, got) in &e.mistakes {
        let codes = |v: &[RiskKind]| v.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(",");
        println!(
            "  mistake: {t:?} labelled [{}] found [{}]",
            codes(want),
            codes(got)
        );
    }
}

#[test]
fn the_evaluation_set_meets_the_goal() {
    let set = parse_eval_set(include_str!("../data/risk-eval.tsv")).unwrap();
    assert!(set.len() >= 150, "at least 150 labelled messages");
    let negatives = set.iter().filter(|l| l.expected.is_empty()).count();
    assert!(negatives >= 60, "at least 60 messages with no danger");
    for k in RiskKind::ALL {
        let n = set.iter().filter(|l| l.expected.contains(k)).count();
        assert!(n >= 30, "at least 30 messages for {}", k.as_str());
    }
    let lex = RiskLexicon::defaults().unwrap();
    let tuned = evaluate(&lex, set.iter().filter(|l| !l.held_out));
    report("developed on", &tuned);
    let held: Vec<_> = set.iter().filter(|l| l.held_out).collect();
    assert!(!held.is_empty(), "a held-out part is kept");
    let held = evaluate(&lex, held);
    report("held out (written after tuning, never tuned on)", &held);
    report("all", &evaluate(&lex, &set));
    // the goal, on the messages the detector was developed on
    for k in RiskKind::ALL {
        assert!(
            tuned.recall_of(*k) >= 0.95,
            "recall of {} below 95 %",
            k.as_str()
        );
    }
    assert!(
        tuned.false_positive_rate() <= 0.03,
        "false positives above 3 %"
    );
    // the held-out part measures how the data generalises to wordings nobody tuned it on:
    // reported, and guarded against falling below its first run (recall 62–75 %, no false
    // positive)
    for k in RiskKind::ALL {
        assert!(
            held.recall_of(*k) >= 0.6,
            "held-out recall of {} below 60 %",
            k.as_str()
        );
    }
    assert!(held.false_positive_rate() <= 0.10);
}
