//! The `cypherlink packet` subcommands (and the top-level `--help`) as a user runs them: real
//! process, real exit codes.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn cypherlink(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cypherlink"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cypherlink");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait for cypherlink")
}

const PREPARE_HEX: &str = "0c68000000000000006b323031373132323330313231343035343974e1136dc71c9e5f283bec83461cbf1261c4014f72d48f8dd65453a0b84e7de10d6578616d706c652e616c696365205db343fdc41898f6df4202329139dc242dd0f558a811b46b28918fdab37c6cb0";

#[test]
fn decode_prints_json_and_encode_reverses_it() {
    let decoded = cypherlink(&["packet", "decode", PREPARE_HEX], "");
    assert!(decoded.status.success(), "{decoded:?}");
    let json: serde_json::Value = serde_json::from_slice(&decoded.stdout).expect("JSON output");
    assert_eq!(json["type"], "prepare");
    assert_eq!(json["amount"], "107");
    assert_eq!(json["expiresAt"], "2017-12-23T01:21:40.549Z");
    assert_eq!(json["destination"], "example.alice");
    assert_eq!(
        json["executionCondition"],
        "74e1136dc71c9e5f283bec83461cbf1261c4014f72d48f8dd65453a0b84e7de1"
    );

    let encoded = cypherlink(&["packet", "encode"], &String::from_utf8_lossy(&decoded.stdout));
    assert!(encoded.status.success(), "{encoded:?}");
    assert_eq!(String::from_utf8_lossy(&encoded.stdout).trim(), PREPARE_HEX);
}

#[test]
fn decode_reads_stdin_when_no_argument_is_given() {
    let out = cypherlink(&["packet", "decode"], &format!("0x{PREPARE_HEX}\n"));
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("example.alice"));
}

#[test]
fn bad_input_exits_with_status_2_and_says_why() {
    let out = cypherlink(&["packet", "decode", "0c0102"], "");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("truncated amount"), "{stderr}");
    assert!(out.stdout.is_empty());

    let out = cypherlink(&["packet", "encode"], r#"{"type":"prepare","amount":"1"}"#);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid packet JSON"));

    let out = cypherlink(&["packet", "frobnicate"], "");
    assert_eq!(out.status.code(), Some(2), "clap usage errors also exit 2");
}

#[test]
fn help_lists_the_subcommands_and_the_environment() {
    let help = cypherlink(&["--help"], "");
    assert!(help.status.success(), "{help:?}");
    let text = String::from_utf8_lossy(&help.stdout);
    for word in [
        "demo",
        "connector",
        "packet",
        "node",
        "RUST_LOG",
        "TOKIO_WORKER_THREADS",
    ] {
        assert!(text.contains(word), "--help lacks {word}:\n{text}");
    }
}
