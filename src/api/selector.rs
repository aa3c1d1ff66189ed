//! Label and field selectors, parsed and matched as apimachinery's `labels.Parse` and
//! `fields.ParseSelector` do, with their error messages. Matching allocates nothing.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1 as metav1;

use super::validation::{FieldError, Value, aggregate, names};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SelectorError(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Equals,
    DoubleEquals,
    NotEquals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
    GreaterThan,
    LessThan,
}

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    /// Sorted and without duplicates, as Kubernetes keeps them.
    pub values: Vec<String>,
}

impl Requirement {
    /// `labels.NewRequirement`: the key, the values and their count are checked.
    pub fn new(
        key: &str,
        operator: Operator,
        mut values: Vec<String>,
    ) -> Result<Self, SelectorError> {
        values.sort();
        values.dedup();
        let mut errs = Vec::new();
        let key_errs = names::is_qualified_name(key);
        if !key_errs.is_empty() {
            errs.push(FieldError::invalid("key", key, key_errs.join("; ")));
        }
        let n = values.len();
        let values_value = || Value::raw(go_slice(&values));
        match operator {
            Operator::In | Operator::NotIn if n == 0 => errs.push(FieldError::invalid(
                "values",
                values_value(),
                "for 'in', 'notin' operators, values set can't be empty",
            )),
            Operator::Equals | Operator::DoubleEquals | Operator::NotEquals if n != 1 => {
                errs.push(FieldError::invalid(
                    "values",
                    values_value(),
                    "exact-match compatibility requires one single value",
                ))
            }
            Operator::Exists | Operator::DoesNotExist if n != 0 => errs.push(FieldError::invalid(
                "values",
                values_value(),
                "values set must be empty for exists and does not exist",
            )),
            Operator::GreaterThan | Operator::LessThan => {
                if n != 1 {
                    errs.push(FieldError::invalid(
                        "values",
                        values_value(),
                        "for 'Gt', 'Lt' operators, exactly one value is required",
                    ));
                }
                for (i, v) in values.iter().enumerate() {
                    if v.parse::<i64>().is_err() {
                        errs.push(FieldError::invalid(
                            format!("values[{i}]"),
                            v.as_str(),
                            "for 'Gt', 'Lt' operators, the value must be an integer",
                        ));
                    }
                }
            }
            _ => {}
        }
        for (i, v) in values.iter().enumerate() {
            let value_errs = names::is_valid_label_value(v);
            if !value_errs.is_empty() {
                errs.push(FieldError::invalid(
                    format!("values[{i}][{key}]"),
                    v.as_str(),
                    value_errs.join("; "),
                ));
            }
        }
        if !errs.is_empty() {
            return Err(SelectorError(aggregate(&errs)));
        }
        Ok(Requirement {
            key: key.to_string(),
            operator,
            values,
        })
    }

    pub fn matches(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        let value = labels.and_then(|l| l.get(&self.key));
        let listed = |v: &String| self.values.binary_search(v).is_ok();
        match self.operator {
            Operator::Equals | Operator::DoubleEquals | Operator::In => value.is_some_and(listed),
            Operator::NotEquals | Operator::NotIn => !value.is_some_and(listed),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let (Some(have), Some(want)) = (
                    value.and_then(|v| v.parse::<i64>().ok()),
                    self.values.first().and_then(|v| v.parse::<i64>().ok()),
                ) else {
                    return false;
                };
                if self.operator == Operator::GreaterThan {
                    have > want
                } else {
                    have < want
                }
            }
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let joined = || self.values.join(",");
        match self.operator {
            Operator::Exists => write!(f, "{}", self.key),
            Operator::DoesNotExist => write!(f, "!{}", self.key),
            Operator::Equals => write!(f, "{}={}", self.key, joined()),
            Operator::DoubleEquals => write!(f, "{}=={}", self.key, joined()),
            Operator::NotEquals => write!(f, "{}!={}", self.key, joined()),
            Operator::GreaterThan => write!(f, "{}>{}", self.key, joined()),
            Operator::LessThan => write!(f, "{}<{}", self.key, joined()),
            Operator::In => write!(f, "{} in ({})", self.key, joined()),
            Operator::NotIn => write!(f, "{} notin ({})", self.key, joined()),
        }
    }
}

/// A label selector: every requirement must hold. `nothing()` matches no object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
    nothing: bool,
}

