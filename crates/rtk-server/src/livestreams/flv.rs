//! FLV framing for HTTP-FLV playback: the file header and tags, each encoded once per tag and
//! shared by every viewer. An RTMP audio or video message body is an FLV tag body as is.

use bytes::{BufMut, Bytes, BytesMut};

pub const AUDIO: u8 = 8;
pub const VIDEO: u8 = 9;
pub const SCRIPT: u8 = 18;

/// FLV codec ids rtk passes through: H.264 video; AAC or MP3 audio.
pub const VIDEO_AVC: u8 = 7;
pub const AUDIO_MP3: u8 = 2;
pub const AUDIO_AAC: u8 = 10;

/// The FLV file header (audio and video present) and the first, zero, previous-tag size.
pub fn header() -> Bytes {
    Bytes::from_static(&[b'F', b'L', b'V', 1, 0x05, 0, 0, 0, 9, 0, 0, 0, 0])
}

/// One FLV tag of `kind` at `ts` (ms) carrying `body`, followed by its previous-tag size.
pub fn tag(kind: u8, ts: u32, body: &[u8]) -> Bytes {
    let len = body.len().min(0x00ff_ffff);
    let mut b = BytesMut::with_capacity(11 + len + 4);
    b.put_u8(kind);
    b.put_uint(len as u64, 3);
    b.put_uint(u64::from(ts & 0x00ff_ffff), 3);
    b.put_u8((ts >> 24) as u8);
    b.put_uint(0, 3);
    b.put_slice(&body[..len]);
    b.put_u32((11 + len) as u32);
    b.freeze()
}

/// What an audio or video tag body says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// The FLV codec id (video: low nibble of the first byte; audio: high nibble).
    pub codec: u8,
    /// A video keyframe.
    pub keyframe: bool,
    /// A codec configuration record (AVC decoder configuration, AAC AudioSpecificConfig): a
    /// player needs it before any frame.
    pub sequence_header: bool,
}

pub fn video_kind(body: &[u8]) -> Option<Kind> {
    let first = *body.first()?;
    let codec = first & 0x0f;
    Some(Kind {
        codec,
        keyframe: first >> 4 == 1,
        sequence_header: codec == VIDEO_AVC && body.get(1) == Some(&0),
    })
}

pub fn audio_kind(body: &[u8]) -> Option<Kind> {
    let first = *body.first()?;
    let codec = first >> 4;
    Some(Kind { codec, keyframe: false, sequence_header: codec == AUDIO_AAC && body.get(1) == Some(&0) })
}

/// An `onMetaData` script tag body from what the publisher declared.
pub fn metadata(m: &rml_rtmp::sessions::StreamMetadata) -> Option<Vec<u8>> {
    use rml_amf0::Amf0Value as V;
    let mut props = std::collections::HashMap::new();
    let mut num = |k: &str, v: Option<f64>| {
        if let Some(v) = v {
            props.insert(k.to_string(), V::Number(v));
        }
    };
    num("width", m.video_width.map(f64::from));
    num("height", m.video_height.map(f64::from));
    num("framerate", m.video_frame_rate.map(f64::from));
    num("videocodecid", m.video_codec_id.map(f64::from));
    num("videodatarate", m.video_bitrate_kbps.map(f64::from));
    num("audiocodecid", m.audio_codec_id.map(f64::from));
    num("audiodatarate", m.audio_bitrate_kbps.map(f64::from));
    num("audiosamplerate", m.audio_sample_rate.map(f64::from));
    num("audiochannels", m.audio_channels.map(f64::from));
    if let Some(st) = m.audio_is_stereo {
        props.insert("stereo".into(), V::Boolean(st));
    }
    if let Some(e) = &m.encoder {
        props.insert("encoder".into(), V::Utf8String(e.clone()));
    }
    rml_amf0::serialize(&vec![V::Utf8String("onMetaData".into()), V::Object(props)]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_is_framed_with_its_sizes_and_timestamp() {
        let t = tag(VIDEO, 0x0102_0304, &[0x17, 0, 1, 2]);
        assert_eq!(t.len(), 11 + 4 + 4);
        assert_eq!(t[0], VIDEO);
        assert_eq!(&t[1..4], &[0, 0, 4]);
        // Lower 24 bits, then the extension byte.
        assert_eq!(&t[4..7], &[0x02, 0x03, 0x04]);
        assert_eq!(t[7], 0x01);
        assert_eq!(&t[8..11], &[0, 0, 0]);
        assert_eq!(&t[11..15], &[0x17, 0, 1, 2]);
        assert_eq!(&t[15..], &15u32.to_be_bytes());
    }

    #[test]
    fn kinds_read_codec_keyframe_and_configuration() {
        assert_eq!(
            video_kind(&[0x17, 0]),
            Some(Kind { codec: VIDEO_AVC, keyframe: true, sequence_header: true })
        );
        assert_eq!(
            video_kind(&[0x27, 1]),
            Some(Kind { codec: VIDEO_AVC, keyframe: false, sequence_header: false })
        );
        assert_eq!(video_kind(&[0x12]).map(|k| k.codec), Some(2));
        assert_eq!(audio_kind(&[0xaf, 0]).map(|k| (k.codec, k.sequence_header)), Some((AUDIO_AAC, true)));
        assert_eq!(audio_kind(&[0xaf, 1]).map(|k| k.sequence_header), Some(false));
        assert_eq!(audio_kind(&[]), None);
    }

    #[test]
    fn the_header_announces_audio_and_video() {
        let h = header();
        assert_eq!(&h[..3], b"FLV");
        assert_eq!(h[4], 0x05);
        assert_eq!(h.len(), 13);
    }
}
