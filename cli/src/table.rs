//! The plain-text table every verb prints for a person (`--json` is for programs): a heading,
//! columns padded to their widest cell, the last column unpadded.

/// The table as lines, each ending in a newline.
pub fn render<const N: usize, S: AsRef<str>>(heading: [&str; N], rows: &[[S; N]]) -> String {
    // Padding counts characters, so widths do too.
    let mut widths = heading.map(|h| h.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.as_ref().chars().count());
        }
    }
    let mut text = String::new();
    let lines = std::iter::once(heading.map(str::to_string)).chain(
        rows.iter()
            .map(|row| row.each_ref().map(|c| c.as_ref().to_string())),
    );
    for row in lines {
        for (index, cell) in row.iter().enumerate() {
            if index + 1 == N {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  ", width = widths[index]));
            }
        }
        text.push('\n');
    }
    text
}

pub fn print<const N: usize, S: AsRef<str>>(heading: [&str; N], rows: &[[S; N]]) {
    print!("{}", render(heading, rows));
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_are_as_wide_as_their_widest_cell() {
        let rows = [["argyle", "é-1", "x"], ["baack", "identity", "y"]];
        assert_eq!(
            super::render(["PROVIDER", "ID", "URL"], &rows),
            "PROVIDER  ID        URL\nargyle    é-1       x\nbaack     identity  y\n"
        );
    }
}