impl LabelSelector {
    /// Matches every object.
    pub fn everything() -> Self {
        LabelSelector {
            requirements: Vec::new(),
            nothing: false,
        }
    }

    /// Matches no object (a nil `metav1.LabelSelector`).
    pub fn nothing() -> Self {
        LabelSelector {
            requirements: Vec::new(),
            nothing: true,
        }
    }

    /// Parses the `labelSelector` query syntax (`a=b,c!=d,e in (f,g),!h,i`).
    pub fn parse(selector: &str) -> Result<Self, SelectorError> {
        let mut requirements = Parser::new(selector).parse()?;
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(LabelSelector {
            requirements,
            nothing: false,
        })
    }

    /// `metav1.LabelSelectorAsSelector` for a present selector: matchLabels and matchExpressions;
    /// an empty one matches everything.
    pub fn from_k8s(selector: &metav1::LabelSelector) -> Result<Self, SelectorError> {
        let mut requirements = Vec::new();
        for (k, v) in selector.match_labels.iter().flatten() {
            requirements.push(Requirement::new(k, Operator::Equals, vec![v.clone()])?);
        }
        for expr in selector.match_expressions.iter().flatten() {
            let operator = match expr.operator.as_str() {
                "In" => Operator::In,
                "NotIn" => Operator::NotIn,
                "Exists" => Operator::Exists,
                "DoesNotExist" => Operator::DoesNotExist,
                other => {
                    return Err(SelectorError(format!(
                        "{other:?} is not a valid label selector operator"
                    )));
                }
            };
            requirements.push(Requirement::new(
                &expr.key,
                operator,
                expr.values.clone().unwrap_or_default(),
            )?);
        }
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(LabelSelector {
            requirements,
            nothing: false,
        })
    }

    /// `metav1.LabelSelectorAsSelector`: a nil selector matches nothing, an empty one everything.
    pub fn from_k8s_option(
        selector: Option<&metav1::LabelSelector>,
    ) -> Result<Self, SelectorError> {
        match selector {
            Some(s) => LabelSelector::from_k8s(s),
            None => Ok(LabelSelector::nothing()),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty() && !self.nothing
    }

    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    pub fn matches(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        !self.nothing && self.requirements.iter().all(|r| r.matches(labels))
    }
}

impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.requirements.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join(","))
    }
}

/// `[a b]`, as Go prints a string slice.
fn go_slice(values: &[String]) -> String {
    format!("[{}]", values.join(" "))
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    End,
    Identifier(String),
    DoesNotExist,
    Equals,
    DoubleEquals,
    NotEquals,
    GreaterThan,
    LessThan,
    In,
    NotIn,
    OpenPar,
    ClosedPar,
    Comma,
    Error(String),
}

impl Token {
    /// The literal as the Kubernetes parser quotes it in errors.
    fn literal(&self) -> &str {
        match self {
            Token::End => "",
            Token::Identifier(s) | Token::Error(s) => s,
            Token::DoesNotExist => "!",
            Token::Equals => "=",
            Token::DoubleEquals => "==",
            Token::NotEquals => "!=",
            Token::GreaterThan => ">",
            Token::LessThan => "<",
            Token::In => "in",
            Token::NotIn => "notin",
            Token::OpenPar => "(",
            Token::ClosedPar => ")",
            Token::Comma => ",",
        }
    }

    /// In a values context `in` and `notin` are plain identifiers.
    fn into_value(self) -> Token {
        match self {
            Token::In => Token::Identifier("in".into()),
            Token::NotIn => Token::Identifier("notin".into()),
            other => other,
        }
    }
}

fn keyword(s: &str) -> Option<Token> {
    Some(match s {
        "!" => Token::DoesNotExist,
        "=" => Token::Equals,
        "==" => Token::DoubleEquals,
        "!=" => Token::NotEquals,
        ">" => Token::GreaterThan,
        "<" => Token::LessThan,
        "in" => Token::In,
        "notin" => Token::NotIn,
        "(" => Token::OpenPar,
        ")" => Token::ClosedPar,
        "," => Token::Comma,
        _ => return None,
    })
}

