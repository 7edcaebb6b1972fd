//! Splitting a command line into words like a POSIX shell does, without running one (no
//! variables, globs, pipes or redirections: those are plain characters here), and quoting words
//! back for display. Written here rather than taken from the `shell-words` crate: it is 80 lines,
//! the build stays offline-friendly, and errors come out in nasc's style.
//!
//! - whitespace (space, tab, newline) separates words;
//! - `'...'` keeps everything inside literally;
//! - `"..."` keeps everything literally except `\"`, `\\`, `\$`, `` \` `` and a backslash-newline
//!   (removed), as in sh;
//! - outside quotes a backslash keeps the next character literally (a backslash-newline is
//!   removed);
//! - `''` or `""` is an empty word.

use crate::error::SplitError;

/// The words of `text`. Errors: an unterminated quote, a trailing backslash.
pub fn split(text: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    // a word has started (an empty quoted word counts)
    let mut started = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            '\'' => {
                started = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(x) => word.push(x),
                        None => return Err(SplitError::SingleQuote { text: text.to_string() }),
                    }
                }
            }
            '"' => {
                started = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(x @ ('"' | '\\' | '$' | '`')) => word.push(x),
                            Some('\n') => {}
                            Some(x) => {
                                word.push('\\');
                                word.push(x);
                            }
                            None => return Err(SplitError::DoubleQuote { text: text.to_string() }),
                        },
                        Some(x) => word.push(x),
                        None => return Err(SplitError::DoubleQuote { text: text.to_string() }),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(x) => {
                    started = true;
                    word.push(x);
                }
                None => return Err(SplitError::Backslash { text: text.to_string() }),
            },
            x => {
                started = true;
                word.push(x);
            }
        }
    }
    if started {
        words.push(word);
    }
    Ok(words)
}

/// `word` as a shell reads it back as one word: unchanged when it holds only safe characters,
/// else in single quotes (a `'` inside written `'\''`).
pub fn quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%^".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Words joined into one command line that [`split`] (and sh) reads back as the same words.
    fn join(words: &[&str]) -> String {
        words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
    }

    fn w(s: &str) -> Vec<String> {
        split(s).unwrap()
    }

    #[test]
    fn words_quotes_and_backslashes() {
        assert_eq!(w("python3 train.py --lr 0.1"), ["python3", "train.py", "--lr", "0.1"]);
        assert_eq!(w("  a\t b\n"), ["a", "b"]);
        assert_eq!(w("'a b' \"c d\" e\\ f"), ["a b", "c d", "e f"]);
        assert_eq!(w("'it'\\''s'"), ["it's"]);
        assert_eq!(w(r#""say \"hi\" \\ \$HOME \n""#), [r#"say "hi" \ $HOME \n"#]);
        assert_eq!(w("a'b'\"c\"d"), ["abcd"]);
        assert_eq!(w("'' \"\" x"), ["", "", "x"]);
        assert_eq!(w("$HOME *.py | > ;"), ["$HOME", "*.py", "|", ">", ";"]);
        assert_eq!(w("a\\\nb"), ["ab"]);
        assert_eq!(w(""), Vec::<String>::new());
        assert_eq!(w("héllo 'wörld'"), ["héllo", "wörld"]);
    }

    #[test]
    fn errors_are_explained() {
        assert!(split("python 'abc").unwrap_err().to_string().contains("unterminated single quote"));
        assert!(split("python \"abc").unwrap_err().to_string().contains("unterminated double quote"));
        assert!(split("python \"abc\\").unwrap_err().to_string().contains("unterminated double quote"));
        assert!(split("python abc\\").unwrap_err().to_string().contains("a backslash ends"));
    }

    #[test]
    fn quoting_round_trips() {
        let cases: &[&[&str]] = &[&["python3", "x.py"], &["a b", "", "it's", "$HOME", "|nor_conv_3x3~0|+|", "\"q\"", "back\\slash", "tab\there", "new\nline"]];
        for words in cases {
            let line = join(words);
            assert_eq!(split(&line).unwrap(), *words, "{line}");
        }
        assert_eq!(quote("run.trials/3/trial.json"), "run.trials/3/trial.json");
        assert_eq!(quote("my run.db"), "'my run.db'");
    }
}
