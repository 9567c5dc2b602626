//! The documentation holds together: every relative link in README.md,
//! `docs/*.md` and `events/README.md` names a file that exists, every
//! `#anchor` names a heading of the page it points to, and the README stays
//! short. Offline: it reads files and nothing else.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use hydrator_tests::workspace_root;

/// The README is the front page; the rest lives in `docs/`.
const README_MAX_LINES: usize = 200;

/// The pages checked: README.md, events/README.md and every `docs/*.md`.
pub(crate) fn pages(root: &Path) -> Vec<PathBuf> {
    let mut pages = vec![root.join("README.md"), root.join("events/README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ exists")
        .map(|entry| entry.expect("docs/ is readable").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// A Markdown link found on a page: its line and its target as written.
#[derive(Debug, PartialEq, Eq)]
struct Link {
    line: usize,
    target: String,
}

/// Tracks fenced code blocks (``` or ~~~, possibly indented in a list item):
/// nothing inside one is a link or a heading.
#[derive(Default)]
pub(crate) struct Fences {
    open: Option<(char, usize)>,
}

impl Fences {
    /// True when `line` is a fence or lies inside a fenced block.
    pub(crate) fn is_code(&mut self, line: &str) -> bool {
        let trimmed = line.trim_start();
        let fence = ['`', '~'].into_iter().find_map(|c| {
            let run = trimmed.chars().take_while(|&x| x == c).count();
            (run >= 3).then_some((c, run))
        });
        match (self.open, fence) {
            (None, Some(fence)) => {
                self.open = Some(fence);
                true
            }
            (Some((c, n)), Some((f, m))) if c == f && m >= n && trimmed[m..].trim().is_empty() => {
                self.open = None;
                true
            }
            (Some(_), _) => true,
            (None, None) => false,
        }
    }
}

/// `line` with each inline code span replaced by `code`, so that brackets
/// and parentheses inside backticks are not read as links.
fn without_code_spans(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '`' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let run = chars[i..].iter().take_while(|&&c| c == '`').count();
        // The closing run of the same length, if any.
        let mut j = i + run;
        let mut close = None;
        while j < chars.len() {
            if chars[j] == '`' {
                let r = chars[j..].iter().take_while(|&&c| c == '`').count();
                if r == run {
                    close = Some(j);
                    break;
                }
                j += r;
            } else {
                j += 1;
            }
        }
        match close {
            Some(j) => {
                out.push_str("code");
                i = j + run;
            }
            None => {
                out.extend(&chars[i..i + run]);
                i += run;
            }
        }
    }
    out
}

/// The index just past the bracket or parenthesis that closes the one at
/// `open`, counting nested pairs; a backslash-escaped one does not count.
fn closing(chars: &[char], open: usize, left: char, right: char) -> Option<usize> {
    let mut depth = 0;
    let mut i = open;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            c if c == left => depth += 1,
            c if c == right => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// A link target as Markdown reads it: `\\(` is `(`.
fn unescaped(target: &str) -> String {
    let mut out = String::new();
    let mut chars = target.chars().peekable();
    while let Some(c) = chars.next() {
        match chars.peek() {
            Some(&next) if c == '\\' && next.is_ascii_punctuation() => {}
            _ => out.push(c),
        }
    }
    out
}

/// The targets of the inline links and images `[text](target "title")` on
/// one line, and of a reference definition `[label]: target`.
fn links_in_line(line: &str) -> Vec<String> {
    let text = without_code_spans(line);
    let chars: Vec<char> = text.chars().collect();
    let mut targets = Vec::new();

    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        if let Some(end) = trimmed.find("]:") {
            if !trimmed[1..end].contains('[') {
                if let Some(target) = trimmed[end + 2..].split_whitespace().next() {
                    targets.push(target.to_string());
                }
            }
        }
    }

    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '[' || (i > 0 && chars[i - 1] == '\\') {
            i += 1;
            continue;
        }
        let Some(after_text) = closing(&chars, i, '[', ']') else {
            i += 1;
            continue;
        };
        if chars.get(after_text) != Some(&'(') {
            i += 1;
            continue;
        }
        let Some(after_target) = closing(&chars, after_text, '(', ')') else {
            i += 1;
            continue;
        };
        let inside: String = chars[after_text + 1..after_target - 1].iter().collect();
        let inside = inside.trim();
        let target = match inside.strip_prefix('<') {
            Some(rest) => rest.split('>').next().unwrap_or_default(),
            None => inside.split_whitespace().next().unwrap_or_default(),
        };
        targets.push(unescaped(target));
        // Text of the link may itself hold a link (an image in a link).
        i += 1;
    }
    targets
}

/// Every link on a page outside fenced code blocks.
fn links(markdown: &str) -> Vec<Link> {
    let mut fences = Fences::default();
    let mut found = Vec::new();
    for (n, line) in markdown.lines().enumerate() {
        if fences.is_code(line) {
            continue;
        }
        found.extend(links_in_line(line).into_iter().map(|target| Link {
            line: n + 1,
            target,
        }));
    }
    found
}

/// Heading text as it renders: link targets and emphasis markers are not part of it.
fn rendered(heading: &str) -> String {
    let chars: Vec<char> = heading.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == ']' && chars.get(i + 1) == Some(&'(') {
            if let Some(end) = closing(&chars, i + 1, '(', ')') {
                i = end;
                continue;
            }
        }
        if chars[i] != '[' {
            out.push(chars[i]);
        }
        i += 1;
    }
    out
}

