//! Resource quantities (`500m`, `1.5Gi`, `1e3`) exactly as apimachinery's
//! `resource.ParseQuantity` reads them in Kubernetes v1.32.
//!
//! This module owns parsing, comparison, the integer accessors used by the scheduler and
//! kubelet (`value()`, `milli_value()`), and the canonical string form the API server
//! writes back (`1.5` → `1500m`, `1024Mi` → `1Gi`).
//!
//! A quantity is held as a fixed-point number of nano-units (`i128`). Kubernetes stores
//! arbitrary precision decimals; kubox refuses magnitudes above about 1.7e29 units with
//! [`QuantityError::OutOfRange`] instead of overflowing. Everything Kubernetes can round-trip
//! below that limit is reproduced, including its quirks:
//! - values are rounded *away from zero* to a whole nano-unit (`0.1n` → `1n`);
//! - binary-suffixed values are capped at 2^63-1 (`16Ei` → `9223372036854775807`);
//! - a string that is already in canonical form is echoed back unchanged (`+1`, `01Gi`),
//!   as Go keeps the original text in that case.

use std::cmp::Ordering;
use std::fmt;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;

/// The regular expression Kubernetes quotes in [`QuantityError::FormatWrong`].
pub const SPLIT_RE_STRING: &str = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

const NANOS_PER_UNIT: i128 = 1_000_000_000;
const NANOS_PER_MILLI: i128 = 1_000_000;
/// Largest binary-suffixed value Kubernetes keeps (`maxAllowed`, 2^63-1 units), in nanos.
const MAX_BINARY_NANOS: i128 = i64::MAX as i128 * NANOS_PER_UNIT;
/// More decimal digits than this can never fit an `i128`.
const MAX_DIGITS: usize = 39;

/// How a quantity is written back: the suffix family it was parsed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// `m`, `k`, `M`, ... (powers of 1000), or no suffix.
    DecimalSI,
    /// `Ki`, `Mi`, `Gi`, ... (powers of 1024).
    BinarySI,
    /// `e3`, `E-2`.
    DecimalExponent,
}

/// Why a string is not a quantity. `Display` gives Kubernetes' own messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuantityError {
    /// Go `ErrFormatWrong`.
    FormatWrong,
    /// Go `ErrNumeric`.
    Numeric,
    /// Go `ErrSuffix`.
    Suffix,
    /// kubox only: the magnitude does not fit kubox's fixed-point representation.
    OutOfRange,
}

impl fmt::Display for QuantityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FormatWrong => write!(
                f,
                "quantities must match the regular expression '{SPLIT_RE_STRING}'"
            ),
            Self::Numeric => f.write_str("unable to parse numeric part of quantity"),
            Self::Suffix => f.write_str("unable to parse quantity's suffix"),
            Self::OutOfRange => {
                f.write_str("quantity is too large: kubox supports magnitudes below 1.7e29")
            }
        }
    }
}

impl std::error::Error for QuantityError {}

/// A parsed resource quantity. Equality and ordering compare the numeric value only.
#[derive(Clone, Debug)]
pub struct Quantity {
    nanos: i128,
    format: Format,
    /// The input text when Go would keep it verbatim (already canonical).
    original: Option<String>,
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.nanos == other.nanos
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        self.nanos.cmp(&other.nanos)
    }
}

impl std::hash::Hash for Quantity {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.nanos.hash(state);
    }
}

impl Default for Quantity {
    fn default() -> Self {
        Self::from_nanos(0, Format::DecimalSI)
    }
}

