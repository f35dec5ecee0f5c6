//! Every link in the repository's Markdown resolves inside the repository: a relative link names a
//! file or directory that exists, never one above the repository's root, and an `#anchor` names a
//! heading of its target as GitHub renders it. External links (`http`, `https`, `mailto`) are not
//! followed: this check runs offline. Links inside fenced code blocks and code spans are not
//! links, and are skipped as GitHub skips them.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

/// One link as written: where it is, its text, its destination.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Link {
    line: usize,
    text: String,
    target: String,
}

/// A link that does not resolve, and why.
#[derive(Debug, PartialEq, Eq)]
struct Problem {
    file: PathBuf,
    link: Link,
    reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: [{}]({}): {}",
            self.file.display(),
            self.link.line,
            self.link.text,
            self.link.target,
            self.reason
        )
    }
}

/// GitHub's anchor for a heading's text: lowercase; every character that is not a letter, a
/// digit, a space, a hyphen or an underscore dropped; each space a hyphen.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a document's headings in order, a repeated one numbered as GitHub numbers it
/// (`x`, `x-1`, `x-2`), plus the names of explicit `<a name="...">` / `id="..."` anchors.
fn anchors(markdown: &str) -> HashSet<String> {
    // Code spans stay: a heading's code is part of its text.
    let text = without_fences(markdown);
    let mut seen = HashSet::new();
    let mut previous: Option<&str> = None;
    for line in text.lines() {
        let heading = atx_heading(line).or_else(|| {
            // A setext heading: a paragraph line underlined with `=` or `-` alone.
            let underline = line.trim();
            let is_underline = !underline.is_empty()
                && (underline.chars().all(|c| c == '=') || underline.chars().all(|c| c == '-'));
            previous
                .filter(|p| is_underline && is_paragraph_text(p))
                .map(str::trim)
        });
        if let Some(heading) = heading {
            let base = slug(&rendered_text(heading));
            let mut anchor = base.clone();
            let mut n = 0;
            while seen.contains(&anchor) {
                n += 1;
                anchor = format!("{base}-{n}");
            }
            seen.insert(anchor);
        }
        for attribute in ["name=\"", "id=\""] {
            for piece in line.split(attribute).skip(1) {
                if let Some(name) = piece.split('"').next() {
                    seen.insert(name.to_string());
                }
            }
        }
        previous = Some(line);
    }
    seen
}

/// The text of an ATX heading (`## Text ##`), if the line is one.
fn atx_heading(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    if line.len() - trimmed.len() > 3 {
        return None;
    }
    let level = trimmed.chars().take_while(|&c| c == '#').count();
    let rest = &trimmed[level..];
    if !(1..=6).contains(&level) || !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let rest = rest.trim();
    // An optional closing sequence of `#`, after a space.
    let without_closing = rest.trim_end_matches('#');
    if without_closing.len() < rest.len()
        && (without_closing.is_empty() || without_closing.ends_with([' ', '\t']))
    {
        return Some(without_closing.trim());
    }
    Some(rest)
}

/// Whether a line can be the text of a setext heading (not blank, not a list item, table row,
/// quote or heading of its own).
fn is_paragraph_text(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty()
        && !t.starts_with(['|', '>', '#', '-', '*', '+'])
        && !t.chars().next().is_some_and(|c| c.is_ascii_digit())
}

/// A heading's text as it renders: each link or image replaced by its text.
fn rendered_text(heading: &str) -> String {
    let mut out = String::new();
    let mut rest = 0;
    for (range, link) in inline_links(heading) {
        // An image inside a link's text is part of the text already replaced.
        if range.start < rest {
            continue;
        }
        out.push_str(&heading[rest..range.start]);
        out.push_str(&link.text);
        rest = range.end;
    }
    out.push_str(&heading[rest..]);
    out
}