fn is_special(b: u8) -> bool {
    matches!(b, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn lex(s: &str) -> Vec<Token> {
    let bytes = s.as_bytes();
    let mut pos = 0;
    let mut tokens = Vec::new();
    loop {
        while pos < bytes.len() && is_space(bytes[pos]) {
            pos += 1;
        }
        if pos >= bytes.len() {
            tokens.push(Token::End);
            return tokens;
        }
        if is_special(bytes[pos]) {
            // The longest run of special symbols that still forms an operator.
            let mut end = pos;
            let mut last: Option<(Token, usize)> = None;
            while end < bytes.len() && is_special(bytes[end]) {
                end += 1;
                match keyword(&s[pos..end]) {
                    Some(tok) => last = Some((tok, end)),
                    None if last.is_some() => break,
                    None => {}
                }
            }
            match last {
                Some((tok, stop)) => {
                    tokens.push(tok);
                    pos = stop;
                }
                None => {
                    tokens.push(Token::Error(format!(
                        "error expected: keyword found '{}'",
                        &s[pos..end]
                    )));
                    pos = end;
                }
            }
        } else {
            let start = pos;
            while pos < bytes.len() && !is_special(bytes[pos]) && !is_space(bytes[pos]) {
                pos += 1;
            }
            let word = &s[start..pos];
            tokens.push(match word {
                "in" => Token::In,
                "notin" => Token::NotIn,
                _ => Token::Identifier(word.to_string()),
            });
        }
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

fn err<T>(message: String) -> Result<T, SelectorError> {
    Err(SelectorError(message))
}

impl Parser {
    fn new(s: &str) -> Self {
        Parser {
            tokens: lex(s),
            at: 0,
        }
    }

    fn peek(&self) -> Token {
        self.tokens
            .get(self.at)
            .cloned()
            .unwrap_or(Token::End)
            .into_value()
    }

    fn peek_raw(&self) -> Token {
        self.tokens.get(self.at).cloned().unwrap_or(Token::End)
    }

    fn next(&mut self) -> Token {
        let tok = self.peek();
        self.at += 1;
        tok
    }

    fn next_raw(&mut self) -> Token {
        let tok = self.peek_raw();
        self.at += 1;
        tok
    }

    fn parse(&mut self) -> Result<Vec<Requirement>, SelectorError> {
        let mut out = Vec::new();
        loop {
            match self.peek() {
                Token::Identifier(_) | Token::DoesNotExist => {
                    let r = self
                        .requirement()
                        .map_err(|e| SelectorError(format!("unable to parse requirement: {e}")))?;
                    out.push(r);
                    match self.next() {
                        Token::End => return Ok(out),
                        Token::Comma => match self.peek() {
                            Token::Identifier(_) | Token::DoesNotExist => {}
                            t => {
                                return err(format!(
                                    "found '{}', expected: identifier after ','",
                                    t.literal()
                                ));
                            }
                        },
                        t => {
                            return err(format!(
                                "found '{}', expected: ',' or 'end of string'",
                                t.literal()
                            ));
                        }
                    }
                }
                Token::End => return Ok(out),
                t => {
                    return err(format!(
                        "found '{}', expected: !, identifier, or 'end of string'",
                        t.literal()
                    ));
                }
            }
        }
    }

    fn requirement(&mut self) -> Result<Requirement, SelectorError> {
        let mut negated = false;
        let mut tok = self.next();
        if tok == Token::DoesNotExist {
            negated = true;
            tok = self.next();
        }
        let Token::Identifier(key) = tok else {
            return err(format!("found '{}', expected: identifier", tok.literal()));
        };
        let key_errs = names::is_qualified_name(&key);
        if !key_errs.is_empty() {
            return err(format!(
                "<nil>: Invalid value: {}: {}",
                super::validation::field::go_quote(&key),
                key_errs.join("; ")
            ));
        }
        if matches!(self.peek(), Token::End | Token::Comma) {
            let op = if negated {
                Operator::DoesNotExist
            } else {
                Operator::Exists
            };
            return Requirement::new(&key, op, Vec::new());
        }
        if negated {
            return Requirement::new(&key, Operator::DoesNotExist, Vec::new());
        }
        let operator = match self.next_raw() {
            Token::In => Operator::In,
            Token::Equals => Operator::Equals,
            Token::DoubleEquals => Operator::DoubleEquals,
            Token::GreaterThan => Operator::GreaterThan,
            Token::LessThan => Operator::LessThan,
            Token::NotIn => Operator::NotIn,
            Token::NotEquals => Operator::NotEquals,
            t => {
                return err(format!(
                    "found '{}', expected: in, notin, =, ==, !=, gt, lt",
                    t.literal()
                ));
            }
        };
        let values = match operator {
            Operator::In | Operator::NotIn => self.set_values()?,
            _ => self.exact_value()?,
        };
        Requirement::new(&key, operator, values)
    }

    fn set_values(&mut self) -> Result<Vec<String>, SelectorError> {
        let tok = self.next();
        if tok != Token::OpenPar {
            return err(format!("found '{}' expected: '('", tok.literal()));
        }
        match self.peek() {
            Token::Identifier(_) | Token::Comma => {
                let lit = self.peek();
                let values = self.identifier_list()?;
                if self.next() != Token::ClosedPar {
                    return err(format!("found '{}', expected: ')'", lit.literal()));
                }
                Ok(values)
            }
            Token::ClosedPar => {
                self.next();
                Ok(vec![String::new()])
            }
            t => err(format!(
                "found '{}', expected: ',', ')' or identifier",
                t.literal()
            )),
        }
    }

    fn identifier_list(&mut self) -> Result<Vec<String>, SelectorError> {
        let mut values: Vec<String> = Vec::new();
        loop {
            match self.next() {
                Token::Identifier(v) => {
                    values.push(v);
                    match self.peek() {
                        Token::Comma => continue,
                        Token::ClosedPar => return Ok(values),
                        t => return err(format!("found '{}', expected: ',' or ')'", t.literal())),
                    }
                }
                Token::Comma => {
                    if values.is_empty() {
                        values.push(String::new());
                    }
                    match self.peek() {
                        Token::ClosedPar => {
                            values.push(String::new());
                            return Ok(values);
                        }
                        Token::Comma => values.push(String::new()),
                        _ => {}
                    }
                }
                t => {
                    return err(format!(
                        "found '{}', expected: ',', or identifier",
                        t.literal()
                    ));
                }
            }
        }
    }

    fn exact_value(&mut self) -> Result<Vec<String>, SelectorError> {
        if matches!(self.peek(), Token::End | Token::Comma) {
            return Ok(vec![String::new()]);
        }
        match self.next() {
            Token::Identifier(v) => Ok(vec![v]),
            t => err(format!("found '{}', expected: identifier", t.literal())),
        }
    }
}

/// One `field=value` / `field!=value` term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldTerm {
    pub field: String,
    pub value: String,
    pub negated: bool,
}

/// A field selector: every term must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelector {
    terms: Vec<FieldTerm>,
}

impl FieldSelector {
    pub fn everything() -> Self {
        FieldSelector::default()
    }

    /// Parses the `fieldSelector` query syntax (`a=b,c!=d`, with `\,` `\=` `\\` escapes).
    pub fn parse(selector: &str) -> Result<Self, SelectorError> {
        let mut parts = split_terms(selector);
        parts.sort();
        let mut terms = Vec::new();
        for part in parts.iter().filter(|p| !p.is_empty()) {
            let Some((field, op, rhs)) = split_term(part) else {
                return err(format!(
                    "invalid selector: '{selector}'; can't understand '{part}'"
                ));
            };
            terms.push(FieldTerm {
                field: field.to_string(),
                value: unescape(rhs)?,
                negated: op == "!=",
            });
        }
        Ok(FieldSelector { terms })
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    pub fn terms(&self) -> &[FieldTerm] {
        &self.terms
    }

    /// The fields the selector names.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.terms.iter().map(|t| t.field.as_str())
    }

    /// The value an `=` term requires of `field`, for index lookups.
    pub fn required_value(&self, field: &str) -> Option<&str> {
        self.terms
            .iter()
            .find(|t| !t.negated && t.field == field)
            .map(|t| t.value.as_str())
    }

    /// `get` returns a field's value; an unknown field reads as empty, as `fields.Set.Get` does.
    pub fn matches(&self, get: impl Fn(&str) -> Option<String>) -> bool {
        self.terms.iter().all(|t| {
            let value = get(&t.field);
            let equal = value.as_deref().unwrap_or("") == t.value;
            equal != t.negated
        })
    }
}

impl fmt::Display for FieldSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .terms
            .iter()
            .map(|t| {
                let op = if t.negated { "!=" } else { "=" };
                format!("{}{op}{}", t.field, escape(&t.value))
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace(',', "\\,")
        .replace('=', "\\=")
}

/// Splits on commas not escaped by a backslash.
fn split_terms(s: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            current.push(c);
            escaped = false;
        } else if c == '\\' {
            current.push(c);
            escaped = true;
        } else if c == ',' {
            terms.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    terms.push(current);
    terms
}

/// The first operator (`!=`, `==`, `=`) outside an escape, left to right.
fn split_term(term: &str) -> Option<(&str, &'static str, &str)> {
    let mut escaped = false;
    for (i, c) in term.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        if c == '\\' {
            escaped = true;
            continue;
        }
        let rest = &term[i..];
        for op in ["!=", "==", "="] {
            if rest.starts_with(op) {
                return Some((&term[..i], op, &term[i + op.len()..]));
            }
        }
    }
    None
}

fn unescape(s: &str) -> Result<String, SelectorError> {
    let mut out = String::with_capacity(s.len());
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            match c {
                '\\' | ',' | '=' => out.push(c),
                other => {
                    return err(format!(
                        "invalid field selector: invalid escape sequence: \\{other}"
                    ));
                }
            }
            escaped = false;
        } else {
            match c {
                '\\' => escaped = true,
                // Go prints the rune with %v: its code point.
                ',' | '=' => {
                    return err(format!(
                        "invalid field selector: unescaped character in value: {}",
                        u32::from(c)
                    ));
                }
                other => out.push(other),
            }
        }
    }
    if escaped {
        return err("invalid field selector: invalid escape sequence: \\".to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_operator_matches_as_kubernetes() {
        let l = labels(&[("app", "web"), ("tier", "front"), ("n", "5")]);
        let m = |s: &str| LabelSelector::parse(s).unwrap().matches(Some(&l));
        assert!(m("app=web") && m("app==web") && m("app!=db") && m("missing!=x"));
        assert!(m("app in (web,db)") && m("app notin (db)") && m("missing notin (x)"));
        assert!(m("app") && m("!missing") && !m("!app") && !m("missing"));
        assert!(m("n>4") && m("n<6") && !m("n>5") && !m("app>1"));
        assert!(m("app=web,tier=front") && !m("app=web,tier=back"));
        assert!(m("") && m("  app = web ,  tier in ( front ) "));
        assert!(!LabelSelector::parse("app").unwrap().matches(None));
        assert!(LabelSelector::parse("!app").unwrap().matches(None));
        assert!(!LabelSelector::nothing().matches(Some(&l)));
        // `in` as a value is just a value.
        assert!(LabelSelector::parse("x in (in,notin)").is_ok());
    }

    #[test]
    fn label_selector_objects_match_as_label_selector_as_selector() {
        let l = labels(&[("app", "web"), ("tier", "front")]);
        let sel = |json: serde_json::Value| {
            let s: metav1::LabelSelector = serde_json::from_value(json).unwrap();
            LabelSelector::from_k8s_option(Some(&s))
        };
        let m = |json| sel(json).unwrap().matches(Some(&l));
        assert!(
            !LabelSelector::from_k8s_option(None)
                .unwrap()
                .matches(Some(&l))
        );
        assert!(
            m(serde_json::json!({})),
            "an empty selector selects everything"
        );
        assert!(m(serde_json::json!({"matchLabels": {"app": "web"}})));
        assert!(!m(serde_json::json!({"matchLabels": {"app": "db"}})));
        let expr = |op: &str, values: &[&str]| serde_json::json!({"matchExpressions": [{"key": "app", "operator": op, "values": values}]});
        assert!(m(expr("In", &["db", "web"])) && !m(expr("In", &["db"])));
        assert!(m(expr("NotIn", &["db"])) && !m(expr("NotIn", &["web"])));
        assert!(m(expr("Exists", &[])) && !m(expr("DoesNotExist", &[])));
        assert!(m(
            serde_json::json!({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]})
        ));
        assert_eq!(
            sel(expr("Gt", &["1"])).unwrap_err().to_string(),
            "\"Gt\" is not a valid label selector operator"
        );
    }

    #[test]
    fn renders_sorted_like_kubernetes() {
        let s = LabelSelector::parse("z notin (b,a),a=1,!m,k in (y,x)").unwrap();
        assert_eq!(s.to_string(), "a=1,k in (x,y),!m,z notin (a,b)");
    }

    #[test]
    fn errors_carry_kubernetes_messages() {
        let e = |s: &str| LabelSelector::parse(s).unwrap_err().to_string();
        assert_eq!(e("app=web,"), "found '', expected: identifier after ','");
        assert_eq!(e("app=web)"), "found ')', expected: ',' or 'end of string'");
        assert_eq!(
            e("(app)"),
            "found '(', expected: !, identifier, or 'end of string'"
        );
        assert_eq!(
            e("app in web"),
            "unable to parse requirement: found 'web' expected: '('"
        );
        assert_eq!(
            e("app in (a b)"),
            "unable to parse requirement: found 'b', expected: ',' or ')'"
        );
        assert_eq!(
            e("app ~ x"),
            "unable to parse requirement: found '~', expected: in, notin, =, ==, !=, gt, lt"
        );
        assert_eq!(
            e("bad key=x"),
            "unable to parse requirement: found 'key', expected: in, notin, =, ==, !=, gt, lt"
        );
        let msg = e("Bad_/x=1");
        assert!(
            msg.starts_with("unable to parse requirement: <nil>: Invalid value: \"Bad_/x\": "),
            "{msg}"
        );
        let msg = e("app=-bad-");
        assert!(msg.starts_with("unable to parse requirement: values[0][app]: Invalid value: \"-bad-\": a valid label must be"), "{msg}");
        assert_eq!(
            e("n>x"),
            "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an integer"
        );
    }

    #[test]
    fn from_k8s_reads_match_labels_and_expressions() {
        let sel = metav1::LabelSelector {
            match_labels: Some([("app".to_string(), "web".to_string())].into()),
            match_expressions: Some(vec![metav1::LabelSelectorRequirement {
                key: "tier".into(),
                operator: "In".into(),
                values: Some(vec!["front".into()]),
            }]),
        };
        let s = LabelSelector::from_k8s(&sel).unwrap();
        assert!(s.matches(Some(&labels(&[("app", "web"), ("tier", "front")]))));
        assert!(!s.matches(Some(&labels(&[("app", "web")]))));
        assert!(
            LabelSelector::from_k8s(&metav1::LabelSelector::default())
                .unwrap()
                .is_empty()
        );
        let bad = metav1::LabelSelector {
            match_expressions: Some(vec![metav1::LabelSelectorRequirement {
                key: "tier".into(),
                operator: "Near".into(),
                values: None,
            }]),
            ..Default::default()
        };
        assert_eq!(
            LabelSelector::from_k8s(&bad).unwrap_err().to_string(),
            "\"Near\" is not a valid label selector operator"
        );
    }

    #[test]
    fn field_selectors_parse_escape_and_match() {
        let s = FieldSelector::parse("spec.nodeName=node-1,status.phase!=Failed").unwrap();
        let get = |f: &str| match f {
            "spec.nodeName" => Some("node-1".to_string()),
            "status.phase" => Some("Running".to_string()),
            _ => None,
        };
        assert!(s.matches(get));
        assert_eq!(s.required_value("spec.nodeName"), Some("node-1"));
        assert_eq!(
            s.fields().collect::<Vec<_>>(),
            ["spec.nodeName", "status.phase"]
        );
        // An empty value selects objects where the field is empty (unbound pods).
        let unbound = FieldSelector::parse("spec.nodeName=").unwrap();
        assert!(unbound.matches(|_| Some(String::new())));
        assert!(!unbound.matches(get));
        let escaped = FieldSelector::parse(r"metadata.name=a\,b\=c").unwrap();
        assert_eq!(escaped.terms()[0].value, "a,b=c");
        assert_eq!(escaped.to_string(), r"metadata.name=a\,b\=c");
        let e = |s: &str| FieldSelector::parse(s).unwrap_err().to_string();
        assert_eq!(
            e("nonsense"),
            "invalid selector: 'nonsense'; can't understand 'nonsense'"
        );
        assert_eq!(
            e(r"a=b\x"),
            r"invalid field selector: invalid escape sequence: \x"
        );
        assert_eq!(
            e(r"a=b\"),
            r"invalid field selector: invalid escape sequence: \"
        );
        assert_eq!(
            e("a=b=c"),
            "invalid field selector: unescaped character in value: 61"
        );
        assert!(FieldSelector::parse("").unwrap().is_empty());
    }

    #[test]
    fn parsers_never_panic() {
        let alphabet = [
            "a", "=", "!", "(", ")", ",", " ", "in", "notin", "\\", ">", "<", "é", "-", "/",
        ];
        let mut seed = 0x9e37_79b9_u64;
        for _ in 0..20_000 {
            let mut s = String::new();
            for _ in 0..(seed % 9) {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                s.push_str(alphabet[(seed >> 33) as usize % alphabet.len()]);
            }
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            let _ = LabelSelector::parse(&s);
            let _ = FieldSelector::parse(&s);
        }
    }
}
