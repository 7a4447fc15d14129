//! Lengths in postcard's encoding, for items that claim more than they hold.

/// The postcard encoding of a sequence length: a LEB128 varint. Followed by nothing, it makes
/// an item that claims `n` elements.
///
/// ```
/// use multiproc_test_support::postcard_varint;
/// assert_eq!(postcard_varint(5), [5]);
/// assert_eq!(postcard_varint(300), [0xac, 0x02]);
/// assert_eq!(postcard_varint(1 << 60).len(), 9);
/// ```
pub fn postcard_varint(mut n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}
