//! When the page's code fails for good, say so and offer a reload. A panic aborts the WASM
//! module: the page still looks alive but no button, link or live update works any more.
//! The likeliest cause is a part whose code loads on first use (a `#[lazy]` dialog, a module's
//! screen) failing to load: the network, or a redeploy that retired the files this page was
//! built with (`server/src/assets.rs`); that case says Xietong may have been updated.

/// What `wasm_split` panics with when a part's code cannot be fetched or instantiated.
#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
const CHUNK_FAILED: &str = "load callback should succeed";

/// Puts a banner with a Reload link at the foot of the page, once. Plain DOM calls and no
/// reactive state: it runs inside the panic hook, where the reactive system may be mid-update.
#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
pub fn show_fault(panic_message: &str) {
    let _ = try_show(panic_message.contains(CHUNK_FAILED));
}

#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
fn try_show(part_failed: bool) -> Option<()> {
    let window = web_sys::window()?;
    let document = window.document()?;
    if document.get_element_by_id("page-fault").is_some() {
        return Some(());
    }
    // The page's language from `<html lang>` itself, not through the framework's state.
    let t = crate::i18n::Texts::of(crate::i18n::written_language(&document));
    let banner = document.create_element("div").ok()?;
    banner.set_id("page-fault");
    banner.set_class_name("page-fault");
    banner.set_attribute("role", "alert").ok()?;
    let text = document.create_element("span").ok()?;
    text.set_text_content(Some(if part_failed {
        t.part_failed
    } else {
        t.page_failed
    }));
    // A plain link, which works without any of the page's code. `rel="external"` keeps the
    // router's click handler (still attached, in a module left in an unknown state) off it.
    // No `#fragment`: a link to the same URL with one would only scroll.
    let location = window.location();
    let here = format!(
        "{}{}{}",
        location.origin().ok()?,
        location.pathname().ok()?,
        location.search().ok()?
    );
    let reload = document.create_element("a").ok()?;
    reload.set_attribute("href", &here).ok()?;
    reload.set_attribute("rel", "external").ok()?;
    reload.set_text_content(Some(t.reload));
    banner.append_child(&text).ok()?;
    banner.append_child(&reload).ok()?;
    document.body()?.append_child(&banner).ok()?;
    Some(())
}
