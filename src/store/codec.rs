//! Byte layouts of the records in [`super::tables`]. Fixed-width little-endian headers, then bytes;
//! the object bytes are JSON owned by the API layer and opaque here.

use bytes::Bytes;

use super::{ChangeKind, Event, KeyValue};

const HEADER: usize = 16;

/// An object record: `create_rev u64 | mod_rev u64 | value`.
pub fn encode_object(create_rev: u64, mod_rev: u64, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + value.len());
    out.extend_from_slice(&create_rev.to_le_bytes());
    out.extend_from_slice(&mod_rev.to_le_bytes());
    out.extend_from_slice(value);
    out
}

pub fn decode_object(key: &str, raw: &[u8]) -> Option<KeyValue> {
    let (create_rev, rest) = read_u64(raw)?;
    let (mod_rev, value) = read_u64(rest)?;
    Some(KeyValue {
        key: key.into(),
        value: Bytes::copy_from_slice(value),
        create_rev,
        mod_rev,
    })
}

/// A change record: `kind u8 | create_rev u64 | key_len u32 | key | value_len u32 | value |
/// has_prev u8 | [prev_mod_rev u64 | prev value]`. For a delete, `value` is empty and the last
/// state travels as `prev`.
pub fn encode_change(ev: &Event) -> Vec<u8> {
    let prev_len = ev.prev.as_ref().map_or(0, |p| 8 + p.value.len());
    let mut out = Vec::with_capacity(1 + 8 + 4 + ev.key.len() + 4 + ev.value.len() + 1 + prev_len);
    out.push(match ev.kind {
        ChangeKind::Put => 0,
        ChangeKind::Delete => 1,
    });
    out.extend_from_slice(&ev.create_rev.to_le_bytes());
    out.extend_from_slice(&(ev.key.len() as u32).to_le_bytes());
    out.extend_from_slice(ev.key.as_bytes());
    out.extend_from_slice(&(ev.value.len() as u32).to_le_bytes());
    out.extend_from_slice(&ev.value);
    match &ev.prev {
        None => out.push(0),
        Some(prev) => {
            out.push(1);
            out.extend_from_slice(&prev.mod_rev.to_le_bytes());
            out.extend_from_slice(&prev.value);
        }
    }
    out
}

pub fn decode_change(rev: u64, raw: &[u8]) -> Option<Event> {
    let (&kind, rest) = raw.split_first()?;
    let kind = match kind {
        0 => ChangeKind::Put,
        1 => ChangeKind::Delete,
        _ => return None,
    };
    let (create_rev, rest) = read_u64(rest)?;
    let (key, rest) = read_chunk(rest)?;
    let key: std::sync::Arc<str> = std::str::from_utf8(key).ok()?.into();
    let (value, rest) = read_chunk(rest)?;
    let (&has_prev, rest) = rest.split_first()?;
    let prev = if has_prev == 1 {
        let (prev_mod, prev_value) = read_u64(rest)?;
        Some(KeyValue {
            key: key.clone(),
            value: Bytes::copy_from_slice(prev_value),
            create_rev,
            mod_rev: prev_mod,
        })
    } else {
        None
    };
    Some(Event {
        kind,
        rev,
        key,
        value: Bytes::copy_from_slice(value),
        create_rev,
        prev,
    })
}

fn read_u64(raw: &[u8]) -> Option<(u64, &[u8])> {
    let (head, rest) = raw.split_at_checked(8)?;
    Some((u64::from_le_bytes(head.try_into().ok()?), rest))
}

fn read_chunk(raw: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = raw.split_at_checked(4)?;
    let len = u32::from_le_bytes(len.try_into().ok()?) as usize;
    rest.split_at_checked(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_round_trip_with_and_without_prev() {
        let put = Event {
            kind: ChangeKind::Put,
            rev: 7,
            key: "/registry/pods/default/web".into(),
            value: Bytes::from_static(b"{\"a\":1}"),
            create_rev: 3,
            prev: Some(KeyValue {
                key: "/registry/pods/default/web".into(),
                value: Bytes::from_static(b"{}"),
                create_rev: 3,
                mod_rev: 5,
            }),
        };
        assert_eq!(decode_change(7, &encode_change(&put)).unwrap(), put);
        let del = Event {
            kind: ChangeKind::Delete,
            prev: None,
            value: Bytes::new(),
            ..put
        };
        assert_eq!(decode_change(7, &encode_change(&del)).unwrap(), del);
        assert!(decode_change(1, &[9, 1, 2]).is_none());
        assert!(decode_object("k", &[1, 2, 3]).is_none());
    }
}
