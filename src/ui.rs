//! Terminal output: colour only on a terminal and without `NO_COLOR`, and a
//! progress bar on stderr that plain logs never see.

use std::io::{IsTerminal, Write};

/// How to print: with ANSI colour and a live progress bar, or plain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    color: bool,
    progress: bool,
}

impl Style {
    /// Colour when stdout is a terminal and `NO_COLOR` is unset or empty;
    /// a progress bar when stderr is a terminal.
    pub fn detect() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            color: std::io::stdout().is_terminal() && !no_color,
            progress: std::io::stderr().is_terminal(),
        }
    }

    /// No colour, no progress bar.
    pub fn plain() -> Self {
        Self {
            color: false,
            progress: false,
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// Green, for what passed.
    pub fn good(&self, text: &str) -> String {
        self.paint("32", text)
    }

    /// Red, for what failed.
    pub fn bad(&self, text: &str) -> String {
        self.paint("31", text)
    }

    /// Yellow, for what is under way.
    pub fn warn(&self, text: &str) -> String {
        self.paint("33", text)
    }

    /// Bold, for headings and commands to type.
    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    /// Dim, for details.
    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    /// Draws `[####----] done/total label` over the current stderr line.
    pub fn progress(&self, done: usize, total: usize, label: &str) {
        if !self.progress || total == 0 {
            return;
        }
        const WIDTH: usize = 24;
        let filled = WIDTH * done / total;
        let bar = format!("{}{}", "#".repeat(filled), "-".repeat(WIDTH - filled));
        let mut err = std::io::stderr();
        let _ = write!(err, "\r\x1b[2K[{bar}] {done}/{total} {label}");
        let _ = err.flush();
    }

    /// Removes the progress bar.
    pub fn clear_progress(&self) {
        if self.progress {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }

    /// Clears the terminal, for watch mode; plain output just adds a rule.
    pub fn clear_screen(&self) {
        if self.progress {
            print!("\x1b[2J\x1b[H");
        } else {
            println!("{}", "-".repeat(72));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_output_has_no_escape_codes() {
        let style = Style::plain();
        assert_eq!(style.good("ok"), "ok");
        assert_eq!(style.bold("cargo run"), "cargo run");
    }
}