impl std::str::FromStr for Quantity {
    type Err = QuantityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Quantity {
    /// Parses `s` like Go's `resource.ParseQuantity` (no whitespace trimming).
    pub fn parse(s: &str) -> Result<Quantity, QuantityError> {
        if s.is_empty() {
            return Err(QuantityError::FormatWrong);
        }
        if s == "0" {
            return Ok(Quantity {
                nanos: 0,
                format: Format::DecimalSI,
                original: Some(s.to_string()),
            });
        }
        let parts = scan(s)?;
        let suffix = interpret_suffix(parts.suffix).ok_or(QuantityError::Suffix)?;
        let magnitude = magnitude_nanos(&parts, suffix)?;
        let format = if suffix.format == Format::BinarySI && magnitude < NANOS_PER_UNIT {
            // Go: a binary value between 0 and 1 is shown as DecimalSI.
            if magnitude > 0 {
                Format::DecimalSI
            } else {
                Format::BinarySI
            }
        } else {
            suffix.format
        };
        let nanos = if parts.positive {
            magnitude
        } else {
            -magnitude
        };
        let original = keeps_original(&parts, suffix).then(|| s.to_string());
        Ok(Quantity {
            nanos,
            format,
            original,
        })
    }

    /// Parses a k8s-openapi quantity; surrounding whitespace is ignored, as Go's
    /// `Quantity.UnmarshalJSON` trims it.
    pub fn from_k8s(q: &K8sQuantity) -> Result<Quantity, QuantityError> {
        Self::parse(q.0.trim())
    }

    /// Builds a quantity from nano-units, written in `format`.
    pub fn from_nanos(nanos: i128, format: Format) -> Quantity {
        Quantity {
            nanos,
            format,
            original: None,
        }
    }

    /// Builds a DecimalSI quantity from milli-units (`from_milli(1500)` is `1500m`).
    pub fn from_milli(milli: i64) -> Quantity {
        Self::from_nanos(i128::from(milli) * NANOS_PER_MILLI, Format::DecimalSI)
    }

    /// The value in nano-units (1e-9).
    pub fn nanos(&self) -> i128 {
        self.nanos
    }

    /// The suffix family used when the quantity is written back.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Whole units, rounded away from zero like Go's `Quantity.Value()` (`1.2` → 2).
    pub fn value(&self) -> i128 {
        div_away_from_zero(self.nanos, NANOS_PER_UNIT)
    }

    /// Milli-units, rounded away from zero like Go's `Quantity.MilliValue()`.
    pub fn milli_value(&self) -> i128 {
        div_away_from_zero(self.nanos, NANOS_PER_MILLI)
    }

    /// True when the value is below zero.
    pub fn is_negative(&self) -> bool {
        self.nanos < 0
    }

    /// True when the value is exactly zero.
    pub fn is_zero(&self) -> bool {
        self.nanos == 0
    }

    /// Sum of two quantities (format of `self`); `None` on overflow.
    pub fn checked_add(&self, other: &Quantity) -> Option<Quantity> {
        let nanos = self.nanos.checked_add(other.nanos)?;
        Some(Self::from_nanos(nanos, self.format))
    }

    /// Rounds up to milli precision like `SetDefaults_ResourceList` (`0.5m` → `1m`).
    /// The original text is kept only when no rounding was needed, as in Go.
    pub fn round_up_milli(&self) -> Quantity {
        if self.nanos % NANOS_PER_MILLI == 0 {
            return self.clone();
        }
        let milli = div_away_from_zero(self.nanos, NANOS_PER_MILLI);
        Quantity {
            nanos: milli * NANOS_PER_MILLI,
            format: self.format,
            original: None,
        }
    }

    /// The quantity as a k8s-openapi value, in canonical form.
    pub fn to_k8s(&self) -> K8sQuantity {
        K8sQuantity(self.to_string())
    }
}

impl fmt::Display for Quantity {
    /// Go's `Quantity.String()`: the original text if it was canonical, else canonical form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.original {
            Some(text) => f.write_str(text),
            None => f.write_str(&canonical(self.nanos, self.format)),
        }
    }
}

/// Integer division rounding away from zero.
fn div_away_from_zero(n: i128, d: i128) -> i128 {
    let q = n / d;
    match (n % d).cmp(&0) {
        Ordering::Greater => q + 1,
        Ordering::Less => q - 1,
        Ordering::Equal => q,
    }
}

/// The pieces Go's `parseQuantityString` extracts.
struct Parts<'a> {
    positive: bool,
    /// Integer digits without leading zeros; "0" when none remain.
    num: &'a str,
    denom: &'a str,
    suffix: &'a str,
}