/// The document with fenced code blocks and code spans blanked out (each of their characters a
/// space, line breaks kept), so that offsets and line numbers still match the original.
fn without_code(markdown: &str) -> String {
    without_code_spans(&without_fences(markdown))
}

/// The document with its fenced code blocks blanked out.
fn without_fences(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut fence: Option<(char, usize)> = None;
    for line in markdown.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let marker = trimmed.chars().next().filter(|c| matches!(c, '`' | '~'));
        let run = marker.map_or(0, |m| trimmed.chars().take_while(|&c| c == m).count());
        match (fence, marker) {
            (None, Some(m)) if run >= 3 && !(m == '`' && trimmed[run..].contains('`')) => {
                fence = Some((m, run));
                out.push_str(&blank(line));
            }
            (Some((m, n)), Some(c)) if c == m && run >= n && trimmed[run..].trim().is_empty() => {
                fence = None;
                out.push_str(&blank(line));
            }
            (Some(_), _) => out.push_str(&blank(line)),
            (None, _) => out.push_str(line),
        }
    }
    out
}

fn blank(text: &str) -> String {
    text.chars()
        .map(|c| if c == '\n' { '\n' } else { ' ' })
        .collect()
}

/// Blanks every code span: a run of backticks up to the next run of the same length within the
/// paragraph (a span may wrap onto the next line, never past a blank line). A run with no
/// closing run is literal text.
fn without_code_spans(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = text.to_string().into_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'`' => {
                let run = bytes[i..].iter().take_while(|&&b| b == b'`').count();
                let paragraph_end = text[i..].find("\n\n").map_or(text.len(), |e| i + e);
                let mut j = i + run;
                let mut close = None;
                while j < paragraph_end {
                    if bytes[j] == b'`' {
                        let other = bytes[j..].iter().take_while(|&&b| b == b'`').count();
                        if other == run {
                            close = Some(j + other);
                            break;
                        }
                        j += other;
                    } else {
                        j += 1;
                    }
                }
                match close {
                    Some(end) => {
                        for b in &mut out[i..end] {
                            if *b != b'\n' {
                                *b = b' ';
                            }
                        }
                        i = end;
                    }
                    None => i += run,
                }
            }
            _ => i += 1,
        }
    }
    // Only ASCII bytes outside multi-byte characters were replaced: still UTF-8.
    String::from_utf8(out).expect("blanking ASCII keeps UTF-8")
}

/// Every link of a document outside code: inline links and images `[text](target "title")`,
/// and reference definitions `[label]: target`.
fn links(markdown: &str) -> Vec<Link> {
    let text = without_code(markdown);
    let line_of = |offset: usize| text[..offset].matches('\n').count() + 1;
    let mut found: Vec<(usize, Link)> = inline_links(&text)
        .into_iter()
        .map(|(range, link)| (range.start, link))
        .collect();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if let Some(link) = reference_definition(line) {
            found.push((offset, link));
        }
        offset += line.len();
    }
    found.sort_by_key(|(at, _)| *at);
    found
        .into_iter()
        .map(|(at, link)| Link {
            line: line_of(at),
            ..link
        })
        .collect()
}

/// `[label]: target` at the start of a line (at most three spaces in).
fn reference_definition(line: &str) -> Option<Link> {
    let trimmed = line.trim_start();
    if line.len() - trimmed.len() > 3 || !trimmed.starts_with('[') {
        return None;
    }
    let close = trimmed.find("]:")?;
    let label = &trimmed[1..close];
    if label.contains(['[', ']']) {
        return None;
    }
    let target = trimmed[close + 2..].split_whitespace().next()?;
    let target = target.trim_start_matches('<').trim_end_matches('>');
    Some(Link {
        line: 0,
        text: label.to_string(),
        target: target.to_string(),
    })
}

