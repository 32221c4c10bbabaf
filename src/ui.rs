//! Terminal output: colour only on a terminal and without `NO_COLOR`, and an
//! indicatif progress bar on stderr that plain logs never see.

use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

/// The one progress bar on screen, if any.
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

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

    /// Shows an indicatif bar on stderr, `⠋ [####----] done/total label`;
    /// its spinner keeps turning while a long step (a first build) runs.
    pub fn progress(&self, done: usize, total: usize, label: &str) {
        if !self.progress || total == 0 {
            return;
        }
        let mut slot = BAR
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let bar = slot.get_or_insert_with(|| {
            let bar = ProgressBar::new(total as u64);
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} [{bar:24}] {pos}/{len} {msg} ({elapsed})")
            {
                bar.set_style(style.progress_chars("#>-"));
            }
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        bar.set_length(total as u64);
        bar.set_position(done as u64);
        bar.set_message(label.to_owned());
    }

    /// Removes the progress bar.
    pub fn clear_progress(&self) {
        let bar = BAR
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(bar) = bar {
            bar.finish_and_clear();
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
