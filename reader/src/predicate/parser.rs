//! Lexer and recursive-descent parser of the `--where` syntax (grammar in the module docs of
//! [`crate::predicate`]). Produces an unbound [`Expr`] whose nodes carry byte positions.

use super::{CmpOp, Expr, ExprKind, Lit, Literal, PosError, TypedKeyword};

type PResult<T> = Result<T, PosError>;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    /// A double-quoted or backquoted identifier (never a keyword).
    Quoted(String),
    Number(String),
    Str(String),
    Hex(Vec<u8>),
    Op(CmpOp),
    LParen,
    RParen,
    Comma,
    End,
}

const KEYWORDS: &[&str] = &[
    "AND",
    "OR",
    "NOT",
    "BETWEEN",
    "IN",
    "IS",
    "NULL",
    "TRUE",
    "FALSE",
    "DATE",
    "TIME",
    "TIMESTAMP",
];

/// Whether `s` is a keyword of the syntax (case-insensitive).
pub(crate) fn is_keyword(s: &str) -> bool {
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(s))
}

fn lex(src: &str) -> PResult<Vec<(Tok, usize)>> {
    let b = src.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let tok = match c {
            b'(' => {
                i += 1;
                Tok::LParen
            }
            b')' => {
                i += 1;
                Tok::RParen
            }
            b',' => {
                i += 1;
                Tok::Comma
            }
            b'=' => {
                i += if b.get(i + 1) == Some(&b'=') { 2 } else { 1 };
                Tok::Op(CmpOp::Eq)
            }
            b'!' if b.get(i + 1) == Some(&b'=') => {
                i += 2;
                Tok::Op(CmpOp::Ne)
            }
            b'<' => match b.get(i + 1) {
                Some(b'=') => {
                    i += 2;
                    Tok::Op(CmpOp::Le)
                }
                Some(b'>') => {
                    i += 2;
                    Tok::Op(CmpOp::Ne)
                }
                _ => {
                    i += 1;
                    Tok::Op(CmpOp::Lt)
                }
            },
            b'>' => {
                if b.get(i + 1) == Some(&b'=') {
                    i += 2;
                    Tok::Op(CmpOp::Ge)
                } else {
                    i += 1;
                    Tok::Op(CmpOp::Gt)
                }
            }
            b'\'' => {
                let (s, end) = quoted(src, i, b'\'')?;
                i = end;
                Tok::Str(s)
            }
            b'"' | b'`' => {
                let (s, end) = quoted(src, i, c)?;
                i = end;
                if s.is_empty() {
                    return Err(PosError::new(Some(start), "empty quoted column name"));
                }
                Tok::Quoted(s)
            }
            b'x' | b'X' if b.get(i + 1) == Some(&b'\'') => {
                let (s, end) = quoted(src, i + 1, b'\'')?;
                i = end;
                Tok::Hex(hex(&s).ok_or_else(|| {
                    PosError::new(
                        Some(start),
                        format!("X'{s}' is not hexadecimal bytes (an even number of 0-9, a-f)"),
                    )
                })?)
            }
            b'0'..=b'9' | b'.' | b'-' | b'+' => {
                let (n, end) = number(src, i)?;
                i = end;
                Tok::Number(n)
            }
            _ if c == b'_' || c.is_ascii_alphabetic() || c >= 0x80 => {
                let rest = &src[i..];
                let len = rest
                    .char_indices()
                    .find(|(_, ch)| !(ch.is_alphanumeric() || *ch == '_' || *ch == '$'))
                    .map_or(rest.len(), |(p, _)| p);
                i += len;
                Tok::Ident(rest[..len].to_string())
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(PosError::new(
                    Some(start),
                    format!("unexpected character {ch:?}"),
                ));
            }
        };
        out.push((tok, start));
    }
    out.push((Tok::End, src.len()));
    Ok(out)
}

/// A quoted token starting at `start` (the quote): its text (doubled quotes unescaped) and the
/// position after the closing quote.
fn quoted(src: &str, start: usize, q: u8) -> PResult<(String, usize)> {
    let b = src.as_bytes();
    let mut i = start + 1;
    let mut s = String::new();
    let mut seg = i;
    while i < b.len() {
        if b[i] == q {
            s.push_str(&src[seg..i]);
            if b.get(i + 1) == Some(&q) {
                s.push(q as char);
                i += 2;
                seg = i;
                continue;
            }
            return Ok((s, i + 1));
        }
        i += 1;
    }
    Err(PosError::new(
        Some(start),
        format!("unterminated {} quote", q as char),
    ))
}

