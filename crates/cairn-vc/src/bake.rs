//! Baking: credentials embedded in PNG (`iTXt`) and SVG badge images, and read back out.
