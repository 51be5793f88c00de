//! Every spec citation in the workspace's Rust sources resolves: for each `specs/<file>.md`
//! followed by `§` and a section number, a range of numbers or a section name, the spec file
//! exists and has that section. A bare `§N` later on the same line (or a `§` that opens the line
//! after one ending in a spec path) cites the last spec path named before it.
//!
//! A section number is a Markdown heading's leading number (`## 10. Catch-up` is §10, `### 4.4
//! Peers` is §4.4) or the first cell of a row in a table whose first column is headed `§` (the
//! numbered checks of `specs/proof.md` §4).
//!
//! A range (`§3.2–3.4`) needs both ends. A name matches a heading whose text after the number
//! starts with the cited words, compared case-insensitively (`§ Certificate window`, `§ Batches`).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Directory names never walked: build output, VCS metadata, JavaScript dependencies.
const SKIPPED_DIRS: [&str; 3] = ["target", ".git", "node_modules"];

/// What a citation points at inside its spec.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// `§4.4`.
    Number(String),
    /// `§3.2–3.4`: both ends must exist.
    Range(String, String),
    /// `§ Catch-up`.
    Name(String),
}

/// One citation found in a source line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Citation {
    /// The spec's path relative to the workspace root, e.g. `specs/consensus.md`.
    spec: String,
    target: Target,
}

impl std::fmt::Display for Citation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.target {
            Target::Number(n) => write!(f, "{} §{n}", self.spec),
            Target::Range(a, b) => write!(f, "{} §{a}–{b}", self.spec),
            Target::Name(name) => write!(f, "{} § {name}", self.spec),
        }
    }
}

/// The sections one spec defines.
#[derive(Debug, Default)]
struct Sections {
    numbers: Vec<String>,
    /// Heading texts after their number, as lowercase words.
    titles: Vec<Vec<String>>,
}

impl Sections {
    fn parse(markdown: &str) -> Self {
        let mut sections = Sections::default();
        let mut in_fence = false;
        let mut previous_was_table = false;
        let mut in_section_table = false;
        for line in markdown.lines() {
            let line = line.trim_end();
            if line.trim_start().starts_with("```") {
                in_fence = !in_fence;
                continue;
            }
            if in_fence {
                continue;
            }
            let is_table = line.starts_with('|');
            if is_table {
                let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
                if !previous_was_table {
                    in_section_table = cells.first() == Some(&"§");
                } else if in_section_table && let Some(number) = section_number(cells[0]) {
                    sections.numbers.push(number);
                }
            } else if let Some(heading) = line.strip_prefix('#') {
                let heading = heading.trim_start_matches('#').trim();
                let (first, rest) = heading.split_once(' ').unwrap_or((heading, ""));
                match section_number(first) {
                    Some(number) => {
                        sections.numbers.push(number);
                        sections.titles.push(words(rest));
                    }
                    None => sections.titles.push(words(heading)),
                }
            }
            previous_was_table = is_table;
        }
        sections
    }

    /// Why `target` does not resolve here, or `None` when it does.
    fn unresolved(&self, target: &Target) -> Option<String> {
        let has = |n: &String| self.numbers.contains(n);
        match target {
            Target::Number(n) if !has(n) => Some(format!("no section {n}")),
            Target::Range(a, b) => match (has(a), has(b)) {
                (true, true) => None,
                (false, true) => Some(format!("range start {a} is no section")),
                (true, false) => Some(format!("range end {b} is no section")),
                (false, false) => Some(format!("neither {a} nor {b} is a section")),
            },
            Target::Name(name) => {
                let cited = words(name);
                let found = self
                    .titles
                    .iter()
                    .any(|title| title.len() >= cited.len() && title[..cited.len()] == cited[..]);
                (!found).then(|| format!("no heading named \"{name}\""))
            }
            Target::Number(_) => None,
        }
    }
}

/// `10`, `4.4` or `10.` (a heading's trailing dot dropped); `None` for anything else.
fn section_number(text: &str) -> Option<String> {
    let text = text.strip_suffix('.').unwrap_or(text);
    let valid = !text.is_empty()
        && text
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
    valid.then(|| text.to_string())
}

/// Lowercase words with the punctuation around each dropped (`(four-timestamp` → `four-timestamp`).
fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// The spec path starting at `rest` (`specs/<name>.md`), if one does.
fn spec_path_at(rest: &str) -> Option<&str> {
    let name = rest.strip_prefix("specs/")?;
    let len = name
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
        .count();
    (len > 0 && name[len..].starts_with(".md")).then(|| &rest[.."specs/".len() + len + ".md".len()])
}

/// Reads the section cited right after a `§` (leading spaces allowed).
fn target_at(rest: &str) -> Option<Target> {
    let rest = rest.trim_start();
    if rest.starts_with(|c: char| c.is_ascii_digit()) {
        let number = |s: &str| {
            let len = s
                .bytes()
                .take_while(|b| b.is_ascii_digit() || *b == b'.')
                .count();
            (s[..len].trim_end_matches('.').to_string(), len)
        };
        let (start, len) = number(rest);
        let after = &rest[len..];
        for dash in ['–', '-'] {
            if let Some(end) = after.strip_prefix(dash)
                && end.starts_with(|c: char| c.is_ascii_digit())
            {
                return Some(Target::Range(start, number(end).0));
            }
        }
        return Some(Target::Number(start));
    }
    let end = rest
        .find([')', '(', ',', '.', ':', ';', '`', '"', '—', '–'])
        .unwrap_or(rest.len());
    let name = rest[..end].trim();
    (!name.is_empty()).then(|| Target::Name(name.to_string()))
}

