//! Spillover matrices as instruments store them: `$SPILLOVER` (FCS 3.1+),
//! `$SPILL` / `SPILL` (BD and FlowJo before 3.1), `$COMP` (FCS 3.0, no names)
//! and `$DFCiTOj` (FCS 2.0 pairwise percentages, Beckman Coulter).

use super::text::Keywords;
use serde::Serialize;

/// A square spillover matrix: `matrix[i][j]` is the fraction of the signal of
/// fluorochrome `i` that lands in detector `j` (1 on the diagonal).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spillover {
    /// Channel names ($PnN) in matrix order.
    pub channels: Vec<String>,
    /// Row-major matrix, `channels.len()` rows of `channels.len()` values.
    pub matrix: Vec<Vec<f64>>,
    /// Keyword the matrix was read from.
    pub keyword: String,
}

/// Keywords that hold a named spillover matrix, in order of preference.
const NAMED_KEYWORDS: [&str; 4] = ["$SPILLOVER", "SPILLOVER", "$SPILL", "SPILL"];

/// Whether the keywords declare a spillover matrix (a named matrix of at
/// least one channel, `$COMP`, or `$DFCiTOj`), usable or not: a file that
/// declares one and yields none must not be analysed uncompensated
/// without saying so.
pub fn declares_spillover(keywords: &Keywords) -> bool {
    let named = NAMED_KEYWORDS.iter().any(|k| {
        keywords.get(k).is_some_and(|v| {
            let first = v.split(',').next().unwrap_or("").trim();
            first.parse::<usize>() != Ok(0)
        })
    });
    named
        || keywords.get("$COMP").is_some()
        || keywords.iter().any(|(k, _)| {
            let u = k.to_ascii_uppercase();
            (u.starts_with("$DFC") || u.starts_with("DFC")) && u.contains("TO")
        })
}

/// Finds and parses the spillover matrix of a data set.
///
/// `names` are the $PnN of the channels; `markers` their $PnS, used when a
/// matrix names channels by marker (as some exports do). Problems that leave
/// the matrix unusable are reported in `warnings` and yield `None`: a bad
/// matrix must not make the events unreadable.
pub fn find_spillover(
    keywords: &Keywords,
    names: &[String],
    markers: &[Option<String>],
    warnings: &mut Vec<String>,
) -> Option<Spillover> {
    for keyword in NAMED_KEYWORDS {
        if let Some(value) = keywords.get(keyword) {
            match parse_named(value, names, markers) {
                Ok(Some(s)) => {
                    return Some(Spillover {
                        keyword: keyword.to_string(),
                        ..s
                    });
                }
                Ok(None) => continue,
                Err(why) => warnings.push(format!("{keyword} ignored: {why}")),
            }
        }
    }
    if let Some(value) = keywords.get("$COMP") {
        match parse_unnamed_comp(value, names) {
            Ok(s) => return Some(s),
            Err(why) => warnings.push(format!("$COMP ignored: {why}")),
        }
    }
    parse_dfc(keywords, names, warnings)
}

fn numbers(fields: &[&str]) -> Result<Vec<f64>, String> {
    fields
        .iter()
        .map(|f| {
            let t = f.trim();
            t.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| format!("{t:?} is not a finite number"))
        })
        .collect()
}

fn square(values: Vec<f64>, n: usize) -> Vec<Vec<f64>> {
    values.chunks(n).map(<[f64]>::to_vec).collect()
}

/// `n,name1,...,namen,v11,v12,...,vnn`. `Ok(None)` for a declared 0x0 matrix.
fn parse_named(
    value: &str,
    names: &[String],
    markers: &[Option<String>],
) -> Result<Option<Spillover>, String> {
    let fields: Vec<&str> = value.split(',').collect();
    let n: usize = fields[0]
        .trim()
        .parse()
        .map_err(|_| format!("first field {:?} is not a channel count", fields[0]))?;
    if n == 0 {
        return Ok(None);
    }
    let expected = n
        .checked_mul(n)
        .and_then(|nn| nn.checked_add(n + 1))
        .ok_or_else(|| format!("channel count {n} is too large"))?;
    if fields.len() != expected {
        return Err(format!(
            "{n} channels need {expected} comma-separated fields, found {}",
            fields.len()
        ));
    }
    let listed: Vec<&str> = fields[1..=n].iter().map(|s| s.trim()).collect();
    let channels = listed
        .iter()
        .map(|l| resolve_channel(l, names, markers))
        .collect::<Result<Vec<_>, _>>()?;
    let values = numbers(&fields[n + 1..])?;
    Ok(Some(Spillover {
        channels,
        matrix: square(values, n),
        keyword: String::new(),
    }))
}

/// Maps a name in a spillover header to a $PnN: exact $PnN, then $PnS, then
/// case-insensitive $PnN.
fn resolve_channel(
    listed: &str,
    names: &[String],
    markers: &[Option<String>],
) -> Result<String, String> {
    if names.iter().any(|n| n == listed) {
        return Ok(listed.to_string());
    }
    if let Some(i) = markers.iter().position(|m| m.as_deref() == Some(listed)) {
        return Ok(names[i].clone());
    }
    names
        .iter()
        .find(|n| n.eq_ignore_ascii_case(listed))
        .cloned()
        .ok_or_else(|| format!("channel {listed:?} is not a $PnN or $PnS of this file"))
}

