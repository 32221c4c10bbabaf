//! Exercises are generated from their solutions, so the two cannot drift.
//!
//! A chapter's `solutions/NN-name/stubs.txt` holds the exercise's opening
//! (a letter to the learner) and, for each function the learner writes, the
//! start of its signature and the message of its `todo!()`:
//!
//! ```text
//! # comment lines start with '#'
//! [header]
//! //! # Chapter 01: ...
//! [todo]
//! pub fn alloc(&self)
//!     pop the head of the free list
//! ```
//!
//! [`generate`] copies the solution from its first `use` line on, replaces
//! each listed function's body with its `todo!()`, and drops doc examples (the
//! tests carry those). `ANCHOR` lines stay, so a lesson page can include the
//! exercise's own declarations and `todo!()` messages, never the solution's bodies. A `\n` in a signature
//! stands for a line break, to pick out e.g. the `fmt` of one `impl`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail, ensure};

/// What `stubs.txt` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StubSpec {
    /// The exercise's first lines, before the solution's code.
    pub header: String,
    /// Each function to stub: the start of its signature, and the `todo!()` message.
    pub todos: Vec<(String, String)>,
}

/// Reads a `stubs.txt`.
///
/// # Errors
/// When a section is missing, or a signature has no message.
pub fn parse_spec(text: &str) -> Result<StubSpec> {
    let (mut header, mut todos) = (String::new(), Vec::new());
    let mut section = "";
    let mut pending: Option<String> = None;
    for line in text.lines() {
        match line {
            "[header]" | "[todo]" => section = line,
            _ if section == "[header]" => {
                header.push_str(line);
                header.push('\n');
            }
            _ if line.starts_with('#') || line.trim().is_empty() => {}
            _ if section == "[todo]" && line.starts_with("    ") => {
                let signature = pending
                    .take()
                    .with_context(|| format!("a message without a signature: {line:?}"))?;
                todos.push((signature.replace("\\n", "\n"), line.trim().to_owned()));
            }
            _ if section == "[todo]" => {
                if let Some(signature) = pending.replace(line.to_owned()) {
                    bail!("the signature {signature:?} has no indented message under it");
                }
            }
            _ => bail!("a line outside [header] and [todo]: {line:?}"),
        }
    }
    if let Some(signature) = pending {
        bail!("the signature {signature:?} has no indented message under it");
    }
    ensure!(!header.is_empty(), "stubs.txt has no [header] section");
    ensure!(
        !todos.is_empty(),
        "stubs.txt lists no function under [todo]"
    );
    Ok(StubSpec { header, todos })
}

/// The exercise's source, before formatting: the solution with every listed
/// body replaced by its `todo!()`.
///
/// # Errors
/// When a signature is not found exactly once, or its body never closes.
pub fn generate(solution: &str, spec: &StubSpec) -> Result<String> {
    let start = solution
        .find("\nuse ")
        .map(|at| at + 1)
        .context("the solution has no `use` line to start the exercise from")?;
    let mut body = solution[start..].to_owned();
    for (signature, message) in &spec.todos {
        body = stub_one(&body, signature, message)?;
    }
    Ok(format!("{}{}", spec.header, strip_examples(&body)))
}

/// Replaces the body of the function that `signature` starts.
fn stub_one(source: &str, signature: &str, message: &str) -> Result<String> {
    let at = match source
        .match_indices(signature)
        .map(|(at, _)| at)
        .collect::<Vec<_>>()[..]
    {
        [at] => at,
        [] => bail!("`{signature}` is not in the solution"),
        _ => bail!("`{signature}` appears more than once; give more of the signature"),
    };
    let open = at
        + signature.len().saturating_sub(1)
        + source[at + signature.len().saturating_sub(1)..]
            .find('{')
            .with_context(|| format!("`{signature}` has no body"))?;
    let close = matching_brace(source, open)
        .with_context(|| format!("`{signature}`'s body never closes"))?;
    let line_start = source[..at].rfind('\n').map_or(0, |n| n + 1);
    let indent: String = source[line_start..at]
        .chars()
        .take_while(|c| *c == ' ')
        .collect();
    let escaped = message.replace('\\', "\\\\").replace('"', "\\\"");
    Ok(format!(
        "{}{{\n{indent}    todo!(\"{escaped}\")\n{indent}}}{}",
        &source[..open],
        &source[close + 1..]
    ))
}