/// Inline links and images with their byte ranges; link text may wrap onto the next line.
fn inline_links(text: &str) -> Vec<(std::ops::Range<usize>, Link)> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'[' => {
                if let Some((end, link)) = inline_link_at(text, i) {
                    let start = if i > 0 && bytes[i - 1] == b'!' {
                        i - 1
                    } else {
                        i
                    };
                    found.push((start..end, link));
                }
                // Scan on inside the text: an image inside a link's text is a link of its own.
                i += 1;
            }
            _ => i += 1,
        }
    }
    found
}

/// The link whose text opens at `open` (a `[`), and the offset just past its `)`.
fn inline_link_at(text: &str, open: usize) -> Option<(usize, Link)> {
    let bytes = text.as_bytes();
    let mut depth = 0;
    let mut i = open;
    let close = loop {
        match bytes.get(i)? {
            b'\\' => i += 1,
            b'[' => depth += 1,
            b']' => {
                depth -= 1;
                if depth == 0 {
                    break i;
                }
            }
            b'\n' if bytes.get(i + 1) == Some(&b'\n') => return None,
            _ => {}
        }
        i += 1;
    };
    if bytes.get(close + 1) != Some(&b'(') {
        return None;
    }
    let mut j = close + 2;
    while bytes.get(j).is_some_and(|b| b.is_ascii_whitespace()) {
        j += 1;
    }
    let target_start = j;
    let target_end;
    if bytes.get(j) == Some(&b'<') {
        let end = j + text[j..].find('>')?;
        target_end = end + 1;
        j = end + 1;
    } else {
        let mut parens = 0;
        while let Some(&b) = bytes.get(j) {
            match b {
                b'\\' => j += 1,
                b'(' => parens += 1,
                b')' if parens == 0 => break,
                b')' => parens -= 1,
                b if b.is_ascii_whitespace() => break,
                _ => {}
            }
            j += 1;
        }
        target_end = j;
    }
    // An optional title, then the closing parenthesis.
    while bytes.get(j).is_some_and(|b| b.is_ascii_whitespace()) {
        j += 1;
    }
    if let Some(&quote) = bytes.get(j).filter(|b| matches!(b, b'"' | b'\'' | b'(')) {
        let closing = if quote == b'(' { ')' } else { quote as char };
        j += 1 + text[j + 1..].find(closing)? + 1;
        while bytes.get(j).is_some_and(|b| b.is_ascii_whitespace()) {
            j += 1;
        }
    }
    if bytes.get(j) != Some(&b')') {
        return None;
    }
    let target = text[target_start..target_end]
        .trim_start_matches('<')
        .trim_end_matches('>');
    let link = Link {
        line: 0,
        text: text[open + 1..close]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
        target: target.to_string(),
    };
    Some((j + 1, link))
}

/// `%XX` escapes decoded, as a browser decodes a link's path and fragment.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `target` resolved against the document at `file` (both relative to the root), lexically; a
/// leading `/` is the repository's root, as GitHub reads it. `None` if it climbs above the root.
fn resolve(file: &Path, target: &str) -> Option<PathBuf> {
    let base = if target.starts_with('/') {
        PathBuf::new()
    } else {
        file.parent().unwrap_or(Path::new("")).to_path_buf()
    };
    let mut parts: Vec<_> = base.components().collect();
    for part in Path::new(target.trim_start_matches('/')).components() {
        match part {
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::Normal(_) => parts.push(part),
            _ => {}
        }
    }
    Some(parts.iter().collect())
}

fn is_external(target: &str) -> bool {
    let lower = target.to_ascii_lowercase();
    ["http://", "https://", "mailto:"]
        .iter()
        .any(|scheme| lower.starts_with(scheme))
}

