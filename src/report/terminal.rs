//! Text bound for a terminal: values from files and users (`$CYT`, `$PnS`,
//! site names, reasons quoting them) are shown, never obeyed. Control
//! characters (escape sequences that clear the screen or move the cursor,
//! carriage returns and newlines that forge a line) and the invisible
//! direction overrides that reorder text are written as visible escapes.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal as itself.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// One value (a name, a keyword, a reason) made safe for a terminal: every
/// control character, newlines included, as a visible escape (`\u{1b}`).
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if is_unsafe(c) {
                    c.escape_unicode().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// A whole text made of lines: every line kept, every other control
/// character escaped (the last guard for text built from many values).
pub fn escape_lines(s: &str) -> String {
    s.split('\n')
        .map(|line| escape(line).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_sequences_are_shown_not_obeyed() {
        let cyt = "FACS\u{1b}[2J\u{1b}[HFAKE RESULT: NEGATIVE\r\nok\u{202e}";
        let e = escape(cyt);
        assert!(!e.chars().any(is_unsafe), "{e}");
        assert!(
            e.contains("\\u{1b}[2J") && e.contains("\\u{d}\\u{a}"),
            "{e}"
        );
        assert_eq!(escape("左腸骨 left iliac"), "左腸骨 left iliac");
        let text = escape_lines("a\u{7}b\nc\td");
        assert_eq!(text, "a\\u{7}b\nc\\u{9}d");
    }
}
