//! "My contacts" (个人通讯簿) on the address book page: the user's own people from outside the
//! organisation, in groups of their own — add, edit, delete, group, import a vCard file, and
//! export as vCard or CSV. Live from the user's own scope: every tab of theirs follows.

use leptos::prelude::*;
use xietong::contacts::{
    Contact, ContactFields, CreateContactGroup, MyContacts, RemoveContact, SaveContact,
};
use xietong::{Command, ContactGroupId, ContactId, Seq};

use crate::command::command_action;
use crate::live::Live;
use crate::AppError;

#[server(prefix = "/api", endpoint = "my_contacts", output = crate::codec::TextJson)]
pub async fn load_my_contacts() -> Result<MyContacts, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?.my_contacts(&user).await
}

/// One's contacts as this tab knows them: a snapshot plus the user-scope events since.
pub type ContactsView = crate::live::Mine<MyContacts>;

impl crate::live::MyState for MyContacts {
    type Event = xietong::contacts::ContactsEvent;

    fn head(&self) -> Seq {
        self.head
    }

    fn head_mut(&mut self) -> &mut Seq {
        &mut self.head
    }

    fn apply_event(&mut self, body: &Self::Event) {
        self.apply(body);
    }
}

type CommandAction = Action<Command, Result<xietong::CommandOutput, AppError>>;

/// Loaded when the user opens "My contacts" (not in the page the server renders).
#[component]
pub fn MyContactsSection() -> impl IntoView {
    let t = crate::i18n::office();
    let open = RwSignal::new(false);
    view! {
        <section class="my-contacts" aria-labelledby="my-contacts-title">
            <h2 id="my-contacts-title">
                <button type="button" aria-expanded=move || open.get().to_string()
                    on:click=move |_| open.update(|o| *o = !*o)>{t.my_contacts}</button>
            </h2>
            <crate::shell::OnDemand open load=move || async move {
                match load_my_contacts().await {
                    Ok(found) => {
                        let view = expect_context::<Live>().keep_mine(found, load_my_contacts);
                        view! { <ContactsScreen view /> }.into_any()
                    }
                    Err(e) => view! { <p role="alert" class="error">{e.text(t)}</p> }.into_any(),
                }
            } />
        </section>
    }
    .into_any()
}