/// Every link of `files` (paths relative to `root`) that does not resolve.
fn check(root: &Path, files: &[PathBuf]) -> Vec<Problem> {
    let mut anchors_of: BTreeMap<PathBuf, HashSet<String>> = BTreeMap::new();
    let mut problems = Vec::new();
    for file in files {
        let Ok(markdown) = std::fs::read_to_string(root.join(file)) else {
            continue;
        };
        for link in links(&markdown) {
            if is_external(&link.target) {
                continue;
            }
            let (path, anchor) = match link.target.split_once('#') {
                Some((path, anchor)) => (path, Some(anchor)),
                None => (link.target.as_str(), None),
            };
            let path = percent_decoded(path.split('?').next().unwrap_or(""));
            let mut problem = |reason: String| {
                problems.push(Problem {
                    file: file.clone(),
                    link: link.clone(),
                    reason,
                })
            };
            if link.target.is_empty() {
                problem("the link has no target".into());
                continue;
            }
            let resolved = if path.is_empty() {
                file.clone()
            } else {
                match resolve(file, &path) {
                    Some(resolved) => resolved,
                    None => {
                        problem("leaves the repository".into());
                        continue;
                    }
                }
            };
            if !root.join(&resolved).exists() {
                problem(format!("{} does not exist", resolved.display()));
                continue;
            }
            let Some(anchor) = anchor else { continue };
            let is_markdown = resolved.extension().is_some_and(|e| e == "md");
            if !is_markdown || !root.join(&resolved).is_file() {
                continue;
            }
            let known = anchors_of.entry(resolved.clone()).or_insert_with(|| {
                anchors(&std::fs::read_to_string(root.join(&resolved)).unwrap_or_default())
            });
            let anchor = percent_decoded(anchor);
            if !known.contains(&anchor) {
                problem(format!(
                    "no heading of {} has the anchor #{anchor}",
                    resolved.display()
                ));
            }
        }
    }
    problems
}

/// The repository's Markdown files, tracked or new (not ignored), relative to its root; without
/// git (an unpacked archive), every `.md` file below the root outside build output.
fn markdown_files(root: &Path) -> Vec<PathBuf> {
    let listed = Command::new("git")
        .args([
            "ls-files",
            "--cached",
            "--others",
            "--exclude-standard",
            "-z",
        ])
        .args(["--", "*.md"])
        .current_dir(root)
        .output()
        .ok()
        .filter(|out| out.status.success());
    let mut files: Vec<PathBuf> = match listed {
        Some(out) => String::from_utf8_lossy(&out.stdout)
            .split('\0')
            .filter(|f| !f.is_empty())
            .map(PathBuf::from)
            .collect(),
        None => {
            let mut found = Vec::new();
            walk(root, Path::new(""), &mut found);
            found
        }
    };
    files.sort();
    files.dedup();
    files
}

fn walk(root: &Path, dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = dir.join(&name);
        let skipped = name.starts_with('.')
            || matches!(
                name.as_str(),
                "target" | "artifacts" | "corpus" | "coverage"
            );
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            if !skipped {
                walk(root, &path, found);
            }
        } else if name.ends_with(".md") {
            found.push(path);
        }
    }
}

