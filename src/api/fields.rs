//! The grammar of a Graph API `fields` value, checked before a raw field list is sent.
//!
//! Meta's field expansion (<https://developers.facebook.com/docs/graph-api/guides/field-expansion>)
//! takes a comma-separated list of field names, each with optional modifiers written as
//! method calls (`.limit(5)`, `.as(alias)`, `.order(reverse_chronological)`,
//! `.summary(true)`, `.time_range({'since':'2026-01-01','until':'2026-01-31'})`) and an
//! optional nested list in braces (`albums.limit(5){name,photos.limit(2){name,picture}}`).
//! Anything else (`&`, `=`, `?`, `#`, `%`, `/`, a space, an empty name, an unbalanced brace)
//! is not a field list: a value such as `id&access_token=x` would reach Meta encoded as one
//! odd field name at best, and it is refused before anything is sent.
//!
//! ```text
//! list     := field ( "," field )*
//! field    := name modifier* ( "{" list "}" )? modifier*
//! modifier := "." name "(" argument ")"
//! name     := [A-Za-z0-9_]+
//! argument := balanced ( ) { } [ ] around [A-Za-z0-9_ . , : ' " + -]*
//! ```

use crate::error::{Error, Result};

/// How deep braces may nest: Meta's own examples go three levels down.
const MAX_DEPTH: usize = 8;
/// The longest value accepted: far above any real list, well under a URL's length limits.
const MAX_LEN: usize = 4096;

/// Checks `fields` against the grammar above.
pub(crate) fn check(fields: &str) -> Result<()> {
    if fields.is_empty() {
        return Err(refuse("must not be empty"));
    }
    if fields.len() > MAX_LEN {
        return Err(refuse(&format!("is longer than {MAX_LEN} bytes")));
    }
    let mut parser = Parser {
        bytes: fields.as_bytes(),
        at: 0,
    };
    parser.list(0)?;
    match parser.peek() {
        None => Ok(()),
        Some(_) => Err(parser.unexpected("a comma or the end")),
    }
}

fn refuse(reason: &str) -> Error {
    Error::invalid_input("fields", format!("not a Graph field list: {reason}"))
}

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn unexpected(&self, wanted: &str) -> Error {
        match self.peek() {
            Some(b) if b.is_ascii_graphic() => refuse(&format!(
                "expected {wanted} at byte {}, found {:?}",
                self.at, b as char
            )),
            Some(_) => refuse(&format!(
                "expected {wanted} at byte {}, found a space, control or non-ASCII character",
                self.at
            )),
            None => refuse(&format!("expected {wanted} at the end")),
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        if hit {
            self.at += 1;
        }
        hit
    }

    fn list(&mut self, depth: usize) -> Result<()> {
        loop {
            self.field(depth)?;
            if !self.eat(b',') {
                return Ok(());
            }
        }
    }

    fn field(&mut self, depth: usize) -> Result<()> {
        self.name()?;
        self.modifiers()?;
        if self.eat(b'{') {
            if depth + 1 >= MAX_DEPTH {
                return Err(refuse(&format!("braces nest deeper than {MAX_DEPTH}")));
            }
            self.list(depth + 1)?;
            if !self.eat(b'}') {
                return Err(self.unexpected("`}`"));
            }
            self.modifiers()?;
        }
        Ok(())
    }

    fn name(&mut self) -> Result<()> {
        let start = self.at;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            self.at += 1;
        }
        if self.at == start {
            return Err(self.unexpected("a field name"));
        }
        Ok(())
    }

    fn modifiers(&mut self) -> Result<()> {
        while self.eat(b'.') {
            self.name()?;
            if !self.eat(b'(') {
                return Err(self.unexpected("`(` after a modifier's name"));
            }
            self.argument()?;
        }
        Ok(())
    }

    /// The argument of a modifier, up to its closing `)`: nested brackets balanced, only the
    /// characters Meta's examples use.
    fn argument(&mut self) -> Result<()> {
        let mut open: Vec<u8> = vec![b')'];
        while let Some(b) = self.peek() {
            let close = match b {
                b'(' => Some(b')'),
                b'{' => Some(b'}'),
                b'[' => Some(b']'),
                _ => None,
            };
            if let Some(close) = close {
                if open.len() >= MAX_DEPTH {
                    return Err(refuse(&format!("brackets nest deeper than {MAX_DEPTH}")));
                }
                open.push(close);
            } else if matches!(b, b')' | b'}' | b']') {
                if open.pop() != Some(b) {
                    return Err(self.unexpected("balanced brackets"));
                }
                if open.is_empty() {
                    self.at += 1;
                    return Ok(());
                }
            } else if !(b.is_ascii_alphanumeric() || b"_.,:'\"+-".contains(&b)) {
                return Err(self.unexpected("a modifier argument"));
            }
            self.at += 1;
        }
        Err(self.unexpected("`)`"))
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn meta_examples_pass() {
        for ok in [
            "id",
            "id,name",
            "id,name,tasks",
            "albums.limit(5){name,photos.limit(2){name,picture,tags.limit(2)}},posts.limit(5)",
            "picture.as(pic).width(100)",
            "comments.summary(true).limit(0)",
            "insights.metric(page_impressions).period(day)",
            "insights.time_range({'since':'2026-01-01','until':'2026-01-31'}){spend}",
            "insights.time_range({\"since\":\"2026-01-01\"})",
            "assigned_users.limit(2){id,name,tasks}",
            "owned_ad_accounts{id,name}.limit(10)",
            "feed.order(reverse_chronological).since(-7)",
        ] {
            assert!(check(ok).is_ok(), "{ok}: {:?}", check(ok));
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "id&access_token=x",
            "id,name&debug=all",
            "id=1",
            "id name",
            "id, name",
            "id,",
            ",id",
            "id,,name",
            "id{name",
            "id{}",
            "id}",
            "id.limit",
            "id.limit(5",
            "id.limit(5]",
            "id.limit(5)x",
            "id?x",
            "id#x",
            "id%26x",
            "me/accounts",
            "id\n",
            "nom\u{e9}",
            "a{b{c{d{e{f{g{h{i}}}}}}}}",
        ] {
            let err = check(bad).expect_err(bad);
            assert!(
                matches!(&err, crate::Error::InvalidInput { field, .. } if field == "fields"),
                "{bad}: {err}"
            );
        }
        assert!(check(&"a,".repeat(3000)).is_err());
    }
}
