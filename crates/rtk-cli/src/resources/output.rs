//! How results are printed: aligned tables by default, JSON with `--json`.

use serde::Serialize;
use serde_json::Value;

/// A table: a header and rows.
pub struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&'static str]) -> Self {
        Table { header: header.to_vec(), rows: vec![] }
    }
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(c.chars().count());
                }
            }
        }
        let line = |cells: Vec<String>| -> String {
            let n = cells.len();
            let mut out = String::new();
            for (i, c) in cells.into_iter().enumerate() {
                out.push_str(&c);
                if i + 1 < n {
                    out.push_str(&" ".repeat(widths[i] - c.chars().count() + 2));
                }
            }
            out.trim_end().to_string()
        };
        let mut out = line(self.header.iter().map(|h| h.to_uppercase()).collect());
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(r.clone()));
            out.push('\n');
        }
        out
    }
}

/// A number as every table shows it: whole numbers as they are, others to two decimals.
pub fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

pub fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_else(|| "-".into())
}

/// One object as `field  value` lines; nested values as compact JSON.
fn object_table(v: &Value) -> String {
    let mut t = Table::new(&["field", "value"]);
    if let Value::Object(m) = v {
        for (k, v) in m {
            let cell = match v {
                Value::String(s) => s.clone(),
                Value::Null => "-".into(),
                // Fractions as the list tables show them (two decimals); --json keeps them exact.
                Value::Number(n) if n.is_f64() => number(n.as_f64().unwrap_or_default()),
                other => {
                    let s = other.to_string();
                    if s.chars().count() > 100 {
                        format!("{}…", s.chars().take(99).collect::<String>())
                    } else {
                        s
                    }
                }
            };
            t.row(vec![k.clone(), cell]);
        }
    }
    t.render()
}

pub struct Out {
    pub json: bool,
}

impl Out {
    pub fn one<T: Serialize>(&self, v: &T) -> anyhow::Result<()> {
        let v = serde_json::to_value(v)?;
        if self.json {
            println!("{}", serde_json::to_string_pretty(&v)?);
        } else {
            print!("{}", object_table(&v));
        }
        Ok(())
    }
    pub fn list<T: Serialize>(&self, items: &[T], table: impl FnOnce(&[T]) -> Table) -> anyhow::Result<()> {
        if self.json {
            println!("{}", serde_json::to_string_pretty(items)?);
        } else {
            print!("{}", table(items).render());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_are_rounded_like_the_lists() {
        assert_eq!(number(0.3005333333333333), "0.30");
        assert_eq!(number(30.0), "30");
        let t = object_table(&serde_json::json!({"minutes_consumed": 0.3005333333333333, "live": 2}));
        assert!(t.contains("0.30") && !t.contains("0.3005"), "{t}");
    }
}
