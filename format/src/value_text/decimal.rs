//! DECIMAL(p, s) as exact text.
//!
//! Accepted (surrounding whitespace is ignored): `[+|-]digits[.digits][(e|E)[+|-]digits]`,
//! with digits on at least one side of the point (`5.`, `.5`). The value is exact: digits beyond
//! the scale are an error unless they are zeros (`12.300` fits DECIMAL(10, 2), `12.345` does
//! not: never rounded or truncated), and a value with more than `p - s` digits before the point
//! is an error. Rendered with exactly `s` fraction digits (`-0.05`, `12.30`).

use super::ValueError;

pub use crate::datum::format_decimal as render_decimal;

/// Decimal text → the unscaled value of DECIMAL(`precision`, `scale`).
pub fn parse_decimal(text: &str, precision: u32, scale: u32) -> Result<i128, ValueError> {
    let t = text.trim();
    let ty = format!("DECIMAL({precision}, {scale})");
    let invalid = || ValueError::syntax(t, format!("is not a valid {ty}"));
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => {
            let e = &body[i + 1..];
            let e_digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if e_digits.is_empty() || !e_digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            // Beyond any precision; parsing saturates instead of overflowing.
            let exp = e.parse::<i64>().unwrap_or(if e.starts_with('-') {
                i64::MIN / 2
            } else {
                i64::MAX / 2
            });
            (&body[..i], exp)
        }
        None => (body, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty())
        || !all_digits(int_part)
        || !all_digits(frac_part)
    {
        return Err(invalid());
    }
    // value = digits × 10^-(frac_len - exp); only the significant digits matter.
    let digits = format!("{int_part}{frac_part}");
    let lead = digits.len() - digits.trim_start_matches('0').len();
    let digits = &digits[lead..];
    let trail = digits.len() - digits.trim_end_matches('0').len();
    let digits = &digits[..digits.len() - trail];
    if digits.is_empty() {
        return Ok(0);
    }
    // The value is `digits` × 10^(shift), with `digits` free of trailing zeros.
    let shift = exp + trail as i64 - frac_part.len() as i64;
    if shift < -i64::from(scale) {
        return Err(ValueError::digits(
            t,
            format!("has more than {scale} digits after the decimal point, which {ty} keeps"),
        ));
    }
    let total = digits.len() as i64 + shift + i64::from(scale);
    if total > i64::from(precision) {
        return Err(ValueError::range(
            t,
            format!(
                "does not fit {ty}: at most {} digits before the decimal point",
                precision.saturating_sub(scale)
            ),
        ));
    }
    let zeros = (shift + i64::from(scale)) as usize;
    let unscaled: i128 = format!("{digits}{}", "0".repeat(zeros))
        .parse()
        .map_err(|_| invalid())?;
    Ok(if neg { -unscaled } else { unscaled })
}
