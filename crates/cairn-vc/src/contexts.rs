//! The JSON-LD contexts Cairn understands, bundled and pinned; never fetched.
