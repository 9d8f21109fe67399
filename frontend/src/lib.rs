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
