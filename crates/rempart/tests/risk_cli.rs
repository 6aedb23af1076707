//! `rempart risk check` and `rempart risk eval` as a helpline's operator uses them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Stdio};

fn check(args: &[&str], input: &str) -> (bool, Vec<serde_json::Value>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rempart"))
        .args(["risk", "check"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (
        out.status.success(),
        lines,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn signals(v: &serde_json::Value) -> Vec<&str> {
    v["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

#[test]
fn check_prints_one_json_line_per_message_in_a_fixed_order() {
    let (ok, lines, _) = check(
        &[],
        "il menace de publier mes photos demain si je paie pas\n\
         ma fille dit qu'elle veut mourir\n\
         mort de rire\n\
         \n\
         he wants money tonight or he posts it, i want to die\r\n\
         mes parents vont me tuer si j'ai une mauvaise note",
    );
    assert!(ok);
    assert_eq!(
        lines.len(),
        6,
        "one line per message, the last without a newline too"
    );
    assert_eq!(
        signals(&lines[0]),
        ["blackmail_deadline", "imminent_publication"]
    );
    assert_eq!(signals(&lines[1]), ["suicidal_thoughts"]);
    assert!(signals(&lines[2]).is_empty());
    assert!(signals(&lines[3]).is_empty());
    assert_eq!(
        signals(&lines[4]),
        [
            "suicidal_thoughts",
            "blackmail_deadline",
            "imminent_publication"
        ]
    );
    assert!(signals(&lines[5]).is_empty());
    // only the signals, unless asked why
    assert_eq!(lines[0].as_object().unwrap().len(), 1);
    let (_, explained, _) = check(&["--explain"], "il va publier les photos ce soir\n");
    let facts = explained[0]["facts"].as_array().unwrap();
    assert!(facts.iter().any(|f| f == "future_publish"));
}

#[test]
fn a_helpline_lexicon_replaces_the_defaults_and_a_bad_one_is_refused() {
    let dir = std::env::temp_dir().join(format!("rempart-risk-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let own = dir.join("own.toml");
    std::fs::write(
        &own,
        "[[signal]]\nkind = \"imminent_publication\"\nfr = [\"compte fisha\"]\n",
    )
    .unwrap();
    let (ok, lines, _) = check(
        &["--lexicon", own.to_str().unwrap()],
        "ils ont fait un compte FISHA\nje veux mourir\n",
    );
    assert!(ok);
    assert_eq!(signals(&lines[0]), ["imminent_publication"]);
    assert!(signals(&lines[1]).is_empty(), "the defaults are replaced");

    let broken = dir.join("broken.toml");
    std::fs::write(
        &broken,
        "[[rule]]\nfact = \"x\"\npatterns = [\"@nowhere\"]\n",
    )
    .unwrap();
    let (ok, lines, err) = check(&["--lexicon", broken.to_str().unwrap()], "x\n");
    assert!(!ok);
    assert!(lines.is_empty());
    assert!(err.contains("unknown class @nowhere"), "{err}");
    let (ok, _, err) = check(
        &["--lexicon", dir.join("missing.toml").to_str().unwrap()],
        "x\n",
    );
    assert!(!ok);
    assert!(err.contains("missing.toml"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn eval_reports_recall_false_positives_and_time() {
    let out = Command::new(env!("CARGO_BIN_EXE_rempart"))
        .args(["risk", "eval", "--repeat", "2"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for k in [
        "recall suicidal_thoughts",
        "recall blackmail_deadline",
        "recall imminent_publication",
        "false positives",
        "goal (recall >= 95 % per signal, false positives <= 3 %): met",
        "500-character messages",
        "str::contains scan",
    ] {
        assert!(text.contains(k), "{k} in\n{text}");
    }
    // a set of one's own, with a mistake to show
    let dir = std::env::temp_dir().join(format!("rempart-risk-eval-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let set = dir.join("set.tsv");
    std::fs::write(
        &set,
        "je veux mourir\tsuicidal_thoughts\nbonjour\tblackmail_deadline\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rempart"))
        .args(["risk", "eval", "--mistakes", "--repeat", "1"])
        .arg(&set)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("not met"), "{text}");
    assert!(text.contains("mistake: \"bonjour\""), "{text}");
    std::fs::write(&set, "no tab\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rempart"))
        .args(["risk", "eval"])
        .arg(&set)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 1: no tab"));
    let _ = std::fs::remove_dir_all(&dir);
}
