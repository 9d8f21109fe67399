//! Browser entry point: hydrates the server-rendered page (with lazily loaded routes). Built for wasm32 only; on the host
//! it is empty (see Cargo.toml).

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(app::App);
}
