//! How numbers, times and previews are written on screen (pure functions, unit-tested).

use chrono::{DateTime, Utc};

/// `Nov 25 14:03` (UTC; the page says so; the full time is in the tooltip).
pub fn short_time(at: &DateTime<Utc>) -> String {
    at.format("%b %d %H:%M").to_string()
}

pub fn full_time(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

pub fn latency(ms: Option<i64>) -> String {
    match ms {
        None => "—".into(),
        Some(ms) if ms < 1_000 => format!("{ms} ms"),
        Some(ms) if ms < 60_000 => format!("{:.1} s", ms as f64 / 1_000.0),
        Some(ms) => format!("{:.1} min", ms as f64 / 60_000.0),
    }
}

pub fn tokens(input: Option<i64>, output: Option<i64>) -> String {
    match (input, output) {
        (None, None) => "—".into(),
        (i, o) => format!(
            "{} → {}",
            i.map(|n| count(n as u64)).unwrap_or_else(|| "?".into()),
            o.map(|n| count(n as u64)).unwrap_or_else(|| "?".into())
        ),
    }
}

pub fn cost(usd: Option<f64>) -> String {
    match usd {
        None => "—".into(),
        Some(v) if v == 0.0 => "$0".into(),
        // A small model's call can cost a few millionths of a dollar: keep two digits of it.
        Some(v) if v < 0.0001 => format!("${v:.6}"),
        Some(v) if v < 0.01 => format!("${v:.4}"),
        Some(v) if v < 100.0 => format!("${v:.2}"),
        Some(v) => format!("${}", count(v.round() as u64)),
    }
}

/// `12,345`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A size in bytes, as people read it: `812 B`, `12.3 KB`, `2.1 MB`.
pub fn bytes(n: usize) -> String {
    const KB: f64 = 1024.0;
    let n_f = n as f64;
    if n < 1024 {
        format!("{n} B")
    } else if n_f < KB * KB {
        format!("{:.1} KB", n_f / KB)
    } else {
        format!("{:.1} MB", n_f / (KB * KB))
    }
}

/// The output on one line: whitespace runs (newlines included) become single spaces.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_naturally() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(latency(Some(812)), "812 ms");
        assert_eq!(latency(Some(1_450)), "1.4 s");
        assert_eq!(latency(None), "—");
        assert_eq!(cost(Some(0.00021)), "$0.0002");
        assert_eq!(cost(Some(0.000031)), "$0.000031");
        assert_eq!(cost(Some(1.5)), "$1.50");
        assert_eq!(tokens(Some(1200), Some(9)), "1,200 → 9");
        assert_eq!(one_line("a\n\n  b\tc"), "a b c");
        assert_eq!(bytes(812), "812 B");
        assert_eq!(bytes(12_600), "12.3 KB");
        assert_eq!(bytes(2_200_000), "2.1 MB");
    }
}
