//! ASCII tables for people. Long values are cut at [`MAX_CELL`] characters and line breaks
//! shown as `\n`, so one row is one line.

/// Widest cell shown; longer values end in `…`.
pub const MAX_CELL: usize = 60;

/// Makes a value fit one table cell.
pub fn cell(s: &str) -> String {
    let flat: String = s
        .chars()
        .flat_map(|c| match c {
            '\n' => vec!['\\', 'n'],
            '\r' => vec!['\\', 'r'],
            '\t' => vec![' '],
            c => vec![c],
        })
        .collect();
    if flat.chars().count() > MAX_CELL {
        format!("{}…", flat.chars().take(MAX_CELL - 1).collect::<String>())
    } else {
        flat
    }
}

/// Renders a table with a header; `right[j]` right-aligns column j (numbers).
pub fn render(headers: &[String], right: &[bool], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, v) in widths.iter_mut().zip(row) {
            *w = (*w).max(v.chars().count());
        }
    }
    let border = {
        let mut s = String::from("+");
        for w in &widths {
            s.push_str(&"-".repeat(w + 2));
            s.push('+');
        }
        s.push('\n');
        s
    };
    let line = |values: &[String], align: &dyn Fn(usize) -> bool| {
        let mut s = String::from("|");
        for (j, w) in widths.iter().enumerate() {
            let v = values.get(j).map(String::as_str).unwrap_or("");
            let pad = w - v.chars().count();
            if align(j) {
                s.push_str(&format!(" {}{v} |", " ".repeat(pad)));
            } else {
                s.push_str(&format!(" {v}{} |", " ".repeat(pad)));
            }
        }
        s.push('\n');
        s
    };
    let mut out = border.clone();
    out.push_str(&line(headers, &|_| false));
    out.push_str(&border);
    for row in rows {
        out.push_str(&line(row, &|j| right.get(j).copied().unwrap_or(false)));
    }
    if !rows.is_empty() {
        out.push_str(&border);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_aligned() {
        let t = render(
            &["id".into(), "name".into()],
            &[true, false],
            &[
                vec!["1".into(), "apple".into()],
                vec!["100".into(), "fig".into()],
            ],
        );
        assert_eq!(
            t,
            "+-----+-------+\n| id  | name  |\n+-----+-------+\n|   1 | apple |\n| 100 | fig   |\n+-----+-------+\n"
        );
    }

    #[test]
    fn cells_stay_on_one_line() {
        assert_eq!(cell("a\nb"), "a\\nb");
        assert_eq!(cell(&"x".repeat(100)).chars().count(), MAX_CELL);
    }
}