fn scan(s: &str) -> Result<Parts<'_>, QuantityError> {
    let bytes = s.as_bytes();
    let end = bytes.len();
    let mut pos = 0;
    let mut positive = true;
    match bytes.first() {
        Some(b'-') => {
            positive = false;
            pos += 1;
        }
        Some(b'+') => pos += 1,
        _ => {}
    }
    while pos < end && bytes[pos] == b'0' {
        pos += 1;
    }
    if pos >= end {
        return Ok(Parts {
            positive,
            num: "0",
            denom: "",
            suffix: "",
        });
    }
    let num_start = pos;
    pos = skip_digits(bytes, pos);
    let num = match &s[num_start..pos] {
        "" => "0",
        digits => digits,
    };
    let mut denom = "";
    if pos < end && bytes[pos] == b'.' {
        let denom_start = pos + 1;
        pos = skip_digits(bytes, denom_start);
        denom = &s[denom_start..pos];
    }
    let suffix_start = pos;
    while pos < end && b"eEinumkKMGTP".contains(&bytes[pos]) {
        pos += 1;
    }
    if pos < end && (bytes[pos] == b'-' || bytes[pos] == b'+') {
        pos += 1;
    }
    pos = skip_digits(bytes, pos);
    if pos < end {
        return Err(QuantityError::FormatWrong);
    }
    Ok(Parts {
        positive,
        num,
        denom,
        suffix: &s[suffix_start..],
    })
}

fn skip_digits(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() && bytes[pos].is_ascii_digit() {
        pos += 1;
    }
    pos
}

/// What a suffix means: `value × base^exponent`.
#[derive(Clone, Copy)]
struct Suffix {
    base: u32,
    exponent: i64,
    format: Format,
}

const DECIMAL_SUFFIXES: [(&str, i64); 10] = [
    ("n", -9),
    ("u", -6),
    ("m", -3),
    ("", 0),
    ("k", 3),
    ("M", 6),
    ("G", 9),
    ("T", 12),
    ("P", 15),
    ("E", 18),
];

const BINARY_SUFFIXES: [(&str, i64); 7] = [
    ("", 0),
    ("Ki", 10),
    ("Mi", 20),
    ("Gi", 30),
    ("Ti", 40),
    ("Pi", 50),
    ("Ei", 60),
];

fn interpret_suffix(suffix: &str) -> Option<Suffix> {
    if let Some((_, exponent)) = DECIMAL_SUFFIXES.iter().find(|(s, _)| *s == suffix) {
        return Some(Suffix {
            base: 10,
            exponent: *exponent,
            format: Format::DecimalSI,
        });
    }
    if let Some((_, exponent)) = BINARY_SUFFIXES[1..].iter().find(|(s, _)| *s == suffix) {
        return Some(Suffix {
            base: 2,
            exponent: *exponent,
            format: Format::BinarySI,
        });
    }
    let rest = suffix
        .strip_prefix('e')
        .or_else(|| suffix.strip_prefix('E'))?;
    if rest.is_empty() {
        return None;
    }
    let exponent = rest.parse::<i64>().ok()?;
    Some(Suffix {
        base: 10,
        exponent,
        format: Format::DecimalExponent,
    })
}

/// The unsigned value in nanos, rounded away from zero, with the binary cap applied.
fn magnitude_nanos(parts: &Parts<'_>, suffix: Suffix) -> Result<i128, QuantityError> {
    let digits = format!("{}{}", parts.num, parts.denom);
    let significant = digits.trim_start_matches('0');
    if significant.is_empty() {
        return Ok(0);
    }
    let trimmed = significant.trim_end_matches('0');
    let trailing_zeros = (significant.len() - trimmed.len()) as i128;
    let ten_exponent = if suffix.base == 10 {
        i128::from(suffix.exponent)
    } else {
        0
    };
    let scale = ten_exponent + 9 + trailing_zeros - parts.denom.len() as i128;
    let mut product = trimmed.to_string();
    if suffix.base == 2 {
        let shift = u32::try_from(suffix.exponent).map_err(|_| QuantityError::Suffix)?;
        product = multiply_decimal(&product, 1u64 << shift);
    }
    let capped = suffix.format == Format::BinarySI;
    match scaled_to_int(&product, scale) {
        Some(n) if capped => Ok(n.min(MAX_BINARY_NANOS)),
        Some(n) => Ok(n),
        None if capped => Ok(MAX_BINARY_NANOS),
        None => Err(QuantityError::OutOfRange),
    }
}