/// GitHub's anchor for a heading: lowercase, punctuation other than `-` and
/// `_` dropped, each space a `-`.
fn slug(heading: &str) -> String {
    rendered(heading)
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a page's ATX headings (`#` to `######`), outside fenced
/// code; a repeated slug gets `-1`, `-2`, ... as on GitHub.
fn anchors(markdown: &str) -> HashSet<String> {
    let mut fences = Fences::default();
    let mut seen = HashSet::new();
    for line in markdown.lines() {
        if fences.is_code(line) {
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        let trimmed = line.trim_start_matches(' ');
        let level = trimmed.chars().take_while(|&c| c == '#').count();
        if indent > 3 || level == 0 || level > 6 {
            continue;
        }
        let rest = &trimmed[level..];
        if !(rest.is_empty() || rest.starts_with(' ')) {
            continue;
        }
        let text = rest.trim().trim_end_matches('#').trim_end();
        let base = slug(text);
        let mut anchor = base.clone();
        let mut n = 0;
        while seen.contains(&anchor) {
            n += 1;
            anchor = format!("{base}-{n}");
        }
        seen.insert(anchor);
    }
    seen
}

fn is_external(target: &str) -> bool {
    let lower = target.to_ascii_lowercase();
    ["http://", "https://", "mailto:"]
        .iter()
        .any(|scheme| lower.starts_with(scheme))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What is wrong with one link, if anything.
fn check_link(page: &Path, page_text: &str, target: &str) -> Result<(), String> {
    let (path, anchor) = match target.split_once('#') {
        Some((path, anchor)) => (path, Some(anchor)),
        None => (target, None),
    };
    if path.is_empty() && anchor.is_none() {
        return Err("an empty link target".into());
    }
    let file = if path.is_empty() {
        page.to_path_buf()
    } else {
        page.parent().expect("a page sits in a folder").join(path)
    };
    if !file.exists() {
        return Err(format!("{} does not exist", file.display()));
    }
    let Some(anchor) = anchor else {
        return Ok(());
    };
    let text = if path.is_empty() {
        page_text.to_string()
    } else if file.extension().is_some_and(|ext| ext == "md") {
        read(&file)
    } else {
        return Err(format!(
            "anchor #{anchor} on {}, which is not a Markdown page",
            file.display()
        ));
    };
    if anchors(&text).contains(anchor) {
        Ok(())
    } else {
        Err(format!(
            "{} has no heading whose anchor is #{anchor}",
            file.display()
        ))
    }
}

#[test]
fn every_link_in_the_docs_resolves() {
    let root = workspace_root();
    let mut broken = Vec::new();
    let (mut checked, mut with_anchor) = (0, 0);
    for page in pages(&root) {
        let text = read(&page);
        for link in links(&text) {
            if is_external(&link.target) {
                continue;
            }
            checked += 1;
            with_anchor += usize::from(link.target.contains('#'));
            if let Err(why) = check_link(&page, &text, &link.target) {
                let shown = page
                    .strip_prefix(&root)
                    .unwrap_or(&page)
                    .display()
                    .to_string();
                broken.push(format!("{shown}:{}: ({}) {why}", link.line, link.target));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    // The scanner found something to check, so a pass means something.
    assert!(checked >= 20, "only {checked} relative links found");
    assert!(
        with_anchor >= 2,
        "only {with_anchor} links with an anchor found"
    );
}

#[test]
fn the_readme_is_short() {
    let lines = read(&workspace_root().join("README.md")).lines().count();
    assert!(
        lines < README_MAX_LINES,
        "README.md has {lines} lines; it should have fewer than {README_MAX_LINES} (move detail into docs/)"
    );
}

#[test]
fn the_scanner_reads_links_as_github_does() {
    let page = "\
# The `invokeIdentityArn` (Kinesis)
See [a](one.md), ![b](img/two.png \"title\") and [`c`](../three.md#when-it-fires).
An escaped \\[bracket](not-a-link.md), a [\\] bracket](b\\(1\\).md).
Not `[code](inline.md)`, and no [link] (here.md).
[label]: defined.md

```sh
[inside](a-fence.md)
# not a heading
```
  ```json
  [indented](fence.md)
  ```
## Faults, tested
## Faults, tested
### [Linked](x.md) heading_with_underscore
";
    let targets: Vec<String> = links(page).into_iter().map(|l| l.target).collect();
    assert_eq!(
        targets,
        [
            "one.md",
            "img/two.png",
            "../three.md#when-it-fires",
            "b(1).md",
            "defined.md",
            "x.md"
        ]
    );
    let expected: HashSet<String> = [
        "the-invokeidentityarn-kinesis",
        "faults-tested",
        "faults-tested-1",
        "linked-heading_with_underscore",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(anchors(page), expected);
    assert_eq!(slug("When the DLQ alarm fires"), "when-the-dlq-alarm-fires");
    assert_eq!(
        slug("Hostile input: what is bounded, and how it is tested"),
        "hostile-input-what-is-bounded-and-how-it-is-tested"
    );
}
