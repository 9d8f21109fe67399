//! "Import people" on the admin page: pick a CSV or Excel file, read the server's preview (each
//! row with its problems, the departments it would make), then import every row or none. The
//! new accounts' initial passwords are shown once, with a CSV to hand them out.

use leptos::prelude::*;
use xietong::org::{ImportPreview, ImportedPerson};

use crate::transfer::{post_file, PickedFile};
use crate::AppError;

#[component]
pub fn ImportPeople() -> impl IntoView {
    let t = crate::i18n::office();
    // A browser `File` is not `Send`, so the browser keeps it locally; on the server (which only
    // renders, and may drop the page on another thread than made it) it is `()`, kept in the
    // ordinary storage: a local value dropped on another thread panicked `/admin`'s rendering.
    #[cfg(feature = "hydrate")]
    let file = StoredValue::new_local(None::<PickedFile>);
    #[cfg(not(feature = "hydrate"))]
    let file = StoredValue::new(None::<PickedFile>);
    let preview = RwSignal::new(None::<ImportPreview>);
    let imported = RwSignal::new(None::<Vec<ImportedPerson>>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let fail = move |e: AppError| {
        busy.set(false);
        error.set(Some(e.text(t)));
    };
    let on_pick = move |ev: leptos::ev::Event| {
        let Some(picked) = crate::transfer::picked(&ev).pop() else {
            return;
        };
        #[allow(clippy::clone_on_copy, clippy::unit_arg)]
        // a `File` in the browser, `()` on the server
        file.set_value(Some(picked.clone()));
        preview.set(None);
        imported.set(None);
        error.set(None);
        busy.set(true);
        leptos::task::spawn_local(async move {
            match post_file::<ImportPreview>("/admin/import/preview", &picked).await {
                Ok(p) => {
                    busy.set(false);
                    preview.set(Some(p));
                }
                Err(e) => fail(e),
            }
        });
    };
    let import = move |_| {
        let Some(picked) = file.get_value() else {
            return;
        };
        busy.set(true);
        error.set(None);
        let url = format!(
            "/admin/import/apply?client_id={}",
            crate::live::new_client_id().0
        );
        leptos::task::spawn_local(async move {
            match post_file::<Vec<ImportedPerson>>(&url, &picked).await {
                Ok(people) => {
                    busy.set(false);
                    preview.set(None);
                    imported.set(Some(people));
                }
                Err(e) => fail(e),
            }
        });
    };
    let ready = move || {
        preview.with(|p| {
            p.as_ref()
                .map_or(0, |p| if p.bad_rows() == 0 { p.rows.len() } else { 0 })
        })
    };
    view! {
        <section class="admin-section" aria-labelledby="import-title">
            <h2 id="import-title">{t.import_people}</h2>
            <p class="hint">{t.import_hint}</p>
            <label>
                {t.import_file}
                <input type="file" accept=".csv,.xlsx,.xls,text/csv" on:change=on_pick />
            </label>
            <Show when=move || busy.get()>
                <p class="loading" role="status">{t.loading}</p>
            </Show>
            <Show when=move || error.get().is_some()>
                <p role="alert" class="error">{move || error.get()}</p>
            </Show>
            {move || preview.get().map(|p| view! { <PreviewTable preview=p /> })}
            <Show when=move || { ready() > 0 }>
                <button type="button" disabled=move || busy.get() on:click=import>
                    {move || (t.import_n_people)(ready())}
                </button>
            </Show>
            {move || imported.get().map(|people| view! { <Imported people /> })}
        </section>
    }
    .into_any()
}

#[component]
fn PreviewTable(preview: ImportPreview) -> impl IntoView {
    let t = crate::i18n::office();
    let bad = preview.bad_rows();
    let summary = (t.import_summary)(preview.rows.len(), bad);
    let new_departments = preview.new_departments.join(", ");
    view! {
        <p class={if bad > 0 { "error" } else { "hint" }} role={if bad > 0 { "alert" } else { "status" }}>
            {summary}
        </p>
        <Show when={
            let none = new_departments.is_empty();
            move || !none
        }>
            <p class="hint">{t.import_new_departments}" "{new_departments.clone()}</p>
        </Show>
        <table class="import-preview" aria-label=t.import_preview>
            <thead>
                <tr>
                    <th scope="col">{t.row}</th>
                    <th scope="col">{t.full_name}</th>
                    <th scope="col">{t.username}</th>
                    <th scope="col">{t.department}</th>
                    <th scope="col">{t.job_title}</th>
                    <th scope="col">{t.mobile}</th>
                    <th scope="col">{t.email}</th>
                    <th scope="col">{t.problems}</th>
                </tr>
            </thead>
            <tbody>
                {preview
                    .rows
                    .into_iter()
                    .map(|check| {
                        let class = if check.errors.is_empty() { "" } else { "bad-row" };
                        view! {
                            <tr class=class>
                                <td>{check.line}</td>
                                <td>{check.row.full_name}</td>
                                <td>{check.row.username}</td>
                                <td>{check.row.department}</td>
                                <td>{check.row.title}</td>
                                <td>{check.row.mobile}</td>
                                <td>{check.row.email}</td>
                                <td class="error">{check.errors.join("; ")}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn Imported(people: Vec<ImportedPerson>) -> impl IntoView {
    let t = crate::i18n::office();
    let csv = passwords_csv(&people);
    let href = format!(
        "data:text/csv;charset=utf-8,{}",
        xietong::files::percent_encode(&csv)
    );
    view! {
        <p role="status" class="hint">{(t.imported_n_people)(people.len())}</p>
        <table class="imported" aria-label=t.imported_people>
            <thead>
                <tr>
                    <th scope="col">{t.username}</th>
                    <th scope="col">{t.full_name}</th>
                    <th scope="col">{t.initial_password}</th>
                </tr>
            </thead>
            <tbody>
                {people
                    .into_iter()
                    .map(|p| view! {
                        <tr>
                            <td>{p.username}</td>
                            <td>{p.full_name}</td>
                            <td><code>{p.password}</code></td>
                        </tr>
                    })
                    .collect_view()}
            </tbody>
        </table>
        <a href=href download="passwords.csv">{t.download_passwords}</a>
    }
    .into_any()
}

/// The initial passwords as a CSV (with a byte-order mark, so Excel reads the names right).
fn passwords_csv(people: &[ImportedPerson]) -> String {
    let field = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    let mut out = String::from("\u{feff}username,name,password\r\n");
    for p in people {
        out.push_str(&format!(
            "{},{},{}\r\n",
            field(&p.username),
            field(&p.full_name),
            field(&p.password)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_passwords_file_quotes_what_needs_it() {
        let csv = passwords_csv(&[ImportedPerson {
            username: "zw".into(),
            full_name: "张, \"伟\"".into(),
            password: "abc".into(),
        }]);
        assert_eq!(
            csv,
            "\u{feff}username,name,password\r\nzw,\"张, \"\"伟\"\"\",abc\r\n"
        );
    }
}