/// `digits × 10^scale`, rounded away from zero to an integer; `None` if it overflows.
fn scaled_to_int(digits: &str, scale: i128) -> Option<i128> {
    if scale >= 0 {
        if digits.len() as i128 + scale > MAX_DIGITS as i128 {
            return None;
        }
        let base = digits.parse::<i128>().ok()?;
        let factor = 10i128.checked_pow(u32::try_from(scale).ok()?)?;
        return base.checked_mul(factor);
    }
    let dropped = usize::try_from(-scale).unwrap_or(usize::MAX);
    if dropped >= digits.len() {
        // Everything is fractional and non-zero: rounds up to one nano.
        return Some(1);
    }
    let (kept, fraction) = digits.split_at(digits.len() - dropped);
    if kept.len() > MAX_DIGITS {
        return None;
    }
    let whole = kept.parse::<i128>().ok()?;
    if fraction.bytes().any(|b| b != b'0') {
        whole.checked_add(1)
    } else {
        Some(whole)
    }
}

/// Multiplies a decimal digit string by a small factor.
fn multiply_decimal(digits: &str, factor: u64) -> String {
    let mut carry: u128 = 0;
    let mut out: Vec<u8> = Vec::with_capacity(digits.len() + 20);
    for b in digits.bytes().rev() {
        let d = u128::from(b - b'0');
        let v = d * u128::from(factor) + carry;
        out.push(b'0' + (v % 10) as u8);
        carry = v / 10;
    }
    while carry > 0 {
        out.push(b'0' + (carry % 10) as u8);
        carry /= 10;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Whether Go's fast path would keep the input text as the canonical string.
fn keeps_original(parts: &Parts<'_>, suffix: Suffix) -> bool {
    let digits = parts.num.len() + parts.denom.len();
    match suffix.format {
        Format::DecimalSI | Format::DecimalExponent => {
            let precision = 18 - digits as i64;
            let scale = suffix.exponent.saturating_sub(parts.denom.len() as i64);
            let shifted = format!("{}{}", parts.num, parts.denom);
            precision >= 0
                && scale >= -9
                && scale % 3 == 0
                && !shifted.ends_with("000")
                && !shifted.starts_with('0')
        }
        Format::BinarySI => {
            if !parts.denom.is_empty() {
                return false;
            }
            // Go: 15 - len(num) - int32(float32(exponent)*3/10) - 1
            let precision = 14 - parts.num.len() as i64 - suffix.exponent * 3 / 10;
            let Ok(value) = parts.num.parse::<i64>() else {
                return false;
            };
            let fits = value.checked_mul(1i64 << suffix.exponent).is_some();
            precision >= 0 && fits && value & 0x07 != 0
        }
    }
}

/// Go's canonical rendering (`CanonicalizeBytes`) of a value without kept text.
fn canonical(nanos: i128, format: Format) -> String {
    if nanos == 0 {
        return "0".to_string();
    }
    let binary_ok = nanos.abs() >= 1024 * NANOS_PER_UNIT && nanos % NANOS_PER_UNIT == 0;
    match format {
        Format::BinarySI if binary_ok => canonical_binary(nanos / NANOS_PER_UNIT),
        Format::BinarySI | Format::DecimalSI => canonical_decimal(nanos, false),
        Format::DecimalExponent => canonical_decimal(nanos, true),
    }
}

fn canonical_binary(units: i128) -> String {
    let mut mantissa = units;
    let mut power = 0usize;
    while mantissa.abs() >= 1024 && mantissa % 1024 == 0 && power < 6 {
        mantissa /= 1024;
        power += 1;
    }
    format!("{mantissa}{}", BINARY_SUFFIXES[power].0)
}

fn canonical_decimal(nanos: i128, exponent_form: bool) -> String {
    let mut mantissa = nanos;
    let mut exponent: i64 = -9;
    while mantissa.abs() >= 10 && mantissa % 10 == 0 {
        mantissa /= 10;
        exponent += 1;
    }
    let adjust = exponent.rem_euclid(3);
    if adjust != 0 {
        match mantissa.checked_mul(10i128.pow(adjust as u32)) {
            Some(m) => {
                mantissa = m;
                exponent -= adjust;
            }
            None => return format!("{mantissa}e{exponent}"),
        }
    }
    if exponent_form {
        return match exponent {
            0 => mantissa.to_string(),
            e => format!("{mantissa}e{e}"),
        };
    }
    if exponent > 18 {
        // Beyond `E` Go prints a wrong suffix; kubox scales the mantissa instead.
        let scaled = 10i128
            .checked_pow((exponent - 18) as u32)
            .and_then(|f| mantissa.checked_mul(f));
        return match scaled {
            Some(m) => format!("{m}E"),
            None => format!("{mantissa}e{exponent}"),
        };
    }
    let suffix = DECIMAL_SUFFIXES
        .iter()
        .find(|(_, e)| *e == exponent)
        .map(|(s, _)| *s)
        .unwrap_or("");
    format!("{mantissa}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: i128 = NANOS_PER_UNIT;

    #[test]
    fn parses_values() {
        let cases: &[(&str, i128)] = &[
            ("0", 0),
            ("1", N),
            ("100m", N / 10),
            ("1500m", 3 * N / 2),
            ("0.5", N / 2),
            (".5", N / 2),
            ("1.", N),
            ("+1", N),
            ("-1", -N),
            ("1k", 1000 * N),
            ("1M", 1_000_000 * N),
            ("1G", 1_000_000_000 * N),
            ("1T", 1_000_000_000_000 * N),
            ("1P", 1_000_000_000_000_000 * N),
            ("1E", 1_000_000_000_000_000_000 * N),
            ("1n", 1),
            ("1u", 1000),
            ("1Ki", 1024 * N),
            ("1Mi", 1024 * 1024 * N),
            ("1.5Gi", 1536 * 1024 * 1024 * N),
            ("1e3", 1000 * N),
            ("1E3", 1000 * N),
            ("1e-3", N / 1000),
            ("1e+3", 1000 * N),
            ("0.1n", 1),
            ("-0.1n", -1),
            ("1e-20", 1),
            ("000", 0),
            ("-0", 0),
            ("+", 0),
            (".", 0),
            ("0.000000001", 1),
            ("12345678901234567890", 12_345_678_901_234_567_890 * N),
            ("16Ei", MAX_BINARY_NANOS),
            ("0.5Ki", 512 * N),
        ];
        for (input, nanos) in cases {
            let q = Quantity::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(q.nanos(), *nanos, "{input}");
        }
    }

    #[test]
    fn rejects_malformed_input_with_kubernetes_messages() {
        let format = "quantities must match the regular expression \
                      '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
        let cases: &[(&str, &str)] = &[
            ("", format),
            ("abc", format),
            ("1x", format),
            ("1.2.3", format),
            ("1 ", format),
            (" 1", format),
            ("1Gb", format),
            ("1Ki1", "unable to parse quantity's suffix"),
            ("1e", "unable to parse quantity's suffix"),
            ("1ee", "unable to parse quantity's suffix"),
            ("1K", "unable to parse quantity's suffix"),
            ("1mi", "unable to parse quantity's suffix"),
            (
                "1e40",
                "quantity is too large: kubox supports magnitudes below 1.7e29",
            ),
            (
                "1e9223372036854775807",
                "quantity is too large: kubox supports magnitudes below 1.7e29",
            ),
        ];
        for (input, message) in cases {
            let err = Quantity::parse(input).expect_err(input);
            assert_eq!(err.to_string(), *message, "{input}");
        }
    }

    #[test]
    fn formats_canonically_like_go() {
        let cases: &[(&str, &str)] = &[
            ("1", "1"),
            ("+1", "+1"),
            ("01", "01"),
            ("1.5", "1500m"),
            ("0.5", "500m"),
            ("1000", "1k"),
            ("1000m", "1"),
            ("100m", "100m"),
            ("1024Mi", "1Gi"),
            ("1000Mi", "1000Mi"),
            ("1536Ki", "1536Ki"),
            ("2048Ki", "2Mi"),
            ("1Gi", "1Gi"),
            ("0.5Gi", "512Mi"),
            ("512", "512"),
            ("1.5Gi", "1536Mi"),
            ("0.1Ki", "102400m"),
            ("1e3", "1e3"),
            ("1000e0", "1e3"),
            ("1500e-3", "1500e-3"),
            ("1.5e3", "1500"),
            ("0.0001", "100u"),
            ("1500u", "1500u"),
            ("2000u", "2m"),
            ("-1.5", "-1500m"),
            ("16Ei", "9223372036854775807"),
            ("000", "0"),
            ("0Mi", "0"),
            ("12e21", "12e21"),
            ("12000E", "12000E"),
        ];
        for (input, expected) in cases {
            let q = Quantity::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(q.to_string(), *expected, "{input}");
        }
    }

    #[test]
    fn value_and_milli_value_round_away_from_zero() {
        let cases: &[(&str, i128, i128)] = &[
            ("1", 1, 1000),
            ("1.2", 2, 1200),
            ("100m", 1, 100),
            ("0.5m", 1, 1),
            ("1n", 1, 1),
            ("-1.5", -2, -1500),
            ("1Gi", 1_073_741_824, 1_073_741_824_000),
            ("0", 0, 0),
        ];
        for (input, value, milli) in cases {
            let q = Quantity::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(q.value(), *value, "{input} value");
            assert_eq!(q.milli_value(), *milli, "{input} milli");
        }
    }

    #[test]
    fn compares_by_value() {
        let q = |s: &str| Quantity::parse(s).unwrap_or_default();
        assert_eq!(q("1"), q("1000m"));
        assert_eq!(q("1Ki"), q("1024"));
        assert!(q("1Gi") > q("1G"));
        assert!(q("-1") < q("0"));
        assert!(q("-1").is_negative());
        assert!(!q("0").is_negative());
        assert!(q("0").is_zero());
    }

    #[test]
    fn rounds_up_to_milli_like_resource_list_defaulting() {
        let cases: &[(&str, &str)] = &[
            ("0.5m", "1m"),
            ("1500u", "2m"),
            ("100m", "100m"),
            ("+1", "+1"),
            ("1.5", "1500m"),
            ("1Gi", "1Gi"),
        ];
        for (input, expected) in cases {
            let q = Quantity::parse(input).unwrap_or_default();
            assert_eq!(q.round_up_milli().to_string(), *expected, "{input}");
        }
    }

    #[test]
    fn from_k8s_trims_whitespace_like_unmarshal_json() {
        let q = Quantity::from_k8s(&K8sQuantity(" 250m ".to_string()));
        assert_eq!(q.map(|q| q.milli_value()), Ok(250));
        assert_eq!(
            Quantity::from_k8s(&K8sQuantity("two".to_string())).map(|q| q.nanos()),
            Err(QuantityError::FormatWrong)
        );
    }

    #[test]
    fn helpers_build_and_add() {
        let a = Quantity::from_milli(1500);
        assert_eq!(a.to_string(), "1500m");
        assert_eq!(a.format(), Format::DecimalSI);
        let sum = a.checked_add(&Quantity::from_milli(500));
        assert_eq!(sum.map(|q| q.to_string()), Some("2".to_string()));
        assert_eq!(a.to_k8s(), K8sQuantity("1500m".to_string()));
        let big = Quantity::from_nanos(i128::MAX, Format::DecimalSI);
        assert!(big.checked_add(&a).is_none());
        assert_eq!("2Mi".parse::<Quantity>().map(|q| q.value()), Ok(2_097_152));
    }

    #[test]
    fn never_panics_on_odd_input() {
        let long = "9".repeat(200);
        let inputs = [
            "-",
            "+.",
            "-.e5",
            long.as_str(),
            "0.00000000000000000000000000000000000000000001",
            "1e-9223372036854775808",
            "1Ei",
            "7Ei",
            "8Ei",
            "9999999999999999999Ei",
            "1.Gi",
            "..",
            "1..",
            "+-1",
            "1e+",
            "1e-",
            "é",
        ];
        for input in inputs {
            let _ = Quantity::parse(input).map(|q| (q.to_string(), q.value()));
        }
    }
}
