//! Browser entry point: hydrates the server-rendered page (with lazily loaded routes). Built for wasm32 only; on the host
//! it is empty (see Cargo.toml).

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // A panic ends the module: log it as before, and tell the user to reload.
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        app::shell::show_fault(&info.to_string());
    }));
    leptos::mount::hydrate_lazy(app::App);
}

/// Room in the read-only data segment for `wasm-split` (cargo-leptos `--split`). It lays the
/// segment out again, each module's data together, and when that comes out even a few bytes
/// longer than the linker's layout it gives up and puts *all* of the program's data, every
/// lazily loaded screen's too, into the first module: 37 KB gzipped more, from a change that
/// left the layout 69 bytes over (session 26; the margin is usually 200 to 400 bytes). Nothing
/// references this array, so no module carries it; it only makes the segment longer.
#[cfg(target_arch = "wasm32")]
#[used]
static SPLIT_DATA_SLACK: [u8; 4096] = [0x5a; 4096];