#[test]
fn every_link_in_the_repositorys_markdown_resolves_inside_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the repository");
    let files = markdown_files(root);
    assert!(
        files.iter().any(|f| f == Path::new("README.md")),
        "README.md is among the files checked: {files:?}"
    );
    assert!(
        files.iter().any(|f| f.starts_with("docs")),
        "the documents in docs/ are among the files checked: {files:?}"
    );
    let problems = check(root, &files);
    assert!(
        problems.is_empty(),
        "{} broken link(s):\n{}",
        problems.len(),
        problems
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn anchors_follow_githubs_rule() {
    assert_eq!(
        slug("Contract: the stored record"),
        "contract-the-stored-record"
    );
    assert_eq!(
        slug("### The enricher's credentials".trim_start_matches("### ")),
        "the-enrichers-credentials"
    );
    assert_eq!(
        slug("Registration test delivery: `hookline sign ... --url`"),
        "registration-test-delivery-hookline-sign----url"
    );
    assert_eq!(
        slug("Prices used (sourced, us-east-1, 2026-12-02)"),
        "prices-used-sourced-us-east-1-2026-12-02"
    );
    assert_eq!(slug("Über snake_case 2"), "über-snake_case-2");

    let doc = "# Notes\n## Notes\n## Notes ##\nSetext\n---\n\
               ## [Linked](x.md) heading\n```sh\n# not a heading\n```\n<a name=\"kept\"></a>\n";
    let found = anchors(doc);
    for expected in [
        "notes",
        "notes-1",
        "notes-2",
        "setext",
        "linked-heading",
        "kept",
    ] {
        assert!(found.contains(expected), "{expected} in {found:?}");
    }
    assert!(!found.contains("not-a-heading"), "{found:?}");
    assert!(!found.contains("notes-3"), "{found:?}");
}

#[test]
fn links_are_found_outside_code_only() {
    let doc = "See [the guide](docs/guide.md#set-up) and ![a chart](chart.png \"title\").\n\
               A link whose text [wraps\nonto the next line](CAPACITY.md).\n\
               `[in a code span](nowhere.md)` and ``[a longer `one`](nowhere.md)``.\n\
               ```text\n[in a fence](nowhere.md)\n```\n\
               ~~~\n[in a tilde fence](nowhere.md)\n~~~\n\
               [ref]: ../outside.md\n\
               [a task] and [text][ref] are not inline links; \\[escaped](nowhere.md).\n\
               [nested ![image](inner.png)](outer.md)\n";
    let found: Vec<(usize, String, String)> = links(doc)
        .into_iter()
        .map(|l| (l.line, l.text, l.target))
        .collect();
    let expected = [
        (1, "the guide", "docs/guide.md#set-up"),
        (1, "a chart", "chart.png"),
        (2, "wraps onto the next line", "CAPACITY.md"),
        (11, "ref", "../outside.md"),
        (13, "nested ![image](inner.png)", "outer.md"),
        (13, "image", "inner.png"),
    ]
    .map(|(line, text, target)| (line, text.to_string(), target.to_string()));
    assert_eq!(found, expected);
}

#[test]
fn broken_links_are_each_reported_with_the_reason() {
    let root = std::env::temp_dir().join(format!("hookline-docs-check-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("docs")).unwrap();
    std::fs::write(root.join("LICENSE"), "").unwrap();
    std::fs::write(
        root.join("docs/guide.md"),
        "# Guide\n## Set up\n## Set up\n[back](../README.md#usage)\n[up and out](../../x.md)\n",
    )
    .unwrap();
    std::fs::write(
        root.join("README.md"),
        "# Readme\n## Usage\n\
         [ok](docs/guide.md#set-up-1) [ok](#usage) [ok](LICENSE) [ok](docs/) [ok](/LICENSE)\n\
         [ok](https://example.com/missing.md) [ok](template.yaml#L1-missing-too)\n\
         [gone](docs/missing.md) [bad anchor](docs/guide.md#set-up-2) [self](#nowhere)\n\
         ```\n[fenced](missing.md)\n```\n",
    )
    .unwrap();
    std::fs::write(root.join("template.yaml"), "").unwrap();
    let files = vec![PathBuf::from("README.md"), PathBuf::from("docs/guide.md")];
    let reported: Vec<String> = check(&root, &files).iter().map(|p| p.to_string()).collect();
    std::fs::remove_dir_all(&root).unwrap();
    assert_eq!(
        reported,
        vec![
            "README.md:5: [gone](docs/missing.md): docs/missing.md does not exist",
            "README.md:5: [bad anchor](docs/guide.md#set-up-2): no heading of docs/guide.md has the anchor #set-up-2",
            "README.md:5: [self](#nowhere): no heading of README.md has the anchor #nowhere",
            "docs/guide.md:5: [up and out](../../x.md): leaves the repository",
        ]
    );
}