fn hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A numeric literal at `start`: `[+-]digits[.digits][e[+-]digits]`.
fn number(src: &str, start: usize) -> PResult<(String, usize)> {
    let b = src.as_bytes();
    let mut i = start;
    if matches!(b[i], b'-' | b'+') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let s = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - s
    };
    let mut n = digits(&mut i);
    if i < b.len() && b[i] == b'.' {
        i += 1;
        n += digits(&mut i);
    }
    if n == 0 {
        return Err(PosError::new(Some(start), "expected a number"));
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let save = i;
        i += 1;
        if i < b.len() && matches!(b[i], b'-' | b'+') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            i = save;
        }
    }
    if i < b.len() && (b[i].is_ascii_alphabetic() || b[i] == b'_') {
        return Err(PosError::new(
            Some(start),
            format!(
                "{:?} is neither a number nor a column name",
                &src[start..=i]
            ),
        ));
    }
    Ok((src[start..i].to_string(), i))
}

struct Parser<'a> {
    toks: Vec<(Tok, usize)>,
    at: usize,
    src: &'a str,
}

/// An operand of a test: a column or a literal.
enum Operand {
    Column(String, usize),
    Lit(Lit),
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("{s:?}"),
        Tok::Quoted(s) => format!("column {s:?}"),
        Tok::Number(n) => format!("number {n}"),
        Tok::Str(s) => format!("string '{s}'"),
        Tok::Hex(_) => "a bytes literal".into(),
        Tok::Op(o) => format!("'{}'", o.symbol()),
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::Comma => "','".into(),
        Tok::End => "the end of the expression".into(),
    }
}