#[component]
fn ContactsScreen(view: RwSignal<ContactsView>) -> impl IntoView {
    let t = crate::i18n::office();
    let action = command_action();
    let editing = RwSignal::new(None::<Option<ContactId>>);
    let import_error = RwSignal::new(None::<String>);
    let imported = RwSignal::new(None::<usize>);
    let error =
        move || crate::error::failure_text(t, action.value().get()).or_else(|| import_error.get());
    let on_import = move |ev: leptos::ev::Event| {
        let Some(picked) = crate::transfer::picked(&ev).pop() else {
            return;
        };
        import_error.set(None);
        imported.set(None);
        let url = format!(
            "/contacts/mine/import?client_id={}",
            crate::live::new_client_id().0
        );
        leptos::task::spawn_local(async move {
            match crate::transfer::post_file::<xietong::CommandOutput>(&url, &picked).await {
                Ok(xietong::CommandOutput::ContactsImported { contacts }) => {
                    imported.set(Some(contacts.len()))
                }
                Ok(_) => {}
                Err(e) => import_error.set(Some(e.text(t))),
            }
        });
    };
    let group_name = RwSignal::new(String::new());
    let new_group = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(Command::CreateContactGroup(CreateContactGroup {
            name: group_name.get_untracked(),
        }));
        group_name.set(String::new());
    };
    let contacts = move || view.with(|v| v.0.contacts.clone());
    view! {
        <div class="toolbar">
            <button type="button" on:click=move |_| editing.set(Some(None))>{t.new_contact}</button>
            <label class="upload-button">
                {t.import_vcard}
                <input type="file" accept=".vcf,text/vcard,text/x-vcard" on:change=on_import />
            </label>
            <a href="/contacts/mine/vcard" download="my-contacts.vcf" rel="external">{t.export_vcard}</a>
            <a href="/contacts/mine/csv" download="my-contacts.csv" rel="external">{t.export_csv}</a>
        </div>
        <form class="inline-form" on:submit=new_group>
            <label>
                {t.group_name}
                <input type="text" required maxlength="100" prop:value=move || group_name.get()
                    on:input=move |ev| group_name.set(event_target_value(&ev)) />
            </label>
            <button type="submit">{t.new_group}</button>
        </form>
        <Show when=move || error().is_some()>
            <p role="alert" class="error">{error}</p>
        </Show>
        <Show when=move || imported.get().is_some()>
            <p role="status">{move || (t.contacts_imported)(imported.get().unwrap_or(0))}</p>
        </Show>
        <Show when=move || editing.get().is_some()>
            <ContactForm view editing action />
        </Show>
        <table class="people-table" aria-label=t.my_contacts>
            <thead>
                <tr>
                    <th scope="col">{t.name}</th>
                    <th scope="col">{t.company}</th>
                    <th scope="col">{t.job_title}</th>
                    <th scope="col">{t.mobile}</th>
                    <th scope="col">{t.email}</th>
                    <th scope="col">{t.group}</th>
                    <th scope="col"></th>
                </tr>
            </thead>
            <tbody>
                <For each=contacts key=|c| c.clone() let(contact)>
                    <ContactRow contact view editing action />
                </For>
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn ContactRow(
    contact: Contact,
    view: RwSignal<ContactsView>,
    editing: RwSignal<Option<Option<ContactId>>>,
    action: CommandAction,
) -> impl IntoView {
    let t = crate::i18n::office();
    let id = contact.id;
    let f = contact.fields;
    let group = f.group.and_then(|g| {
        view.with_untracked(|v| {
            v.0.groups
                .iter()
                .find(|x| x.id == g)
                .map(|x| x.name.clone())
        })
    });
    view! {
        <tr>
            <td>{f.name.clone()}</td>
            <td>{f.company.clone()}</td>
            <td>{f.title.clone()}</td>
            <td>{f.mobile.clone()}</td>
            <td>{f.email.clone()}</td>
            <td>{group.unwrap_or_default()}</td>
            <td class="actions">
                <button type="button" aria-label=(t.edit_named)(&f.name)
                    on:click=move |_| editing.set(Some(Some(id)))>{t.edit}</button>
                <button type="button" aria-label=(t.delete_named)(&f.name) on:click=move |_| {
                    action.dispatch(Command::RemoveContact(RemoveContact { contact: id }));
                }>{t.delete}</button>
            </td>
        </tr>
    }
    .into_any()
}

/// The form of a new contact (`editing: Some(None)`) or of one being edited.
#[component]
fn ContactForm(
    view: RwSignal<ContactsView>,
    editing: RwSignal<Option<Option<ContactId>>>,
    action: CommandAction,
) -> impl IntoView {
    let t = crate::i18n::office();
    let id = editing.get_untracked().flatten();
    let start = id
        .and_then(|id| {
            view.with_untracked(|v| {
                v.0.contacts
                    .iter()
                    .find(|c| c.id == id)
                    .map(|c| c.fields.clone())
            })
        })
        .unwrap_or_default();
    let fields = RwSignal::new(start);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(Command::SaveContact(SaveContact {
            contact: id,
            fields: fields.get_untracked(),
        }));
        editing.set(None);
    };
    let text = move |label: &'static str,
                     get: fn(&ContactFields) -> &String,
                     set: fn(&mut ContactFields, String)| {
        view! {
            <label>
                {label}
                <input type="text" maxlength="1000" prop:value=move || fields.with(|f| get(f).clone())
                    on:input=move |ev| fields.update(|f| set(f, event_target_value(&ev))) />
            </label>
        }
    };
    let groups = move || view.with(|v| v.0.groups.clone());
    view! {
        <form class="contact-form" aria-label=t.contact on:submit=save>
            {text(t.name, |f| &f.name, |f, v| f.name = v)}
            {text(t.company, |f| &f.company, |f, v| f.company = v)}
            {text(t.job_title, |f| &f.title, |f, v| f.title = v)}
            {text(t.mobile, |f| &f.mobile, |f, v| f.mobile = v)}
            {text(t.email, |f| &f.email, |f, v| f.email = v)}
            {text(t.note, |f| &f.note, |f, v| f.note = v)}
            <label>
                {t.group}
                <select on:change=move |ev| {
                    let group = event_target_value(&ev).parse::<i64>().ok().map(ContactGroupId);
                    fields.update(|f| f.group = group);
                }>
                    <option value="" selected=move || fields.with(|f| f.group.is_none())>{t.no_group}</option>
                    <For each=groups key=|g| g.clone() let(group)>
                        <option value=group.id.to_string()
                            selected=move || fields.with(|f| f.group == Some(group.id))>{group.name.clone()}</option>
                    </For>
                </select>
            </label>
            <button type="submit">{t.save}</button>
            <button type="button" on:click=move |_| editing.set(None)>{t.cancel}</button>
        </form>
    }
    .into_any()
}