/// FCS 3.0 `$COMP`: `n,v11,...,vnn` without names. The standard ties it to
/// the fluorescence parameters; here those are the channels that are neither
/// scatter nor time, in file order.
fn parse_unnamed_comp(value: &str, names: &[String]) -> Result<Spillover, String> {
    let fields: Vec<&str> = value.split(',').collect();
    let n: usize = fields[0]
        .trim()
        .parse()
        .map_err(|_| format!("first field {:?} is not a channel count", fields[0]))?;
    if n == 0 || n.checked_mul(n).map(|nn| nn + 1) != Some(fields.len()) {
        return Err(format!(
            "{n} channels need {} fields, found {}",
            n.saturating_mul(n).saturating_add(1),
            fields.len()
        ));
    }
    let fluorescence: Vec<String> = names
        .iter()
        .filter(|name| !is_scatter_or_time(name))
        .cloned()
        .collect();
    if fluorescence.len() < n {
        return Err(format!(
            "{n} channels declared but the file has {} fluorescence channels",
            fluorescence.len()
        ));
    }
    Ok(Spillover {
        channels: fluorescence.into_iter().take(n).collect(),
        matrix: square(numbers(&fields[1..])?, n),
        keyword: "$COMP".into(),
    })
}

fn is_scatter_or_time(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper.starts_with("FSC")
        || upper.starts_with("SSC")
        || upper.starts_with("FS ")
        || upper.starts_with("SS ")
        || upper == "FS"
        || upper == "SS"
        || super::channel_name::is_time_channel(name)
}

/// FCS 2.0 `$DFCiTOj` keywords: percent of detector i's signal subtracted
/// from detector j. Detector k is the one channel named `FLk...`; where a
/// detector has several parameters (e.g. `FL1 Log` and `FL1 Lin`) the matrix
/// cannot be tied to channels and is reported, not used.
fn parse_dfc(
    keywords: &Keywords,
    names: &[String],
    warnings: &mut Vec<String>,
) -> Option<Spillover> {
    let mut pairs = Vec::new();
    for (key, value) in keywords.iter() {
        let upper = key.to_ascii_uppercase();
        let Some(rest) = upper
            .strip_prefix("$DFC")
            .or_else(|| upper.strip_prefix("DFC"))
        else {
            continue;
        };
        let Some((from, to)) = rest.split_once("TO") else {
            continue;
        };
        let (Ok(from), Ok(to), Ok(percent)) = (
            from.parse::<usize>(),
            to.parse::<usize>(),
            value.trim().parse::<f64>(),
        ) else {
            continue;
        };
        if from >= 1 && to >= 1 && from != to && percent.is_finite() {
            pairs.push((from, to, percent));
        }
    }
    let n = pairs.iter().map(|&(f, t, _)| f.max(t)).max()?;
    if n > names.len() {
        warnings.push(format!(
            "$DFC keywords name detector {n} but the file has {} channels; ignored",
            names.len()
        ));
        return None;
    }
    let mut channels = Vec::with_capacity(n);
    for k in 1..=n {
        let prefix = format!("FL{k}");
        let matching: Vec<&String> = names
            .iter()
            .filter(|name| {
                let upper = name.to_ascii_uppercase();
                upper
                    .strip_prefix(&prefix)
                    .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_digit()))
            })
            .collect();
        match matching.as_slice() {
            [one] => channels.push((*one).clone()),
            _ => {
                warnings.push(format!(
                    "$DFCiTOj compensation present but detector FL{k} matches {} channels; not used as a spillover matrix",
                    matching.len()
                ));
                return None;
            }
        }
    }
    let mut matrix = vec![vec![0.0; n]; n];
    for (i, row) in matrix.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    for (from, to, percent) in pairs {
        matrix[from - 1][to - 1] = percent / 100.0;
    }
    Some(Spillover {
        channels,
        matrix,
        keyword: "$DFCiTOj".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn named_matrix_by_pnn_and_by_marker() {
        let mut k = Keywords::new();
        k.set("$SPILLOVER", "2,FITC-A,CD10,1,0.1,0.02,1");
        let n = names(&["FSC-A", "FITC-A", "PE-A"]);
        let m = vec![None, Some("CD3".to_string()), Some("CD10".to_string())];
        let mut w = Vec::new();
        let s = find_spillover(&k, &n, &m, &mut w).expect("found");
        assert_eq!(s.channels, names(&["FITC-A", "PE-A"]));
        assert_eq!(s.matrix, vec![vec![1.0, 0.1], vec![0.02, 1.0]]);
        assert_eq!(s.keyword, "$SPILLOVER");
        assert!(w.is_empty());
    }

    #[test]
    fn wrong_field_count_is_a_warning_not_a_failure() {
        let mut k = Keywords::new();
        k.set("SPILL", "2,A,B,1,0,0");
        let mut w = Vec::new();
        assert!(find_spillover(&k, &names(&["A", "B"]), &[None, None], &mut w).is_none());
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn dfc_percentages() {
        let mut k = Keywords::new();
        k.set("$DFC1TO2", "12.5");
        k.set("$DFC2TO1", "0");
        let n = names(&["FS Lin", "SS Lin", "FL1 Log", "FL2 Log"]);
        let s = find_spillover(&k, &n, &[None, None, None, None], &mut Vec::new()).expect("found");
        assert_eq!(s.channels, names(&["FL1 Log", "FL2 Log"]));
        assert_eq!(s.matrix, vec![vec![1.0, 0.125], vec![0.0, 1.0]]);
        let n = names(&["FL1 Log", "FL1 Lin", "FL2 Log"]);
        let mut w = Vec::new();
        assert!(find_spillover(&k, &n, &[None, None, None], &mut w).is_none());
        assert_eq!(w.len(), 1, "{w:?}");
    }
}