impl<'a> Parser<'a> {
    fn peek(&self) -> &Tok {
        &self.toks[self.at].0
    }
    fn pos(&self) -> usize {
        self.toks[self.at].1
    }
    fn bump(&mut self) -> (Tok, usize) {
        let t = self.toks[self.at].clone();
        if self.at + 1 < self.toks.len() {
            self.at += 1;
        }
        t
    }
    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }
    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.bump();
            true
        } else {
            false
        }
    }
    fn expected(&self, what: &str) -> PosError {
        PosError::new(
            Some(self.pos()),
            format!("expected {what}, found {}", describe(self.peek())),
        )
    }
    fn expect(&mut self, tok: Tok, what: &str) -> PResult<()> {
        if *self.peek() == tok {
            self.bump();
            Ok(())
        } else {
            Err(self.expected(what))
        }
    }

    fn or(&mut self) -> PResult<Expr> {
        self.chain("OR", Self::and, ExprKind::Or)
    }

    fn and(&mut self) -> PResult<Expr> {
        self.chain("AND", Self::unary, ExprKind::And)
    }

    /// Operands parsed by `operand`, separated by keyword `kw`: the one operand alone, or
    /// `node` of all of them.
    fn chain(
        &mut self,
        kw: &str,
        operand: fn(&mut Self) -> PResult<Expr>,
        node: fn(Vec<Expr>) -> ExprKind,
    ) -> PResult<Expr> {
        let pos = self.pos();
        let mut parts = vec![operand(self)?];
        while self.eat_kw(kw) {
            parts.push(operand(self)?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Expr {
                kind: node(parts),
                pos: Some(pos),
            }
        })
    }

    fn unary(&mut self) -> PResult<Expr> {
        let pos = self.pos();
        if self.eat_kw("NOT") {
            let inner = self.unary()?;
            return Ok(Expr {
                kind: ExprKind::Not(Box::new(inner)),
                pos: Some(pos),
            });
        }
        if *self.peek() == Tok::LParen {
            self.bump();
            let e = self.or()?;
            self.expect(Tok::RParen, "')'")?;
            return Ok(e);
        }
        // A lone TRUE / FALSE (not followed by a comparison).
        for (kw, v) in [("TRUE", true), ("FALSE", false)] {
            if self.is_kw(kw) {
                let next = &self.toks[(self.at + 1).min(self.toks.len() - 1)].0;
                let lone = matches!(next, Tok::End | Tok::RParen)
                    || matches!(next, Tok::Ident(s) if s.eq_ignore_ascii_case("AND") || s.eq_ignore_ascii_case("OR"));
                if lone {
                    self.bump();
                    return Ok(Expr {
                        kind: ExprKind::Bool(v),
                        pos: Some(pos),
                    });
                }
            }
        }
        self.test()
    }

    fn operand(&mut self) -> PResult<Operand> {
        let pos = self.pos();
        let lit = |value| {
            Ok(Operand::Lit(Lit {
                value,
                pos: Some(pos),
            }))
        };
        match self.peek().clone() {
            Tok::Quoted(name) => {
                self.bump();
                Ok(Operand::Column(name, pos))
            }
            Tok::Number(n) => {
                self.bump();
                lit(Literal::Number(n))
            }
            Tok::Str(s) => {
                self.bump();
                lit(Literal::String(s))
            }
            Tok::Hex(b) => {
                self.bump();
                lit(Literal::Bytes(b))
            }
            Tok::Ident(word) => {
                let upper = word.to_ascii_uppercase();
                let typed = match upper.as_str() {
                    "DATE" => Some(TypedKeyword::Date),
                    "TIME" => Some(TypedKeyword::Time),
                    "TIMESTAMP" => Some(TypedKeyword::Timestamp),
                    _ => None,
                };
                if let Some(kw) = typed {
                    if let Tok::Str(s) = &self.toks[(self.at + 1).min(self.toks.len() - 1)].0 {
                        let s = s.clone();
                        self.bump();
                        self.bump();
                        return lit(Literal::Typed(kw, s));
                    }
                }
                match upper.as_str() {
                    "NULL" => {
                        self.bump();
                        lit(Literal::Null)
                    }
                    "TRUE" | "FALSE" => {
                        self.bump();
                        lit(Literal::Bool(upper == "TRUE"))
                    }
                    _ if is_keyword(&word) => Err(self.expected("a column or a value")),
                    _ => {
                        self.bump();
                        Ok(Operand::Column(word, pos))
                    }
                }
            }
            _ => Err(self.expected("a column or a value")),
        }
    }

    fn column_of(&self, o: Operand, role: &str) -> PResult<(String, usize)> {
        match o {
            Operand::Column(c, p) => Ok((c, p)),
            Operand::Lit(l) => Err(PosError::new(
                l.pos,
                format!(
                    "{role} must be a column name (quote names that look like values: \"name\")"
                ),
            )),
        }
    }

    fn lit_of(&self, o: Operand) -> PResult<Lit> {
        match o {
            Operand::Lit(l) => Ok(l),
            Operand::Column(c, p) => Err(PosError::new(
                Some(p),
                format!("expected a value, found column {c:?} (comparing two columns is not supported; quote text as 'text')"),
            )),
        }
    }

    fn test(&mut self) -> PResult<Expr> {
        let pos = self.pos();
        let left = self.operand()?;
        let at = |kind| {
            Ok(Expr {
                kind,
                pos: Some(pos),
            })
        };
        if let Tok::Op(op) = self.peek().clone() {
            self.bump();
            let right = self.operand()?;
            return match (left, right) {
                (Operand::Column(column, _), r) => {
                    let value = self.lit_of(r)?;
                    at(ExprKind::Compare { column, op, value })
                }
                (Operand::Lit(value), Operand::Column(column, _)) => at(ExprKind::Compare {
                    column,
                    op: op.flip(),
                    value,
                }),
                (Operand::Lit(l), Operand::Lit(_)) => Err(PosError::new(
                    l.pos,
                    "a comparison needs a column on one side",
                )),
            };
        }
        if self.eat_kw("IS") {
            let negated = self.eat_kw("NOT");
            if !self.eat_kw("NULL") {
                return Err(self.expected("NULL after IS [NOT]"));
            }
            let (column, _) = self.column_of(left, "the operand of IS NULL")?;
            return at(ExprKind::IsNull { column, negated });
        }
        let negated = self.eat_kw("NOT");
        if self.eat_kw("BETWEEN") {
            let (column, _) = self.column_of(left, "the operand of BETWEEN")?;
            let low = self.operand()?;
            let low = self.lit_of(low)?;
            if !self.eat_kw("AND") {
                return Err(self.expected("AND in BETWEEN low AND high"));
            }
            let high = self.operand()?;
            let high = self.lit_of(high)?;
            return at(ExprKind::Between {
                column,
                low,
                high,
                negated,
            });
        }
        if self.eat_kw("IN") {
            let (column, _) = self.column_of(left, "the operand of IN")?;
            self.expect(Tok::LParen, "'(' after IN")?;
            let mut list = vec![];
            loop {
                let o = self.operand()?;
                list.push(self.lit_of(o)?);
                if *self.peek() == Tok::Comma {
                    self.bump();
                    continue;
                }
                self.expect(Tok::RParen, "',' or ')' in the IN list")?;
                break;
            }
            return at(ExprKind::In {
                column,
                list,
                negated,
            });
        }
        if negated {
            return Err(self.expected("BETWEEN or IN after NOT"));
        }
        match left {
            Operand::Column(c, p) => Err(PosError::new(
                Some(self.pos()),
                format!(
                    "expected a comparison (=, <>, <, <=, >, >=, BETWEEN, IN, IS NULL) after column {c:?}, found {}",
                    describe(self.peek())
                ),
            ))
            .map_err(|e: PosError| if matches!(self.peek(), Tok::End) { PosError::new(Some(p), e.msg) } else { e }),
            Operand::Lit(l) => Err(PosError::new(
                l.pos,
                "expected a column name or a parenthesized condition",
            )),
        }
    }
}

/// Parses `--where` text.
pub(crate) fn parse(src: &str) -> Result<Expr, PosError> {
    if src.trim().is_empty() {
        return Err(PosError::new(None, "the expression is empty"));
    }
    let toks = lex(src)?;
    let mut p = Parser { toks, at: 0, src };
    let e = p.or()?;
    if *p.peek() != Tok::End {
        let _ = p.src;
        return Err(p.expected("AND, OR or the end of the expression"));
    }
    Ok(e)
}
