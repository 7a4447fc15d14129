//! A crash-proof process pool: map, imap, starmap, apply_async and friends.
