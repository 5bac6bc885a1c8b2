//! Fuzzes the Genfile parser and validator: any bytes must give a schema
//! or located diagnostics, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::path::Path::new("fuzz.toml");
    if let Err(d) = datagen::genfile::parse(path, data) {
        let text = d.to_string();
        assert!(text.starts_with("fuzz.toml"), "unlocated: {text}");
        assert!(!d.items.is_empty());
    }
});
