//! The small pieces every download is made of: CSV cells (the chat export, transcripts) and
//! subtitle cues (recordings' WebVTT track, transcripts' SRT and WebVTT).

/// A CSV cell. Text a spreadsheet would run as a formula (leading `=`, `+`, `-`, `@`, tab or
/// carriage return: OWASP's CSV injection list) gets a leading `'`, so it shows as text.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// A cue time `HH:MM:SS{sep}mmm` of an offset in milliseconds (`.` for WebVTT, `,` for SRT).
pub fn cue_time(ms: i64, sep: char) -> String {
    let ms = ms.max(0);
    format!("{:02}:{:02}:{:02}{sep}{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
}

/// SRT cue text: one line, no `-->`.
pub fn srt_text(s: &str) -> String {
    s.replace(['\r', '\n'], " ").replace("-->", "->")
}

/// WebVTT cue text: one line, `&`, `<` and `>` escaped (so no `-->` either).
pub fn vtt_text(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_and_cues() {
        assert_eq!(csv_field("=1+1"), "'=1+1");
        assert_eq!(csv_field("a,\"b\""), "\"a,\"\"b\"\"\"");
        assert_eq!(cue_time(3_723_004, '.'), "01:02:03.004");
        assert_eq!(cue_time(61_000, ','), "00:01:01,000");
        assert_eq!(srt_text("line\nbreak --> x"), "line break -> x");
        assert_eq!(vtt_text("a --> <b>&\nc"), "a --&gt; &lt;b&gt;&amp; c");
    }
}
