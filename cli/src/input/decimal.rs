//! Exact decimal text (`-12.30`, `1.2e3`) → the unscaled value of a DECIMAL(p, s).

/// Parses `[-+]digits[.digits][e[-+]digits]` exactly into an unscaled value with `scale`.
pub fn parse_decimal(text: &str, precision: u32, scale: u32) -> Result<i128, String> {
    let ty = format!("DECIMAL({precision}, {scale})");
    let invalid = || format!("is not a valid {ty}");
    let t = text.trim();
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (
            &body[..i],
            body[i + 1..].parse::<i32>().map_err(|_| invalid())?,
        ),
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
    if exp.abs() > 1000 {
        return Err(format!("is out of range for {ty}"));
    }
    // value = digits × 10^-(frac_len - exp)
    let mut digits = format!("{int_part}{frac_part}");
    let value_scale = frac_part.len() as i64 - i64::from(exp);
    let s = i64::from(scale);
    if value_scale > s {
        let extra = (value_scale - s) as usize;
        let keep = digits.len().saturating_sub(extra);
        if digits[keep..].bytes().any(|b| b != b'0') {
            return Err(format!(
                "has more than {scale} digits after the decimal point, which {ty} keeps"
            ));
        }
        digits.truncate(keep);
    } else {
        digits.extend(std::iter::repeat_n('0', (s - value_scale) as usize));
    }
    let significant = digits.trim_start_matches('0');
    if significant.len() > precision as usize {
        return Err(format!(
            "does not fit {ty}: at most {} digits before the decimal point",
            precision - scale
        ));
    }
    let unscaled: i128 = if significant.is_empty() {
        0
    } else {
        significant.parse().map_err(|_| invalid())?
    };
    Ok(if neg { -unscaled } else { unscaled })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_or_error() {
        assert_eq!(parse_decimal("12.3", 10, 2).unwrap(), 1230);
        assert_eq!(parse_decimal("-0.05", 10, 2).unwrap(), -5);
        assert_eq!(parse_decimal("1.2e2", 10, 2).unwrap(), 12000);
        assert_eq!(parse_decimal("12.300", 10, 2).unwrap(), 1230);
        assert_eq!(parse_decimal("12345678.99", 10, 2).unwrap(), 1234567899);
        assert!(parse_decimal("12.345", 10, 2)
            .unwrap_err()
            .contains("more than 2 digits"));
        assert!(parse_decimal("123456789", 10, 2)
            .unwrap_err()
            .contains("does not fit"));
        assert!(parse_decimal("abc", 10, 2).is_err());
        assert!(parse_decimal(".", 10, 2).is_err());
        let big = "12345678901234567890.123456789012345678";
        assert_eq!(
            parse_decimal(big, 38, 18).unwrap(),
            12345678901234567890123456789012345678
        );
    }
}