/// A comment's text without its leading `//!`, `///`, `//` or `*`.
fn comment_body(line: &str) -> &str {
    let line = line.trim_start();
    ["//!", "///", "//", "*"]
        .iter()
        .find_map(|prefix| line.strip_prefix(prefix))
        .unwrap_or(line)
        .trim_start()
}

/// Every citation in `source`, with its 1-based line number. `Err` carries a `§` after a spec
/// path that names no section.
fn citations(source: &str) -> Vec<(usize, Result<Citation, String>)> {
    let mut found = Vec::new();
    // A spec path that ended the previous line: a `§` opening this line cites it.
    let mut carried: Option<String> = None;
    for (index, line) in source.lines().enumerate() {
        let mut current = carried
            .take()
            .filter(|_| comment_body(line).starts_with('§'));
        let mut previous_word_is_number = false;
        let mut last_path_end = None;
        let mut i = 0;
        while i < line.len() {
            let rest = &line[i..];
            if let Some(path) = spec_path_at(rest) {
                current = Some(path.to_string());
                i += path.len();
                last_path_end = Some(i);
                previous_word_is_number = false;
                continue;
            }
            let c = rest.chars().next().expect("i is on a char boundary");
            // `RFC 5905 §8` cites another document, not the last spec path.
            if c == '§'
                && !previous_word_is_number
                && let Some(spec) = &current
            {
                let citation = match target_at(&rest[c.len_utf8()..]) {
                    Some(target) => Ok(Citation {
                        spec: spec.clone(),
                        target,
                    }),
                    None => Err(format!("{spec} §: no section number or name after §")),
                };
                found.push((index + 1, citation));
            }
            if !c.is_whitespace() {
                let word_start = line[..i].rfind(char::is_whitespace).map_or(0, |p| p + 1);
                let word = &line[word_start..i + c.len_utf8()];
                previous_word_is_number = word.bytes().all(|b| b.is_ascii_digit());
            }
            i += c.len_utf8();
        }
        if let (Some(end), Some(spec)) = (last_path_end, &current)
            && line[end..]
                .trim_matches(|c: char| c == '`' || c.is_whitespace())
                .is_empty()
        {
            carried = Some(spec.clone());
        }
    }
    found
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy();
        if path.is_dir() {
            if !SKIPPED_DIRS.contains(&name.as_ref()) {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_spec_citation_in_the_sources_names_a_section_that_exists() {
    let root = workspace_root();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut specs: BTreeMap<String, Option<Sections>> = BTreeMap::new();
    let mut checked = 0;
    let mut unresolved = Vec::new();
    for file in &files {
        let Ok(source) = fs::read_to_string(file) else {
            continue;
        };
        let shown = file.strip_prefix(&root).unwrap().display().to_string();
        for (line, citation) in citations(&source) {
            checked += 1;
            let citation = match citation {
                Ok(citation) => citation,
                Err(why) => {
                    unresolved.push(format!("{shown}:{line}: {why}"));
                    continue;
                }
            };
            let sections = specs.entry(citation.spec.clone()).or_insert_with(|| {
                fs::read_to_string(root.join(&citation.spec))
                    .ok()
                    .map(|md| Sections::parse(&md))
            });
            let why = match sections {
                None => Some("the spec file does not exist".to_string()),
                Some(sections) => sections.unresolved(&citation.target),
            };
            if let Some(why) = why {
                unresolved.push(format!("{shown}:{line}: {citation}: {why}"));
            }
        }
    }
    assert!(
        checked > 0,
        "no spec citations found under {}",
        root.display()
    );
    assert!(
        unresolved.is_empty(),
        "{} of {checked} spec citations do not resolve:\n{}",
        unresolved.len(),
        unresolved.join("\n")
    );
}

#[test]
fn citations_are_read_by_number_range_name_and_bare_section_after_a_path() {
    // Built from pieces so that this file's own scan does not see these made-up citations.
    let path = ["specs/", "demo.md"].concat();
    let source = format!(
        "/// `{path}` §10, §3.2–3.4 (RFC 5905 §8).\n\
         //! see `{path}` § Catch-up). Then `{path}`\n\
         //! §4.4: read on.\n"
    );
    let found: Vec<_> = citations(&source)
        .into_iter()
        .map(|(l, c)| (l, c.unwrap()))
        .collect();
    let cite = |target| Citation {
        spec: path.clone(),
        target,
    };
    assert_eq!(
        found,
        [
            (1, cite(Target::Number("10".into()))),
            (1, cite(Target::Range("3.2".into(), "3.4".into()))),
            (2, cite(Target::Name("Catch-up".into()))),
            (3, cite(Target::Number("4.4".into()))),
        ]
    );
}

#[test]
fn a_section_resolves_by_heading_number_table_row_or_leading_words_of_its_name() {
    let spec = Sections::parse(
        "# Title\n\n## 10. Catch-up\n\n### 4.4 Peers (four-timestamp exchange)\n\n\
         ### Batches\n\n| § | check |\n|---|---|\n| 4.14 | anchors |\n\n```\n## 99. Not a heading\n```\n",
    );
    let number = |n: &str| Target::Number(n.into());
    let name = |n: &str| Target::Name(n.into());
    for resolves in [
        number("10"),
        number("4.4"),
        number("4.14"),
        name("catch-UP"),
        name("Peers"),
    ] {
        assert_eq!(spec.unresolved(&resolves), None, "{resolves:?}");
    }
    assert_eq!(spec.unresolved(&name("Batches")), None);
    for stale in [
        number("99"),
        number("4"),
        name("Peer probes"),
        name("Batch"),
    ] {
        assert!(
            spec.unresolved(&stale).is_some(),
            "{stale:?} should not resolve"
        );
    }
    let range = Target::Range("4.4".into(), "4.15".into());
    assert_eq!(
        spec.unresolved(&range).as_deref(),
        Some("range end 4.15 is no section")
    );
}