/// The index of the `}` that closes the `{` at `open`, skipping string literals.
fn matching_brace(source: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in source[open..].char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Drops runnable doc examples (```` ``` ```` blocks in `///` comments, but not
/// ```` ```text ```` drawings).
fn strip_examples(source: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    let (mut in_example, mut in_text) = (false, false);
    for line in source.lines() {
        let trimmed = line.trim();
        if let Some(fence) = trimmed.strip_prefix("/// ```") {
            if in_text {
                in_text = false;
            } else if fence.starts_with("text") {
                in_text = true;
            } else {
                in_example = !in_example;
                // An example is usually introduced by an empty `///` line.
                if in_example && kept.last().is_some_and(|l| l.trim() == "///") {
                    kept.pop();
                }
                continue;
            }
        }
        if !in_example {
            kept.push(line);
        }
    }
    kept.join("\n") + "\n"
}

/// Formats Rust source with rustfmt, as `cargo fmt` would.
///
/// # Errors
/// When rustfmt cannot be run or rejects the source.
pub fn rustfmt(source: &str) -> Result<String> {
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running rustfmt (rustup component add rustfmt)")?;
    child
        .stdin
        .take()
        .context("rustfmt's stdin")?
        .write_all(source.as_bytes())?;
    let output = child.wait_with_output()?;
    ensure!(
        output.status.success(),
        "rustfmt rejected the generated exercise:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8(output.stdout)?)
}

/// The exercise that chapter `dir_name`'s solution and `stubs.txt` make, formatted.
///
/// # Errors
/// When a file cannot be read, the spec is wrong, or rustfmt fails.
pub fn exercise_for(root: &Path, dir_name: &str) -> Result<String> {
    let solution_dir = root.join("solutions").join(dir_name);
    let read = |name: &str| {
        let path = solution_dir.join(name);
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    };
    let spec = parse_spec(&read("stubs.txt")?)?;
    rustfmt(&generate(&read("src/lib.rs")?, &spec)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOLUTION: &str = r#"//! The solution.

use std::fmt;

/// Adds.
///
/// ```
/// assert_eq!(add(1, 2), 3);
/// ```
// ANCHOR: add
pub fn add(a: u8, b: u8) -> u8 {
    let text = format!("{a}}}");
    a + b
}
// ANCHOR_END: add

/// A drawing stays:
/// ```text
/// [a][b]
/// ```
pub fn keep() -> u8 {
    1
}
"#;

    #[test]
    fn listed_bodies_become_todos_examples_go_and_anchors_stay() {
        let spec =
            parse_spec("[header]\n//! The exercise.\n\n[todo]\npub fn add(\n    add \"them\"\n")
                .unwrap();
        let exercise = generate(SOLUTION, &spec).unwrap();
        assert_eq!(
            exercise,
            "//! The exercise.\n\nuse std::fmt;\n\n/// Adds.\n// ANCHOR: add\npub fn add(a: u8, b: u8) -> u8 {\n    \
             todo!(\"add \\\"them\\\"\")\n}\n// ANCHOR_END: add\n\n/// A drawing stays:\n/// ```text\n/// [a][b]\n/// ```\n\
             pub fn keep() -> u8 {\n    1\n}\n"
        );
    }

    #[test]
    fn a_signature_must_name_exactly_one_function() {
        let spec = |signature: &str| StubSpec {
            header: "//! x\n".into(),
            todos: vec![(signature.into(), "m".into())],
        };
        assert!(generate(SOLUTION, &spec("pub fn missing(")).is_err());
        assert!(
            generate(SOLUTION, &spec("pub fn ")).is_err(),
            "`pub fn ` matches two functions"
        );
    }

    #[test]
    fn a_signature_without_a_message_is_an_error() {
        assert!(parse_spec("[header]\n//! x\n[todo]\npub fn a(\npub fn b(\n    m\n").is_err());
        assert!(parse_spec("[header]\n//! x\n[todo]\n").is_err());
    }
}
